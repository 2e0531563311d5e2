import { ALIGNMENT_FIGURE_CSS } from "../mrf/alignment-page.js";
import { escapeHtml } from "../report/escape-html.js";
import type { ImageDescription } from "./describer.js";

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
/** Detections written on the image (best first); the rest are thin boxes, their text on hover. */
const LABELLED = 5;
/** Colours of detections without a class label, in order. */
const UNLABELLED = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231"];

/** Colour of each detection label, stable across images (as region-svg.ts draws them). */
function labelColour(label: string): string {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h}, 85%, 55%)`;
}

/**
 * One figure: the image with every region's box (the best LABELLED detections solid, in their
 * label's colour, with number, label, score and phrase written on; the other detections thin and
 * fallback boxes dashed grey, their text on hover), the caption below and the numbered list of
 * regions with their phrases.
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
    if (r.source !== "detection") {
      return `<g>${tip}<rect ${rect} fill="none" stroke="#ccc" stroke-opacity="0.6" stroke-width="1" stroke-dasharray="4 3"/></g>`;
    }
    const colour = r.label ? labelColour(r.label) : UNLABELLED[i % UNLABELLED.length];
    if (i >= LABELLED) {
      return `<g>${tip}<rect ${rect} fill="none" stroke="${colour}" stroke-opacity="0.5" stroke-width="1"/></g>`;
    }
    const y = b.y1 * scale;
    const ty = y >= 16 ? y - 4 : y + 14;
    const text = `${i + 1}. ${r.label ?? "detection"} ${(r.score ?? 0).toFixed(2)}${phrase}`;
    // Kept inside the image where it fits (a generous estimate of sans-serif text width).
    const tx = Math.max(2, Math.min(b.x1 * scale + 2, w - 2 - text.length * LABEL_FONT * 0.6));
    return [
      `<g>${tip}`,
      `<rect ${rect} fill="none" stroke="${colour}" stroke-width="2.5"/>`,
      `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" font-size="${LABEL_FONT}" fill="${colour}" stroke="#000" stroke-width="3" paint-order="stroke">${escapeHtml(text)}</text>`,
      "</g>",
    ].join("");
  });
  const list = d.regions
    .map((r, i) => {
      const what =
        r.source === "detection"
          ? `${r.label ?? "detection"} ${(r.score ?? 0).toFixed(2)}`
          : r.source;
      const box = [r.box.x1, r.box.y1, r.box.x2, r.box.y2].map((x) => Math.round(x)).join(", ");
      const phrase = r.caption ? ` — ${escapeHtml(r.caption)}` : "";
      return `<li value="${i + 1}"><span class="what">${escapeHtml(what)} [${box}]</span>${phrase}</li>`;
    })
    .join("\n");
  return `<figure>
<figcaption>${escapeHtml(item.title)} (${d.width}×${d.height})</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">
<image href="${escapeHtml(item.imageHref)}" x="0" y="0" width="${w}" height="${h}"/>
${boxes.join("\n")}
</svg>
<p class="caption">${escapeHtml(d.caption)}</p>
<ol class="regions">
${list}
</ol>
</figure>`;
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
