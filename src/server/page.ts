import { createHash } from "node:crypto";
import { placeLabels, regionColour, textColourOn } from "../app/region-labels.js";

/**
 * The web app's one page: HTML, CSS and script in one document, nothing fetched from elsewhere.
 * The script builds every element with DOM calls (never innerHTML), so captions, phrases and file
 * names from the server are shown as text. It talks to the routes of app-server.ts:
 * GET /api/info, POST /api/describe (the image file as the body), GET /api/search?q=&k=,
 * GET /api/images?offset=&limit=, GET /thumbnail?image=KEY[&size=large].
 */

/** Colours of regions (regionColour): 20 regions (the paper's count) never share a colour. */
export const REGION_COLOURS: readonly string[] = Array.from({ length: 24 }, (_, i) =>
  regionColour(i),
);

const PALETTE_CSS = REGION_COLOURS.map(
  (c, i) =>
    `.c${i} { stroke: ${c}; } mark.c${i}, .swatch.c${i} { background: ${c}; } .tag.c${i} { background: ${c}; color: ${textColourOn(c)}; }`,
).join("\n");

const STYLE = `
:root { color-scheme: dark; }
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; background: #1b1b1f; color: #e4e4e7; margin: 0; }
header { padding: 16px 24px 4px; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 17px; margin: 0 0 10px; }
#about { color: #a1a1aa; font-size: 13px; margin: 4px 0 0; overflow-wrap: anywhere; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(440px, 100%), 1fr));
  gap: 24px; padding: 16px 24px 32px; }
section { background: #26262b; border-radius: 8px; padding: 16px; min-width: 0; }
:focus-visible { outline: 3px solid #fbbf24; outline-offset: 2px; }
.drop:has(:focus-visible) { outline: 3px solid #fbbf24; outline-offset: 2px; }
.drop { display: block; border: 2px dashed #52525b; border-radius: 8px; padding: 22px;
  text-align: center; color: #a1a1aa; cursor: pointer; }
.drop.over { border-color: #4dabf7; color: #e4e4e7; }
.link { color: #4dabf7; text-decoration: underline; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
.status { color: #a1a1aa; font-size: 13px; min-height: 1em; }
.error { background: #4c1d1d; border: 1px solid #f87171; color: #fecaca; border-radius: 6px;
  padding: 8px 12px; overflow-wrap: anywhere; }
.stage { position: relative; display: inline-block; line-height: 0; max-width: 100%; }
.stage img { max-width: 100%; max-height: 480px; background: #000; }
.stage svg { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
rect.box { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; stroke-opacity: 0.75; }
rect.box.fallback { stroke-dasharray: 5 3; }
rect.box.on { stroke-width: 4; stroke-opacity: 1; }
rect.box.off { stroke-opacity: 0.15; }
/* Region labels over the photo, placed by placeLabels so that none overlaps another. */
.tags { position: absolute; inset: 0; pointer-events: none; line-height: 1.3; overflow: hidden; }
.tag { position: absolute; left: 0; top: 0; font-size: 12px; padding: 0 4px; border-radius: 3px;
  white-space: nowrap; max-width: 45%; overflow: hidden; text-overflow: ellipsis; }
.not-shown { color: #71717a; }
.caption { font-size: 20px; font-weight: 600; margin: 12px 0 6px; }
#regions { font-size: 14px; padding-left: 28px; margin: 0; columns: 2 200px; }
#regions li { cursor: default; padding: 1px 0; break-inside: avoid; }
#regions li:hover { color: #fff; }
/* A phrase stays on one line; one longer than its column is cut with an ellipsis (title: all of it). */
.phrase { display: inline-block; max-width: calc(100% - 16px); white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; }
.meta { color: #a1a1aa; font-size: 12px; overflow-wrap: anywhere; }
form { display: flex; gap: 8px; }
input[type=search] { flex: 1; min-width: 0; font: inherit; padding: 8px 10px; border-radius: 6px;
  border: 1px solid #52525b; background: #18181b; color: inherit; }
button { font: inherit; padding: 8px 16px; border-radius: 6px; border: 0; background: #2563eb;
  color: #fff; cursor: pointer; }
button:disabled { background: #3f3f46; cursor: default; }
.hits { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(200px, 40%), 1fr));
  gap: 16px; margin-top: 12px; }
.hit { min-width: 0; }
.hit .open { display: inline-block; padding: 0; border: 0; background: none; border-radius: 0;
  vertical-align: top; cursor: zoom-in; }
.hit p { margin: 6px 0 0; font-size: 14px; line-height: 1.6; }
.more { margin-top: 16px; background: #3f3f46; }
mark { color: #111; border-radius: 3px; padding: 1px 3px; -webkit-box-decoration-break: clone;
  box-decoration-break: clone; }
${PALETTE_CSS}
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; }
dialog { background: #26262b; color: inherit; border: 1px solid #52525b; border-radius: 8px;
  padding: 16px; max-width: min(1000px, calc(100vw - 24px)); max-height: calc(100vh - 24px); }
dialog::backdrop { background: rgba(0, 0, 0, 0.75); }
dialog .stage img { max-height: calc(100vh - 220px); }
dialog .bar { display: flex; justify-content: space-between; align-items: center; gap: 12px;
  margin-bottom: 10px; }
dialog .bar button { padding: 4px 12px; background: #3f3f46; }
#viewer-sentence { font-size: 15px; line-height: 1.7; margin: 10px 0 0; }
@media (max-width: 600px) {
  header { padding: 12px 12px 2px; }
  main { padding: 12px 12px 24px; gap: 16px; }
  section { padding: 12px; }
  .drop { padding: 16px 10px; }
  .hits { gap: 10px; }
  .tag { font-size: 11px; padding: 0 3px; }
}
`;

const SCRIPT = `
"use strict";
const COLOURS = ${REGION_COLOURS.length};
const PAGE = 12;
const SVG_NS = "http://www.w3.org/2000/svg";
const byId = (id) => document.getElementById(id);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function showError(id, message) {
  const p = byId(id);
  p.textContent = message;
  p.hidden = false;
}

function clearError(id) {
  const p = byId(id);
  p.textContent = "";
  p.hidden = true;
}

function megabytes(bytes) {
  const mb = bytes / 1e6;
  return (Number.isInteger(mb) ? String(mb) : mb.toFixed(1)) + " MB";
}

// A JSON route's answer; a refusal becomes an Error with the server's message.
async function call(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new Error("the server did not answer (" + err.message + ")");
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error("the server answered " + res.status + " " + res.statusText);
  }
  if (!res.ok) throw new Error(body.error || "the server answered " + res.status);
  return body;
}

// An SVG over an image of width x height pixels with one rect per box; returns the rects.
function drawBoxes(svg, width, height, boxes) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("preserveAspectRatio", "none");
  return boxes.map((b) => {
    const r = document.createElementNS(SVG_NS, "rect");
    r.setAttribute("x", b.box.x1);
    r.setAttribute("y", b.box.y1);
    r.setAttribute("width", b.box.x2 - b.box.x1);
    r.setAttribute("height", b.box.y2 - b.box.y1);
    r.setAttribute("class", "box " + b.className);
    svg.append(r);
    return r;
  });
}

// Hovering item makes rect stand out and dims the other rects.
function linkHover(item, rect, rects) {
  item.addEventListener("mouseenter", () => {
    for (const r of rects) r.classList.add(r === rect ? "on" : "off");
  });
  item.addEventListener("mouseleave", () => {
    for (const r of rects) r.classList.remove("on", "off");
  });
}

${placeLabels.toString()}

// The described image's region labels, laid out for the photo's size on the page: each region
// with a shown phrase gets its number and phrase, or its number alone, where no other label is;
// one with no room is in the list only (the list is the legend).
let described = null;

function layoutTags() {
  const layer = byId("tags");
  layer.replaceChildren();
  const photo = byId("photo");
  const w = photo.clientWidth;
  const h = photo.clientHeight;
  if (!described || !w || !h) return;
  const sx = w / described.width;
  const sy = h / described.height;
  const labelled = [];
  described.regions.forEach((r, i) => {
    if (!r.caption) return;
    const colour = "tag c" + (i % COLOURS);
    const tags = [el("span", colour, i + 1 + " " + r.caption), el("span", colour, String(i + 1))];
    layer.append(...tags);
    labelled.push({ box: r.box, tags });
  });
  const placed = placeLabels(
    labelled.map((l) => ({
      box: { x1: l.box.x1 * sx, y1: l.box.y1 * sy, x2: l.box.x2 * sx, y2: l.box.y2 * sy },
      sizes: l.tags.map((t) => ({ width: t.offsetWidth, height: t.offsetHeight })),
    })),
    w,
    h,
  );
  labelled.forEach((l, k) => {
    l.tags.forEach((t, size) => {
      const at = placed[k];
      if (at && at.size === size) {
        t.style.left = at.x + "px";
        t.style.top = at.y + "px";
      } else {
        t.remove();
      }
    });
  });
}

let photoUrl;

function showDescription(d, file) {
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(file);
  const photo = byId("photo");
  described = d;
  byId("tags").replaceChildren();
  photo.src = photoUrl;
  photo.alt = file.name;
  byId("caption").textContent = d.caption;
  const rects = drawBoxes(
    byId("boxes"),
    d.width,
    d.height,
    d.regions.map((r, i) => ({
      box: r.box,
      className: "c" + (i % COLOURS) + (r.source === "detection" ? "" : " fallback"),
    })),
  );
  const list = byId("regions");
  list.replaceChildren(
    ...d.regions.map((r, i) => {
      const li = el("li");
      li.append(el("span", "swatch c" + (i % COLOURS)));
      if (r.caption) {
        const phrase = el("span", "phrase", r.caption);
        phrase.title = r.caption;
        li.append(phrase, " ");
      }
      const what = r.source === "detection" ? r.label + " " + r.score.toFixed(2) : r.source;
      li.append(el("span", "meta", what));
      if (r.phrase && !r.phrase.shown) {
        const why = r.phrase.hidden === "contradicts-label" ? "names another class" : "not confident";
        li.append(" ", el("span", "meta not-shown", "(“" + r.phrase.text + "”: " + why + ")"));
      }
      linkHover(li, rects[i], rects);
      return li;
    }),
  );
  byId("describe-meta").textContent =
    file.name + " · " + d.width + "×" + d.height + " · " + d.regions.length + " regions · " +
    Math.round(d.millis.total) + " ms";
  byId("description").hidden = false;
}

async function describe(file) {
  clearError("describe-error");
  byId("description").hidden = true;
  byId("describe-status").textContent = "Describing " + file.name + "…";
  try {
    const d = await call("/api/describe", {
      method: "POST",
      headers: { "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
    showDescription(d, file);
  } catch (err) {
    showError("describe-error", file.name + ": " + err.message);
  } finally {
    byId("describe-status").textContent = "";
  }
}

// A sentence of phrases, each marked in its region's colour and singling out its rect on hover.
function markedSentence(p, phrases, rects) {
  phrases.forEach((ph, i) => {
    const mark = el("mark", "c" + (i % COLOURS), ph.phrase);
    mark.title = "region " + ph.region + ", score " + ph.score.toFixed(2);
    linkHover(mark, rects[i], rects);
    p.append(mark, " ");
  });
  return p;
}

// The larger view of an indexed image (a search hit, with its phrases, or a library image).
function openViewer(item, label) {
  const img = byId("viewer-photo");
  img.src = item.thumbnail + "&size=large";
  img.alt = item.name;
  byId("viewer-title").textContent = label;
  const phrases = item.phrases || [];
  const svg = byId("viewer-boxes");
  const rects = item.width
    ? drawBoxes(svg, item.width, item.height, phrases.map((p, i) => ({ box: p.box, className: "c" + (i % COLOURS) })))
    : (svg.replaceChildren(), []);
  const sentence = byId("viewer-sentence");
  sentence.replaceChildren();
  markedSentence(sentence, phrases, rects);
  byId("viewer").showModal();
}

function card(item, label) {
  const card = el("article", "hit");
  const open = el("button", "open stage");
  open.type = "button";
  open.setAttribute("aria-label", "larger view of " + item.name);
  const img = el("img");
  img.src = item.thumbnail;
  img.alt = item.name;
  const svg = document.createElementNS(SVG_NS, "svg");
  open.append(img, svg);
  open.addEventListener("click", () => openViewer(item, label));
  const phrases = item.phrases || [];
  card.append(open);
  if (item.width) {
    const rects = drawBoxes(
      svg,
      item.width,
      item.height,
      phrases.map((p, i) => ({ box: p.box, className: "c" + (i % COLOURS) })),
    );
    card.append(markedSentence(el("p", "sentence"), phrases, rects));
  }
  card.append(el("p", "meta", label));
  return card;
}

function hitCard(hit, rank) {
  return card(hit, "#" + rank + " · " + hit.score.toFixed(2) + " · " + hit.name);
}

// What the results area shows: the library (pages by offset) or a search (k grows by PAGE).
let showing = { kind: "none" };
let maxResults = 50;

function setMore(visible) {
  byId("more").hidden = !visible;
  byId("more").disabled = false;
}

async function search(query, k) {
  clearError("search-error");
  const hits = byId("hits");
  if (k === PAGE) hits.replaceChildren();
  showing = { kind: "search", query, k };
  byId("search-status").textContent = "Searching…";
  try {
    const result = await call("/api/search?q=" + encodeURIComponent(query) + "&k=" + k);
    if (showing.kind !== "search" || showing.query !== query) return;
    const have = hits.children.length;
    hits.append(...result.hits.slice(have).map((h, i) => hitCard(h, have + i + 1)));
    const notes =
      (result.goodMatch === false ? " Nothing matches well: the best image scores below what 90% of images score with their own descriptions." : "") +
      (result.unknownWords.length > 0 ? " Not in the vocabulary, left out: " + result.unknownWords.join(", ") + "." : "");
    byId("search-status").textContent =
      result.hits.length === 0
        ? "The index has no images."
        : "The " + result.hits.length + " images that match best, best first; hover a phrase to see its region, click an image for a larger view." + notes;
    setMore(result.hits.length === k && k < maxResults);
  } catch (err) {
    byId("search-status").textContent = "";
    setMore(false);
    showError("search-error", err.message);
  }
}

async function browse(offset) {
  clearError("search-error");
  const hits = byId("hits");
  if (offset === 0) hits.replaceChildren();
  showing = { kind: "library", offset };
  try {
    const page = await call("/api/images?offset=" + offset + "&limit=" + PAGE);
    if (showing.kind !== "library") return;
    hits.append(...page.images.map((im) => card(im, im.name)));
    const shown = offset + page.images.length;
    showing.offset = shown;
    byId("search-status").textContent =
      page.total === 0
        ? "The index has no images."
        : "The indexed images, " + shown + " of " + page.total + "; type a sentence to rank them.";
    setMore(shown < page.total);
  } catch (err) {
    setMore(false);
    showError("search-error", err.message);
  }
}

function more() {
  byId("more").disabled = true;
  if (showing.kind === "search") search(showing.query, Math.min(showing.k + PAGE, maxResults));
  else if (showing.kind === "library") browse(showing.offset);
}

function setUp(info) {
  byId("photo").addEventListener("load", layoutTags);
  new ResizeObserver(layoutTags).observe(byId("photo"));
  byId("limit").textContent =
    megabytes(info.maxUploadBytes) + " and " + info.maxUploadPixels / 1e6 + " megapixels";
  byId("about").textContent =
    "Model bundle " + info.bundle + (info.describesRegions ? " (with region phrases)" : "") +
    (info.index ? " · index of " + info.index.images + " images" : " · no index");
  if (info.queryExample) byId("query").placeholder = info.queryExample;
  if (info.maxSearchResults) maxResults = info.maxSearchResults;
  const file = byId("file");
  file.addEventListener("change", () => {
    if (file.files.length > 0) describe(file.files[0]);
    file.value = "";
  });
  const drop = byId("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length > 0) describe(e.dataTransfer.files[0]);
  });
  byId("viewer-close").addEventListener("click", () => byId("viewer").close());
  byId("viewer").addEventListener("click", (e) => {
    if (e.target === byId("viewer")) byId("viewer").close();
  });
  const form = byId("search-form");
  if (!info.index) {
    for (const c of form.elements) c.disabled = true;
    byId("search-status").textContent =
      "Search is off: start imagesent serve with --index INDEX to search indexed images.";
    return;
  }
  byId("more").addEventListener("click", more);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const query = byId("query").value.trim();
    if (query) search(query, PAGE);
    else browse(0);
  });
  browse(0);
}

call("/api/info").then(setUp, (err) => showError("describe-error", err.message));
`;

const BODY = `
<header>
<h1>imagesent</h1>
<p id="about">Loading…</p>
</header>
<main>
<section id="describe-panel">
<h2>Describe an image</h2>
<label id="drop" class="drop">Drop an image here or <span class="link">choose one</span>
(JPEG, PNG or WebP, up to <span id="limit">?</span>)
<input id="file" class="visually-hidden" type="file" accept="image/jpeg,image/png,image/webp"></label>
<p id="describe-status" class="status" role="status"></p>
<p id="describe-error" class="error" role="alert" hidden></p>
<div id="description" hidden>
<div class="stage"><img id="photo" alt=""><svg id="boxes"></svg><div id="tags" class="tags"></div></div>
<p id="caption" class="caption"></p>
<p id="describe-meta" class="meta"></p>
<ol id="regions"></ol>
</div>
</section>
<section id="search-panel">
<h2>Search the indexed images</h2>
<form id="search-form">
<input id="query" type="search" aria-label="sentence" placeholder="a sentence">
<button type="submit">Search</button>
</form>
<p id="search-status" class="status" role="status"></p>
<p id="search-error" class="error" role="alert" hidden></p>
<div id="hits" class="hits"></div>
<button id="more" class="more" type="button" hidden>More</button>
</section>
</main>
<dialog id="viewer" aria-labelledby="viewer-title">
<div class="bar"><span id="viewer-title" class="meta"></span>
<button id="viewer-close" type="button">Close</button></div>
<div class="stage"><img id="viewer-photo" alt=""><svg id="viewer-boxes"></svg></div>
<p id="viewer-sentence"></p>
</dialog>
`;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

/** The page's HTML. */
export const APP_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imagesent</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * The page's Content-Security-Policy: only its own script and style (by hash) run, and it talks
 * to this server alone; images come from here or from the file the user picked (blob:).
 */
export const APP_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
