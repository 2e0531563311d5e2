import type { Box } from "./image.js";

/**
 * The fallback boxes, as fractions of the image [x1, y1, x2, y2], in the order they are used when
 * the detector finds fewer objects than needed: a centre crop, the four overlapping quadrants,
 * the halves, then a 3 x 3 grid of thirds, then a tighter centre. Coarse-to-fine, so an image with
 * a few detections still gets its large context regions first. 19 boxes: enough to fill an image
 * with no detections at all to the paper's 20 regions.
 */
export const FALLBACK_FRACTIONS: readonly (readonly [number, number, number, number])[] = [
  [0.1, 0.1, 0.9, 0.9],
  [0, 0, 0.6, 0.6],
  [0.4, 0, 1, 0.6],
  [0, 0.4, 0.6, 1],
  [0.4, 0.4, 1, 1],
  [0, 0, 1, 0.5],
  [0, 0.5, 1, 1],
  [0, 0, 0.5, 1],
  [0.5, 0, 1, 1],
  ...[0, 1, 2].flatMap((r) =>
    [0, 1, 2].map((c) => [c / 3, r / 3, (c + 1) / 3, (r + 1) / 3] as const),
  ),
  [0.25, 0.25, 0.75, 0.75],
];

/**
 * The fallback boxes for a width x height image, in pixels (rounded to whole pixels, each at
 * least one pixel wide and high: in an image a few pixels across, fine boxes become copies of
 * coarser ones, and in a 1 x 1 image copies of the whole, so every image has its full count of
 * regions and none is empty).
 */
export function fallbackBoxes(width: number, height: number): Box[] {
  const span = (a: number, b: number, size: number): [number, number] => {
    const lo = Math.min(Math.round(a * size), size - 1);
    return [lo, Math.max(Math.round(b * size), lo + 1)];
  };
  return FALLBACK_FRACTIONS.map(([x1, y1, x2, y2]) => {
    const [bx1, bx2] = span(x1, x2, width);
    const [by1, by2] = span(y1, y2, height);
    return { x1: bx1, y1: by1, x2: bx2, y2: by2 };
  });
}
