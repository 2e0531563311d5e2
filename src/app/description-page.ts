import { ALIGNMENT_FIGURE_CSS } from "../mrf/alignment-page.js";
import { escapeHtml } from "../report/escape-html.js";
import type { ImageDescription } from "./describer.js";
import { placeLabels, regionColour, textColourOn } from "./region-labels.js";

/** One described image on the page. */
export interface DescribedImage {
  readonly title: string;
  /** The image as a URL the page can load (a data URI from imageDataUri, or a relative path). */
  readonly imageHref: string;
  readonly description: ImageDescription;
}

/** An image that could not be described, shown on the page with the reason. */
export interface FailedImage {
  readonly title: string;
  readonly error: string;
}

export type PageImage = DescribedImage | FailedImage;

/** Longest side of each drawn image, in CSS pixels. */
const SIZE = 420;
const LABEL_FONT = 12;
const LABEL_HEIGHT = 16;
/** Phrases longer than this are cut on the image (the list gives them whole). */
const LABEL_CHARS = 30;

/**
 * A label's width in pixels for `text`, from its length: 0.6 em a character, more than the
 * average of a sans-serif face, so the text stays inside the label box placeLabels keeps apart.
 */
function labelWidth(text: string): number {
  return Math.ceil(text.length * LABEL_FONT * 0.6) + 6;
}

/** Colour of a detection without a shown phrase, stable across images (as region-svg.ts). */
function labelColour(label: string): string {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h}, 85%, 55%)`;
}

/** The words a label shows: `n phrase`, the phrase cut at LABEL_CHARS. */
function labelText(n: number, phrase: string): string {
  const cut = phrase.length > LABEL_CHARS ? `${phrase.slice(0, LABEL_CHARS - 1)}…` : phrase;
  return `${n} ${cut}`;
}

/** Why a region has no caption, for the list. */
function notShown(r: ImageDescription["regions"][number]): string {
  const p = r.phrase;
  if (!p) return "";
  const said = `“${p.text}”, confidence ${p.confidence.toFixed(2)}`;
  return p.hidden === "contradicts-label"
    ? ` <span class="hidden">(not shown: ${escapeHtml(said)}, names another class than the detector's ${escapeHtml(r.label ?? "")})</span>`
    : ` <span class="hidden">(not shown: ${escapeHtml(said)}, below the bundle's threshold)</span>`;
}

/**
 * One figure: the image with every region's box, each region with a shown phrase in its own
 * colour with a label (its number and phrase, or its number alone where that is all that fits,
 * placed so that no two labels overlap: region-labels.ts), the other detections thin and the
 * other fallback boxes dashed grey (their text on hover); the caption below and the numbered
 * list of regions with their phrases, which is the legend.
 */
function figure(item: PageImage): string {
  if ("error" in item) {
    return `<figure class="failed">
<figcaption>${escapeHtml(item.title)}</figcaption>
<p class="error">not described: ${escapeHtml(item.error)}</p>
</figure>`;
  }
  const d = item.description;
  const scale = SIZE / Math.max(d.width, d.height);
  const w = Math.round(d.width * scale);
  const h = Math.round(d.height * scale);
  const px = (v: number) => (v * scale).toFixed(1);
  // Regions a shown phrase of the caption was grounded to are drawn in their colour too.
  const grounded = new Set(d.phrases.flatMap((p) => (p.shown && p.region >= 0 ? [p.region] : [])));
  const colours = d.regions.map((r, i) =>
    r.caption || grounded.has(i)
      ? regionColour(i)
      : r.source === "detection"
        ? labelColour(r.label ?? "")
        : "#ccc",
  );
  // Larger boxes first, so a small box is drawn over a large one.
  const order = d.regions
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        (b.r.box.x2 - b.r.box.x1) * (b.r.box.y2 - b.r.box.y1) -
        (a.r.box.x2 - a.r.box.x1) * (a.r.box.y2 - a.r.box.y1),
    );
  const boxes = order.map(({ r, i }) => {
    const b = r.box;
    const rect = `x="${px(b.x1)}" y="${px(b.y1)}" width="${px(b.x2 - b.x1)}" height="${px(b.y2 - b.y1)}"`;
    const phrase = r.caption ? `: ${r.caption}` : "";
    const tip = `<title>${escapeHtml(`${i + 1}. ${r.label ?? r.source}${phrase}`)}</title>`;
    if (r.caption || grounded.has(i)) {
      return `<g>${tip}<rect ${rect} fill="none" stroke="${colours[i]}" stroke-width="2.5"/></g>`;
    }
    if (r.source === "detection") {
      return `<g>${tip}<rect ${rect} fill="none" stroke="${colours[i]}" stroke-opacity="0.5" stroke-width="1"/></g>`;
    }
    return `<g>${tip}<rect ${rect} fill="none" stroke="#ccc" stroke-opacity="0.6" stroke-width="1" stroke-dasharray="4 3"/></g>`;
  });
  const labelled = d.regions.flatMap((r, i) => (r.caption ? [{ r, i }] : []));
  const texts = labelled.map(({ r, i }) => [labelText(i + 1, r.caption!), String(i + 1)]);
  const placed = placeLabels(
    labelled.map(({ r }, k) => ({
      box: {
        x1: r.box.x1 * scale,
        y1: r.box.y1 * scale,
        x2: r.box.x2 * scale,
        y2: r.box.y2 * scale,
      },
      sizes: texts[k].map((t) => ({ width: labelWidth(t), height: LABEL_HEIGHT })),
    })),
    w,
    h,
  );
  const onImage = new Map<number, "label" | "number">();
  const labels = labelled.flatMap(({ i }, k) => {
    const at = placed[k];
    if (!at) return [];
    onImage.set(i, at.size === 0 ? "label" : "number");
    return [
      `<g class="label"><rect x="${at.x}" y="${at.y}" width="${at.width}" height="${at.height}" rx="2" fill="${colours[i]}"/>`,
      `<text x="${at.x + 3}" y="${at.y + LABEL_HEIGHT - 4}" font-size="${LABEL_FONT}" fill="${textColourOn(colours[i])}">${escapeHtml(texts[k][at.size])}</text></g>`,
    ].join("");
  });
  const list = d.regions
    .map((r, i) => {
      const what =
        r.source === "detection"
          ? `${r.label ?? "detection"} ${(r.score ?? 0).toFixed(2)}`
          : r.source;
      const box = [r.box.x1, r.box.y1, r.box.x2, r.box.y2].map((x) => Math.round(x)).join(", ");
      const swatch = r.caption
        ? `<span class="swatch" style="background: ${colours[i]}"></span>`
        : "";
      const phrase = r.caption
        ? ` — ${escapeHtml(r.caption)}${onImage.get(i) === "label" ? "" : ' <span class="hidden">(no room for its label on the image)</span>'}`
        : notShown(r);
      return `<li value="${i + 1}">${swatch}<span class="what">${escapeHtml(what)} [${box}]</span>${phrase}</li>`;
    })
    .join("\n");
  return `<figure>
<figcaption>${escapeHtml(item.title)} (${d.width}×${d.height})</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">
<image href="${escapeHtml(item.imageHref)}" x="0" y="0" width="${w}" height="${h}"/>
${boxes.join("\n")}
${labels.join("\n")}
</svg>
<p class="caption">${groundedCaption(d, colours)}</p>
<ol class="regions">
${list}
</ol>
</figure>`;
}

/**
 * The caption with each shown grounded phrase underlined in its region's colour and followed by
 * the region's number (the whole image: no number, a grey underline).
 */
function groundedCaption(d: ImageDescription, colours: readonly string[]): string {
  const words = d.caption.split(" ");
  const out: string[] = [];
  let at = 0;
  for (const p of d.phrases.filter((q) => q.shown).sort((a, b) => a.start - b.start)) {
    if (p.start < at) continue;
    out.push(...words.slice(at, p.start).map(escapeHtml));
    const colour = p.region >= 0 ? colours[p.region] : "#999";
    const mark = p.region >= 0 ? `<sup>${p.region + 1}</sup>` : "";
    out.push(
      `<span class="grounded" style="border-bottom: 3px solid ${colour}" title="confidence ${p.confidence.toFixed(2)}">${escapeHtml(p.text)}${mark}</span>`,
    );
    at = p.end;
  }
  out.push(...words.slice(at).map(escapeHtml));
  return out.join(" ");
}

/** More figures under the descriptions, e.g. search results drawn by alignmentFigure. */
export interface PageSection {
  readonly heading: string;
  readonly intro?: string;
  /** Each a <figure> element's HTML. */
  readonly figures: readonly string[];
}

/**
 * A standalone page describing each image (boxes drawn, caption, regions with their phrases; or
 * why it could not be described), then any further sections.
 */
export function descriptionPage(
  title: string,
  items: readonly PageImage[],
  sections: readonly PageSection[] = [],
): string {
  const more = sections.map(
    (s) => `<h2>${escapeHtml(s.heading)}</h2>
${s.intro ? `<p class="intro">${escapeHtml(s.intro)}</p>\n` : ""}<div class="gallery">
${s.figures.join("\n")}
</div>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: sans-serif; background: #1e1e1e; color: #ddd; margin: 20px; }
h1 { font-size: 20px; margin: 0 0 6px; }
.gallery { display: flex; flex-wrap: wrap; gap: 24px; margin-top: 16px; }
figure { margin: 0; width: ${SIZE}px; }
${ALIGNMENT_FIGURE_CSS}
.caption { font-size: 17px; font-weight: bold; margin: 8px 0 4px; }
.regions { font-size: 13px; margin: 0; padding-left: 26px; color: #ccc; }
.what { color: #888; }
.hidden { color: #777; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.error { color: #f88; font-size: 14px; }
h2 { font-size: 17px; margin: 28px 0 4px; }
.intro { color: #aaa; font-size: 13px; margin: 2px 0; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="gallery">
${items.map(figure).join("\n")}
</div>
${more.join("\n")}
</body>
</html>
`;
}
