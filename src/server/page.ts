import { createHash } from "node:crypto";

/**
 * The web app's one page: HTML, CSS and script in one document, nothing fetched from elsewhere.
 * The script builds every element with DOM calls (never innerHTML), so captions, phrases and file
 * names from the server are shown as text. It talks to the routes of app-server.ts:
 * GET /api/info, POST /api/describe (the image file as the body), GET /api/search?q=&k=,
 * GET /thumbnail?image=KEY.
 */

const STYLE = `
:root { color-scheme: dark; --c0: #ff6b6b; --c1: #4dabf7; --c2: #ffd43b; --c3: #69db7c;
  --c4: #da77f2; --c5: #ff922b; --c6: #3bc9db; --c7: #f783ac; --c8: #a9e34b; --c9: #9775fa; }
body { font-family: system-ui, sans-serif; background: #1b1b1f; color: #e4e4e7; margin: 0; }
header { padding: 16px 24px 4px; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 17px; margin: 0 0 10px; }
#about { color: #a1a1aa; font-size: 13px; margin: 4px 0 0; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 24px;
  padding: 16px 24px 32px; }
section { background: #26262b; border-radius: 8px; padding: 16px; }
.drop { display: block; border: 2px dashed #52525b; border-radius: 8px; padding: 22px;
  text-align: center; color: #a1a1aa; cursor: pointer; }
.drop.over { border-color: #4dabf7; color: #e4e4e7; }
.link { color: #4dabf7; text-decoration: underline; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
.status { color: #a1a1aa; font-size: 13px; min-height: 1em; }
.error { background: #4c1d1d; border: 1px solid #f87171; color: #fecaca; border-radius: 6px;
  padding: 8px 12px; }
.stage { position: relative; display: inline-block; line-height: 0; max-width: 100%; }
.stage img { max-width: 100%; max-height: 480px; background: #000; }
.stage svg { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
rect.box { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; stroke-opacity: 0.75; }
rect.box.fallback { stroke-dasharray: 5 3; }
rect.box.on { stroke-width: 4; stroke-opacity: 1; }
rect.box.off { stroke-opacity: 0.15; }
.caption { font-size: 20px; font-weight: 600; margin: 12px 0 6px; }
#regions { font-size: 14px; padding-left: 28px; margin: 0; columns: 2; }
#regions li { cursor: default; padding: 1px 0; }
#regions li:hover { color: #fff; }
.meta { color: #a1a1aa; font-size: 12px; }
form { display: flex; gap: 8px; }
input[type=search] { flex: 1; font: inherit; padding: 8px 10px; border-radius: 6px;
  border: 1px solid #52525b; background: #18181b; color: inherit; }
button { font: inherit; padding: 8px 16px; border-radius: 6px; border: 0; background: #2563eb;
  color: #fff; cursor: pointer; }
button:disabled { background: #3f3f46; cursor: default; }
.hits { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 16px;
  margin-top: 12px; }
.hit p { margin: 6px 0 0; font-size: 14px; line-height: 1.6; }
mark { color: #111; border-radius: 3px; padding: 1px 3px; }
.c0 { stroke: var(--c0); } mark.c0, .swatch.c0 { background: var(--c0); }
.c1 { stroke: var(--c1); } mark.c1, .swatch.c1 { background: var(--c1); }
.c2 { stroke: var(--c2); } mark.c2, .swatch.c2 { background: var(--c2); }
.c3 { stroke: var(--c3); } mark.c3, .swatch.c3 { background: var(--c3); }
.c4 { stroke: var(--c4); } mark.c4, .swatch.c4 { background: var(--c4); }
.c5 { stroke: var(--c5); } mark.c5, .swatch.c5 { background: var(--c5); }
.c6 { stroke: var(--c6); } mark.c6, .swatch.c6 { background: var(--c6); }
.c7 { stroke: var(--c7); } mark.c7, .swatch.c7 { background: var(--c7); }
.c8 { stroke: var(--c8); } mark.c8, .swatch.c8 { background: var(--c8); }
.c9 { stroke: var(--c9); } mark.c9, .swatch.c9 { background: var(--c9); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; }
`;

const SCRIPT = `
"use strict";
const COLOURS = 10;
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

let photoUrl;

function showDescription(d, file) {
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(file);
  const photo = byId("photo");
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
      const what = r.source === "detection" ? r.label + " " + r.score.toFixed(2) : r.source;
      li.append(r.caption ? r.caption + " " : "", el("span", "meta", what));
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

function hitCard(hit, rank) {
  const card = el("article", "hit");
  const stage = el("div", "stage");
  const img = el("img");
  img.src = hit.thumbnail;
  img.alt = hit.name;
  const svg = document.createElementNS(SVG_NS, "svg");
  stage.append(img, svg);
  const phrases = hit.phrases || [];
  const rects = drawBoxes(
    svg,
    hit.width,
    hit.height,
    phrases.map((p, i) => ({ box: p.box, className: "c" + (i % COLOURS) })),
  );
  const sentence = el("p", "sentence");
  phrases.forEach((p, i) => {
    const mark = el("mark", "c" + (i % COLOURS), p.phrase);
    mark.title = "region " + p.region + ", score " + p.score.toFixed(2);
    linkHover(mark, rects[i], rects);
    sentence.append(mark, " ");
  });
  card.append(stage, sentence, el("p", "meta", "#" + rank + " · " + hit.score.toFixed(2) + " · " + hit.name));
  return card;
}

async function search(query) {
  clearError("search-error");
  const hits = byId("hits");
  hits.replaceChildren();
  byId("search-status").textContent = "Searching…";
  try {
    const result = await call("/api/search?q=" + encodeURIComponent(query) + "&k=12");
    hits.replaceChildren(...result.hits.map((h, i) => hitCard(h, i + 1)));
    byId("search-status").textContent =
      result.hits.length === 0
        ? "The index has no images."
        : "The " + result.hits.length + " images that match best, best first; hover a phrase to see its region.";
  } catch (err) {
    byId("search-status").textContent = "";
    showError("search-error", err.message);
  }
}

function setUp(info) {
  byId("limit").textContent =
    megabytes(info.maxUploadBytes) + " and " + info.maxUploadPixels / 1e6 + " megapixels";
  byId("about").textContent =
    "Model bundle " + info.bundle + (info.describesRegions ? " (with region phrases)" : "") +
    (info.index ? " · index of " + info.index.images + " images" : " · no index");
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
  const form = byId("search-form");
  if (!info.index) {
    for (const c of form.elements) c.disabled = true;
    byId("search-status").textContent =
      "Search is off: start imagesent serve with --index INDEX to search indexed images.";
    return;
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const query = byId("query").value.trim();
    if (query) search(query);
  });
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
<label id="drop" class="drop" for="file">Drop an image here or <span class="link">choose one</span>
(JPEG, PNG or WebP, up to <span id="limit">?</span>)</label>
<input id="file" class="visually-hidden" type="file" accept="image/jpeg,image/png,image/webp">
<p id="describe-status" class="status" role="status"></p>
<p id="describe-error" class="error" role="alert" hidden></p>
<div id="description" hidden>
<div class="stage"><img id="photo" alt=""><svg id="boxes"></svg></div>
<p id="caption" class="caption"></p>
<p id="describe-meta" class="meta"></p>
<ol id="regions"></ol>
</div>
</section>
<section id="search-panel">
<h2>Search the indexed images</h2>
<form id="search-form">
<input id="query" type="search" aria-label="sentence" placeholder="a sentence, e.g. a red circle next to a blue square">
<button type="submit">Search</button>
</form>
<p id="search-status" class="status" role="status"></p>
<p id="search-error" class="error" role="alert" hidden></p>
<div id="hits" class="hits"></div>
</section>
</main>
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
