/**
 * Region labels that stay readable on a crowded photo: a placement pass that puts each label
 * next to its box where it overlaps no label placed before it, and a text colour chosen for
 * contrast with the label's background. The describe page (description-page.ts) places labels
 * here with estimated text widths; the web app (server/page.ts) runs the same placeLabels in
 * the browser on measured ones.
 */

/** A label to place: its region's box and the sizes it can take, preferred first (CSS pixels). */
export interface LabelRequest {
  readonly box: {
    readonly x1: number;
    readonly y1: number;
    readonly x2: number;
    readonly y2: number;
  };
  /** E.g. the number and phrase, then the number alone: the first that fits is used. */
  readonly sizes: readonly { readonly width: number; readonly height: number }[];
}

/** Where a label went: its top-left corner and which of its sizes it took. */
export interface PlacedLabel {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly size: number;
}

/**
 * Places labels in order (the first is the most important) inside a width x height area. Each
 * size of a label is tried in turn at the box's corners: above it, inside its top, below it and
 * inside its bottom, left-aligned then right-aligned, then at its centre, then along its edges
 * (above, inside and below the top and bottom ones, beside and inside the sides), each moved
 * inside the area; it takes the first position that keeps `gap` pixels from every label placed
 * so far.
 * A label that fits nowhere is null: the caller lists it in a legend. No two placed labels
 * overlap.
 *
 * The page script embeds this function's source (Function.prototype.toString), so it is written
 * without imports and without inner named functions (a bundler would wrap those in helpers the
 * page does not have).
 */
export function placeLabels(
  requests: readonly LabelRequest[],
  width: number,
  height: number,
  gap = 2,
): (PlacedLabel | null)[] {
  const placed: PlacedLabel[] = [];
  const out: (PlacedLabel | null)[] = [];
  for (const request of requests) {
    const b = request.box;
    let found: PlacedLabel | null = null;
    for (let s = 0; s < request.sizes.length && found === null; s++) {
      const w = request.sizes[s].width;
      const h = request.sizes[s].height;
      if (w > width || h > height) continue;
      const spots = [
        [b.x1, b.y1 - h],
        [b.x1, b.y1],
        [b.x1, b.y2],
        [b.x1, b.y2 - h],
        [b.x2 - w, b.y1 - h],
        [b.x2 - w, b.y1],
        [b.x2 - w, b.y2],
        [b.x2 - w, b.y2 - h],
        [(b.x1 + b.x2 - w) / 2, (b.y1 + b.y2 - h) / 2],
      ];
      // Then along the box's edges, outside and inside: where a crowd leaves room.
      for (let x = b.x1 + w + gap; x < b.x2 - w; x += w + gap) {
        spots.push([x, b.y1 - h], [x, b.y1], [x, b.y2], [x, b.y2 - h]);
      }
      for (let y = b.y1; y <= b.y2 - h; y += h + gap) {
        spots.push([b.x1 - w, y], [b.x1, y], [b.x2 - w, y], [b.x2, y]);
      }
      for (const spot of spots) {
        const x = Math.round(Math.min(Math.max(spot[0], 0), width - w));
        const y = Math.round(Math.min(Math.max(spot[1], 0), height - h));
        const clear = placed.every(
          (p) =>
            x + w + gap <= p.x ||
            p.x + p.width + gap <= x ||
            y + h + gap <= p.y ||
            p.y + p.height + gap <= y,
        );
        if (clear) {
          found = { x, y, width: w, height: h, size: s };
          break;
        }
      }
    }
    if (found) placed.push(found);
    out.push(found);
  }
  return out;
}

/** sRGB channels 0..255 of a CSS colour written `#rrggbb` or `hsl(h, s%, l%)`. */
export function cssColourRgb(colour: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (hex) return [1, 2, 3].map((i) => Number.parseInt(hex[i], 16)) as [number, number, number];
  const hsl = /^hsl\(\s*([\d.]+)\s*,\s*([\d.]+)%\s*,\s*([\d.]+)%\s*\)$/.exec(colour);
  if (!hsl) throw new RangeError(`not a #rrggbb or hsl() colour: ${colour}`);
  const h = Number(hsl[1]) % 360;
  const s = Number(hsl[2]) / 100;
  const l = Number(hsl[3]) / 100;
  // CSS Color 4's hsl-to-rgb.
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [channel(0), channel(8), channel(4)];
}

/** WCAG 2 relative luminance of an sRGB colour. */
export function relativeLuminance([r, g, b]: readonly [number, number, number]): number {
  const linear = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG 2 contrast ratio of two luminances (1 to 21). */
export function contrastRatio(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/**
 * Colour of region k (0 the first), on the web app's boxes and the describe page's labels: 24
 * hues 15 degrees apart, taken 7 steps (105 degrees) at a time so that neighbouring regions differ
 * most; light enough for near-black text at 4.5:1 or more (WCAG AA).
 */
export function regionColour(k: number): string {
  return `hsl(${((k * 7) % 24) * 15}, 80%, ${k % 2 === 0 ? 66 : 74}%)`;
}

/** Near-black and white: the label text colours. */
export const DARK_TEXT = "#111111";
export const LIGHT_TEXT = "#ffffff";

/** The text colour, DARK_TEXT or LIGHT_TEXT, that contrasts more with `background`. */
export function textColourOn(background: string): string {
  const l = relativeLuminance(cssColourRgb(background));
  const dark = relativeLuminance(cssColourRgb(DARK_TEXT));
  return contrastRatio(l, dark) >= contrastRatio(l, 1) ? DARK_TEXT : LIGHT_TEXT;
}
