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
  /** Annotated phrases (Flickr30k Entities): each one's true box and the region it went to. */
  readonly truthPhrases?: readonly TruthPhrase[];
  /** A line under the sentence, e.g. the phrase accuracy of this sentence. */
  readonly note?: string;
}

/**
 * An annotated phrase, tokens [start, end): its true box is drawn dashed in the colour of the
 * region it was put on, and the sentence marks it right or wrong.
 */
export interface TruthPhrase {
  readonly start: number;
  readonly end: number;
  /** In the image's pixels. */
  readonly box: Box;
  /** The region it was grounded to (an index of regionBoxes). */
  readonly region: number;
  /** Whether that region's box has IoU >= 0.5 with `box`. */
  readonly right: boolean;
}

/**
 * Places labels so that none overlaps another, the first most important; null where one fits
 * nowhere. src/app/region-labels.ts's placeLabels is one: this layer cannot import it, so the
 * caller passes it in.
 */
export type LabelPlacer = (
  requests: readonly {
    readonly box: Box;
    readonly sizes: readonly { readonly width: number; readonly height: number }[];
  }[],
  width: number,
  height: number,
) => readonly ({
  readonly x: number;
  readonly y: number;
  readonly size: number;
} | null)[];

export interface PageOptions {
  /** Longest side of each drawn image in CSS pixels (default 360). */
  readonly size?: number;
  /** Segments scoring below this are shown grey with no box, as the paper hides weak words. */
  readonly minScore?: number;
  /** Lines of text under the page title. */
  readonly intro?: readonly string[];
  /** Figures per row (e.g. 2 to pair each sentence at two betas); default: as many as fit. */
  readonly columns?: number;
  /**
   * Keeps labels apart, each shortened as far as it must be and left off where none fits (the
   * sentence under the image still shows every phrase). Without it each label sits on its box's
   * top edge, where crowded boxes' labels can overlap.
   */
  readonly placeLabels?: LabelPlacer;
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
  const px = (v: number) => (v * scale).toFixed(1);

  const inset = (b: Box): Box => ({
    // Inset by the stroke so a box on the image's edge stays visible.
    x1: Math.max(b.x1 * scale, 1.5),
    y1: Math.max(b.y1 * scale, 1.5),
    x2: Math.min(b.x2 * scale, w - 1.5),
    y2: Math.min(b.y2 * scale, h - 1.5),
  });
  const rect = (b: Box, attributes: string) =>
    `<rect x="${b.x1.toFixed(1)}" y="${b.y1.toFixed(1)}" width="${(b.x2 - b.x1).toFixed(1)}" height="${(b.y2 - b.y1).toFixed(1)}" fill="none" ${attributes}/>`;

  const truth = (view.truthBoxes ?? []).map(
    (b) =>
      `<rect class="truth" x="${px(b.x1)}" y="${px(b.y1)}" width="${px(b.x2 - b.x1)}" height="${px(b.y2 - b.y1)}" fill="none" stroke="#fff" stroke-width="1" stroke-dasharray="3 3"/>`,
  );
  const truthPhrases = (view.truthPhrases ?? []).map((p) =>
    rect(
      inset(p.box),
      `class="truth" data-start="${p.start}" data-end="${p.end}" stroke="${colour.get(p.region) ?? "#fff"}" stroke-width="2" stroke-dasharray="6 4"`,
    ),
  );
  // Larger boxes first, so a small box drawn later is not hidden under a large one.
  const regions = [...colour.keys()].sort(
    (a, b) => area(view.regionBoxes[b]) - area(view.regionBoxes[a]),
  );
  const boxes = regions.map(
    (r) =>
      `<g class="region" data-region="${r}">${rect(inset(view.regionBoxes[r]), `stroke="${colour.get(r)}" stroke-width="3"`)}</g>`,
  );
  const labels = regionLabels(view, shown, colour, inset, w, h, options.placeLabels).map(
    ({ region, x, y, text }) =>
      `<text class="label" data-region="${region}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${LABEL_FONT}" fill="${colour.get(region)}" stroke="#000" stroke-width="3" paint-order="stroke">${escapeHtml(text)}</text>`,
  );

  const marks = new Map<number, string>();
  for (const p of view.truthPhrases ?? []) {
    const mark = p.right
      ? '<span class="mark right" title="on its true box">✓</span>'
      : '<span class="mark wrong" title="not on its true box">✗</span>';
    marks.set(p.end - 1, (marks.get(p.end - 1) ?? "") + mark);
  }
  // Every token, each segment's in one coloured span, each annotated phrase's mark after its
  // last word (after the span's score when the phrase ends with the segment).
  const word = (t: number, marked: boolean) =>
    escapeHtml(view.tokens[t]) + (marked ? (marks.get(t) ?? "") : "");
  const words: string[] = [];
  let t = 0;
  for (const s of [...view.segments].sort((a, b) => a.start - b.start)) {
    if (s.start < t) continue;
    for (; t < s.start; t++) words.push(word(t, true), " ");
    const inner: string[] = [];
    for (let i = s.start; i < s.end; i++) inner.push(word(i, i < s.end - 1));
    const c = colour.get(s.region);
    const text = inner.join(" ");
    const score = `<sub>${s.score.toFixed(2)}</sub>`;
    words.push(
      s.score >= minScore && c
        ? `<span class="phrase" data-region="${s.region}" style="color:${c}">${text}${score}</span>`
        : `<span class="phrase weak">${text}${score}</span>`,
      marks.get(s.end - 1) ?? "",
      " ",
    );
    t = s.end;
  }
  for (; t < view.tokens.length; t++) words.push(word(t, true), " ");
  const note = view.note ? `<p class="note">${escapeHtml(view.note)}</p>` : "";
  return `<figure>
<figcaption>${escapeHtml(view.title)}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">
<image href="${escapeHtml(view.imageHref)}" x="0" y="0" width="${w}" height="${h}"/>
${[...truth, ...truthPhrases, ...boxes, ...labels].join("\n")}
</svg>
<p class="sentence">${words.join("").trim()}</p>
${note}</figure>`;
}

const LABEL_FONT = 13;
/** A label's box for the placer: the text and 2 px around it. */
const LABEL_HEIGHT = LABEL_FONT + 4;

/**
 * Each coloured region's label (its phrases and their scores) and where it goes: with a placer,
 * in the sentence's order of regions, at the first spot that overlaps no earlier label, shortened
 * to a half or a quarter of the image's width where the whole does not fit; without one, on the
 * box's top edge.
 */
function regionLabels(
  view: AlignmentView,
  shown: readonly Segment[],
  colour: ReadonlyMap<number, string>,
  inset: (b: Box) => Box,
  w: number,
  h: number,
  place: LabelPlacer | undefined,
): { region: number; x: number; y: number; text: string }[] {
  const phrase = (s: Segment) => view.tokens.slice(s.start, s.end).join(" ");
  const label = (r: number) =>
    shown
      .filter((s) => s.region === r)
      .map((s) => `${phrase(s)} ${s.score.toFixed(2)}`)
      .join(" · ");
  const order = [...colour.keys()];
  if (!place) {
    return order.map((region) => {
      const b = inset(view.regionBoxes[region]);
      const text = fitLabel(label(region), w - 4);
      const x = Math.max(2, Math.min(b.x1 + 2, w - 2 - labelWidth(text)));
      return { region, x, y: b.y1 >= 16 ? b.y1 - 4 : b.y1 + 14, text };
    });
  }
  const texts = order.map((r) => [
    ...new Set([1, 2, 4].map((part) => fitLabel(label(r), (w - 4) / part))),
  ]);
  const placed = place(
    order.map((r, k) => ({
      box: inset(view.regionBoxes[r]),
      sizes: texts[k].map((text) => ({ width: labelWidth(text) + 4, height: LABEL_HEIGHT })),
    })),
    w,
    h,
  );
  return order.flatMap((region, k) => {
    const at = placed[k];
    return at ? [{ region, x: at.x + 2, y: at.y + LABEL_FONT, text: texts[k][at.size] }] : [];
  });
}

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
.note { font-size: 12px; color: #999; margin: 2px 0 0; }
.mark { font-size: 13px; font-weight: bold; margin-left: 1px; }
.mark.right { color: #4fd16b; }
.mark.wrong { color: #ff5c5c; }`;

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
