import { iou } from "./boxes.js";
import { COLOUR_HSL, COLOURS, type ColourName } from "./colour-words.js";
import type { Box, RgbImage } from "./image.js";
import type { ObjectDetector } from "./object-detector.js";
import type { LabelledDetection } from "./regions.js";

/**
 * The synthetic world's detector, needing no weights: its objects are strongly saturated and its
 * backgrounds nearly grey (world/background.ts), so an object is a connected blob of saturated pixels.
 * Like the world's proposals (world/proposals.ts), each object gives a close box and a loose one and
 * each pair of objects their union, so describe and search on a world image see the kinds of
 * regions the demo's models were trained on.
 */
export class ShapeDetector implements ObjectDetector {
  readonly name = "world-shapes";

  async detect(image: RgbImage): Promise<LabelledDetection[]> {
    return detectShapes(image);
  }

  async close(): Promise<void> {}
}

/** Chroma (max - min channel) above which a pixel belongs to an object; backgrounds stay below ~20. */
export const OBJECT_CHROMA = 60;
/** Blobs smaller than this many pixels are noise or edge artefacts, not objects. */
export const MIN_OBJECT_PIXELS = 24;
/** The loose box grows the close one by this fraction of its side on every edge. */
const LOOSE_MARGIN = 0.25;

interface Blob {
  readonly box: Box;
  readonly pixels: number;
  readonly colour: ColourName;
}

/** Close and loose boxes of every object (by size), then the unions of pairs. */
export function detectShapes(image: RgbImage): LabelledDetection[] {
  const blobs = saturatedBlobs(image).sort((a, b) => b.pixels - a.pixels);
  const out: LabelledDetection[] = [];
  for (const b of blobs) out.push({ box: b.box, label: b.colour, score: 0.9 });
  for (const b of blobs) {
    const loose = grow(b.box, LOOSE_MARGIN, image.width, image.height);
    if (iou(loose, b.box) < 1) out.push({ box: loose, label: b.colour, score: 0.6 });
  }
  for (let i = 0; i < blobs.length; i++) {
    for (let j = i + 1; j < blobs.length; j++) {
      const a = blobs[i].box;
      const c = blobs[j].box;
      out.push({
        box: {
          x1: Math.min(a.x1, c.x1),
          y1: Math.min(a.y1, c.y1),
          x2: Math.max(a.x2, c.x2),
          y2: Math.max(a.y2, c.y2),
        },
        label: `${blobs[i].colour}+${blobs[j].colour}`,
        score: 0.3,
      });
    }
  }
  return out;
}

/** 4-connected components of the saturated pixels, with their boxes and dominant colour word. */
function saturatedBlobs(image: RgbImage): Blob[] {
  const { width, height, data } = image;
  const n = width * height;
  const mask = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const r = data[3 * p];
    const g = data[3 * p + 1];
    const b = data[3 * p + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > OBJECT_CHROMA) mask[p] = 1;
  }
  const blobs: Blob[] = [];
  const stack = new Int32Array(n);
  for (let seed = 0; seed < n; seed++) {
    if (mask[seed] !== 1) continue;
    mask[seed] = 2;
    let top = 0;
    stack[top++] = seed;
    let pixels = 0;
    let x1 = width;
    let y1 = height;
    let x2 = 0;
    let y2 = 0;
    const hues = new Float64Array(COLOURS.length);
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      pixels++;
      if (x < x1) x1 = x;
      if (y < y1) y1 = y;
      if (x >= x2) x2 = x + 1;
      if (y >= y2) y2 = y + 1;
      hues[nearestColour(data[3 * p], data[3 * p + 1], data[3 * p + 2])]++;
      const next = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width];
      for (const q of next) {
        if (q >= 0 && q < n && mask[q] === 1) {
          mask[q] = 2;
          stack[top++] = q;
        }
      }
    }
    if (pixels < MIN_OBJECT_PIXELS) continue;
    const colour = COLOURS[hues.indexOf(Math.max(...hues))];
    blobs.push({ box: { x1, y1, x2, y2 }, pixels, colour });
  }
  return blobs;
}

/** The colour word whose hue and lightness are closest to the pixel's. */
function nearestColour(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  const hue =
    max === r
      ? (((g - b) / d) * 60 + 360) % 360
      : max === g
        ? ((b - r) / d + 2) * 60
        : ((r - g) / d + 4) * 60;
  const lightness = (max + min) / 510;
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  COLOURS.forEach((c, i) => {
    const [h, , l] = COLOUR_HSL[c];
    const dh = Math.min(Math.abs(hue - h), 360 - Math.abs(hue - h)) / 180;
    const distance = dh * dh + (lightness - l) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  });
  return best;
}

function grow(box: Box, fraction: number, width: number, height: number): Box {
  const dx = Math.round((box.x2 - box.x1) * fraction);
  const dy = Math.round((box.y2 - box.y1) * fraction);
  return {
    x1: Math.max(0, box.x1 - dx),
    y1: Math.max(0, box.y1 - dy),
    x2: Math.min(width, box.x2 + dx),
    y2: Math.min(height, box.y2 + dy),
  };
}
