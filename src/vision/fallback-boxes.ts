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
 * The bottom two thirds of the image: where the places of captions lie ("on [the grass]",
 * "through [the water]"). On Flickr30k Entities val it matches 69% of the scene phrases that
 * follow a locative preposition, the whole image 57%. The centre box overlaps it by IoU 0.53, so
 * a selection with `groundBox` never sets it aside (regions.ts).
 */
export const GROUND_FRACTION = [0, 0.33, 1, 1] as const;

/** A fallback box as fractions of the image [x1, y1, x2, y2] with its value (see below). */
export interface ValuedFraction {
  readonly box: readonly [number, number, number, number];
  readonly value: number;
}

/**
 * The "wide" fallback boxes: large boxes shaped like the scene and group phrases of captions (the
 * ground, "a field", "a crowd"), each with a value, about the number of Flickr30k Entities val
 * phrases a box of its kind matched (IoU >= 0.5) per image, so that the ranked region selection
 * (regions.ts) weighs them against detections. A centre box (10-90 %) first, so that the largest
 * region other than the whole image is, as with the grid list, that centre box; then the bottom
 * two thirds, the left and right two thirds, the top two thirds, the lower 60 % quadrants, a centre
 * box (25-75 %), the bottom quarter, the left and right halves, the top half, the middle third,
 * a lower band, the upper 60 % quadrants, and the centre third. The 3 x 3 grid of the legacy list
 * is gone: a ninth of the image matched almost no phrase (0.02-0.09 per image).
 */
export const WIDE_FALLBACKS: readonly ValuedFraction[] = (
  [
    [0.1, 0.1, 0.9, 0.9, 3.6],
    [...GROUND_FRACTION, 3.4],
    [0, 0, 0.67, 1, 2.8],
    [0.33, 0, 1, 1, 2.8],
    [0, 0, 1, 0.67, 1.9],
    [0, 0.4, 0.6, 1, 1.2],
    [0.4, 0.4, 1, 1, 1.2],
    [0.25, 0.25, 0.75, 0.75, 1.1],
    [0, 0.75, 1, 1, 1],
    [0, 0, 0.5, 1, 0.9],
    [0.5, 0, 1, 1, 0.9],
    [0, 0, 1, 0.5, 0.6],
    [0, 0.33, 1, 0.67, 0.5],
    [0, 0, 0.6, 0.6, 0.4],
    [0.4, 0, 1, 0.6, 0.4],
    [0.1, 0.6, 0.9, 0.95, 0.3],
    [0.33, 0.33, 0.67, 0.67, 0.3],
  ] as const
).map(([x1, y1, x2, y2, value]) => ({ box: [x1, y1, x2, y2] as const, value }));

/**
 * Fractions of a width x height image in pixels (rounded to whole pixels, each at least one pixel
 * wide and high: in an image a few pixels across, fine boxes become copies of coarser ones, and
 * in a 1 x 1 image copies of the whole, so every image has its full count of regions and none is
 * empty).
 */
export function fractionBoxes(
  width: number,
  height: number,
  fractions: readonly (readonly [number, number, number, number])[],
): Box[] {
  const span = (a: number, b: number, size: number): [number, number] => {
    const lo = Math.min(Math.round(a * size), size - 1);
    return [lo, Math.max(Math.round(b * size), lo + 1)];
  };
  return fractions.map(([x1, y1, x2, y2]) => {
    const [bx1, bx2] = span(x1, x2, width);
    const [by1, by2] = span(y1, y2, height);
    return { x1: bx1, y1: by1, x2: bx2, y2: by2 };
  });
}

/** The (grid) fallback boxes for a width x height image, in pixels (see fractionBoxes). */
export function fallbackBoxes(width: number, height: number): Box[] {
  return fractionBoxes(width, height, FALLBACK_FRACTIONS);
}
