import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { InputError } from "../errors.js";
import { escapeHtml } from "../report/escape-html.js";
import type { Box } from "../vision/image.js";
import type { Segment } from "./segments.js";

/**
 * An HTML page in the style of the paper's Figure 5: each image with a coloured box for every
 * region a phrase was aligned to, the phrase and its score written on the box, and the sentence
 * under the image with each phrase in its region's colour. As in the paper, colours are arbitrary
 * (assigned in order of first use); unlike Figure 5, the phrases are the chain MRF's segments, not
 * single words.
 */
export interface AlignmentView {
  /** Shown above the figure, e.g. the image's file name. */
  readonly title: string;
  /** The image as a URL the page can load: a data URI (see imageDataUri) or a relative path. */
  readonly imageHref: string;
  /** The image's size in the pixels its boxes are given in. */
  readonly width: number;
  readonly height: number;
  readonly tokens: readonly string[];
  /** Box of each region (indexed by Segment.region). */
  readonly regionBoxes: readonly Box[];
  readonly segments: readonly Segment[];
  /** True object boxes (the synthetic world), drawn dashed. */
  readonly truthBoxes?: readonly Box[];
  /** A line under the sentence, e.g. the phrase accuracy of this sentence. */
  readonly note?: string;
}

export interface PageOptions {
  /** Longest side of each drawn image in CSS pixels (default 360). */
  readonly size?: number;
  /** Segments scoring below this are shown grey with no box, as the paper hides weak words. */
  readonly minScore?: number;
  /** Lines of text under the page title. */
  readonly intro?: readonly string[];
  /** Figures per row (e.g. 2 to pair each sentence at two betas); default: as many as fit. */
  readonly columns?: number;
}

/** Distinct on dark and light pictures; cycled when a sentence uses more regions. */
const PALETTE = [
  "#e6194b",
  "#3cb44b",
  "#ffe119",
  "#4363d8",
  "#f58231",
  "#911eb4",
  "#42d4f4",
  "#f032e6",
  "#bfef45",
  "#fabed4",
];

const MIME: Record<string, string> = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
  ".gif": "image/gif",
};

/** The image file as a data URI, so the page opens from anywhere without its images. */
export function imageDataUri(path: string): string {
  const mime = MIME[extname(path).toLowerCase()];
  if (!mime)
    throw new InputError(`${path}: cannot embed a ${extname(path) || "extensionless"} file`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  return `data:${mime};base64,${bytes.toString("base64")}`;
}

/** One image's figure: the SVG with boxes and labels, then the coloured sentence. */
export function alignmentFigure(view: AlignmentView, options: PageOptions = {}): string {
  const size = options.size ?? 360;
  const minScore = options.minScore ?? Number.NEGATIVE_INFINITY;
  const scale = size / Math.max(view.width, view.height);
  const w = Math.round(view.width * scale);
  const h = Math.round(view.height * scale);
  const shown = view.segments.filter((s) => s.score >= minScore);
  const colour = new Map<number, string>();
  for (const s of shown) {
    if (!colour.has(s.region)) colour.set(s.region, PALETTE[colour.size % PALETTE.length]);
  }
  const phrase = (s: Segment) => view.tokens.slice(s.start, s.end).join(" ");
  const px = (v: number) => (v * scale).toFixed(1);

  const truth = (view.truthBoxes ?? []).map(
    (b) =>
      `<rect class="truth" x="${px(b.x1)}" y="${px(b.y1)}" width="${px(b.x2 - b.x1)}" height="${px(b.y2 - b.y1)}" fill="none" stroke="#fff" stroke-width="1" stroke-dasharray="3 3"/>`,
  );
  // Larger boxes first, so a small box drawn later is not hidden under a large one's label.
  const regions = [...colour.keys()].sort(
    (a, b) => area(view.regionBoxes[b]) - area(view.regionBoxes[a]),
  );
  const boxes = regions.map((r) => {
    const b = view.regionBoxes[r];
    // Inset by the stroke so the whole-image box stays visible.
    const x1 = Math.max(b.x1 * scale, 1.5);
    const y1 = Math.max(b.y1 * scale, 1.5);
    const x2 = Math.min(b.x2 * scale, w - 1.5);
    const y2 = Math.min(b.y2 * scale, h - 1.5);
    const c = colour.get(r)!;
    const label = shown
      .filter((s) => s.region === r)
      .map((s) => `${phrase(s)} ${s.score.toFixed(2)}`)
      .join(" · ");
    const ty = y1 >= 16 ? y1 - 4 : y1 + 14;
    const text = fitLabel(label, w - 4);
    const tx = Math.max(2, Math.min(x1 + 2, w - 2 - labelWidth(text)));
    return [
      `<g class="region" data-region="${r}">`,
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${c}" stroke-width="3"/>`,
      `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" font-size="${LABEL_FONT}" fill="${c}" stroke="#000" stroke-width="3" paint-order="stroke">${escapeHtml(text)}</text>`,
      "</g>",
    ].join("");
  });

  const words = view.segments.map((s) => {
    const c = colour.get(s.region);
    const text = escapeHtml(phrase(s));
    const score = `<sub>${s.score.toFixed(2)}</sub>`;
    return s.score >= minScore && c
      ? `<span class="phrase" data-region="${s.region}" style="color:${c}">${text}${score}</span>`
      : `<span class="phrase weak">${text}${score}</span>`;
  });
  const note = view.note ? `<p class="note">${escapeHtml(view.note)}</p>` : "";
  return `<figure>
<figcaption>${escapeHtml(view.title)}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">
<image href="${escapeHtml(view.imageHref)}" x="0" y="0" width="${w}" height="${h}"/>
${[...truth, ...boxes].join("\n")}
</svg>
<p class="sentence">${words.join(" ")}</p>
${note}</figure>`;
}

const LABEL_FONT = 13;

/** A generous estimate of a sans-serif label's width; the SVG cannot measure text for us. */
function labelWidth(text: string): number {
  return text.length * LABEL_FONT * 0.6;
}

/** The label, cut with an ellipsis where it would run off a `width`-pixel image. */
function fitLabel(label: string, width: number): string {
  if (labelWidth(label) <= width) return label;
  const chars = Math.max(1, Math.floor(width / (LABEL_FONT * 0.6)) - 1);
  return `${label.slice(0, chars)}…`;
}

function area(b: Box): number {
  return (b.x2 - b.x1) * (b.y2 - b.y1);
}

/** The styles an alignmentFigure needs, for any page that shows one. */
export const ALIGNMENT_FIGURE_CSS = `figcaption { font-size: 12px; color: #999; margin-bottom: 4px; }
svg { display: block; background: #000; }
.sentence { font-size: 16px; line-height: 1.6; margin: 6px 0 0; }
.phrase { font-weight: bold; }
.phrase sub { font-size: 10px; font-weight: normal; color: #bbb; margin-left: 1px; white-space: nowrap; }
.weak { color: #777; font-weight: normal; }
.note { font-size: 12px; color: #999; margin: 2px 0 0; }`;

/** A standalone page with one figure per view (a gallery when there are several). */
export function alignmentPage(
  title: string,
  views: readonly AlignmentView[],
  options: PageOptions = {},
): string {
  const intro = (options.intro ?? []).map((l) => `<p>${escapeHtml(l)}</p>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: sans-serif; background: #1e1e1e; color: #ddd; margin: 20px; }
h1 { font-size: 20px; margin: 0 0 6px; }
.intro p { margin: 2px 0; color: #aaa; font-size: 13px; }
.gallery { display: ${options.columns ? `grid; grid-template-columns: repeat(${options.columns}, max-content)` : "flex; flex-wrap: wrap"}; gap: 22px; margin-top: 16px; }
figure { margin: 0; width: ${options.size ?? 360}px; }
${ALIGNMENT_FIGURE_CSS}
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="intro">${intro}</div>
<div class="gallery">
${views.map((v) => alignmentFigure(v, options)).join("\n")}
</div>
</body>
</html>
`;
}
