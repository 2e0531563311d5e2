import { Rng } from "../core/rng.js";
import type { Box, RgbImage } from "./image.js";
import type { RegionEncoder } from "./region-encoder.js";

export interface PixelStatsOptions {
  /** Length of the output vectors. */
  readonly dim: number;
  /** Cells per side for the colour and edge statistics; the saturation map uses twice as many. */
  readonly grid: number;
  /** Seeds the random projection. */
  readonly seed: number;
}

export const DEFAULT_PIXEL_STATS_OPTIONS: PixelStatsOptions = { dim: 256, grid: 4, seed: 1 };

/** Orientation bins of the edge histogram, over the full circle so "pointing up" differs from down. */
const ORIENTATIONS = 8;
const HUE_BINS = 12;
const GREY_BINS = 4;
const GEOMETRY = 5;
/**
 * Norm of an edge block (gradient magnitudes summed per bin, intensities in [0, 1]) below which
 * it is left faint rather than normalised up; one clear outline of a shape is several times this.
 */
const EDGE_EPSILON = 2;

/**
 * A region encoder that needs no weights, for the demo world and for tests. Each box is resampled
 * to a small square and described by five blocks of statistics:
 *   colour layout   mean RGB of each of grid x grid cells;
 *   silhouette      mean saturation (max - min of RGB) of each of 2grid x 2grid cells, which traces
 *                   a coloured object against a greyish background;
 *   colour histogram hue (12 bins, weighted by saturation) and grey level (4 bins, by its lack);
 *   edges           magnitude-weighted gradient orientation histograms per cell (as in HOG);
 *   geometry        the box's log width, height and size, and its centre, relative to the image.
 * Each block is centred and scaled (SCALE), then a fixed random projection to `dim` and tanh mix
 * them, like a CNN's pooled layer but with nothing learned: colour, size and shape stay linearly
 * readable.
 */
export class PixelStatsEncoder implements RegionEncoder {
  readonly name: string;
  readonly dim: number;
  readonly rawDim: number;
  private readonly options: PixelStatsOptions;
  private readonly side: number;
  private readonly projection: Float32Array;

  constructor(options: Partial<PixelStatsOptions> = {}) {
    const o = { ...DEFAULT_PIXEL_STATS_OPTIONS, ...options };
    for (const key of ["dim", "grid"] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) {
        throw new RangeError(`PixelStatsEncoder: ${key} must be a positive integer, got ${o[key]}`);
      }
    }
    this.options = o;
    this.dim = o.dim;
    this.name = `pixel-stats(dim=${o.dim},grid=${o.grid},seed=${o.seed})`;
    // Six pixels per colour cell: three per silhouette cell, enough to trace a star's points.
    this.side = 6 * o.grid;
    const g = o.grid;
    this.rawDim = g * g * 3 + 4 * g * g + HUE_BINS + GREY_BINS + g * g * ORIENTATIONS + GEOMETRY;
    // Entries of variance 1 / TOTAL_VARIANCE give pre-activations of about unit variance, where
    // tanh neither saturates nor is merely linear.
    const rng = new Rng(o.seed);
    this.projection = new Float32Array(o.dim * this.rawDim);
    const scale = 1 / Math.sqrt(TOTAL_VARIANCE);
    for (let i = 0; i < this.projection.length; i++) this.projection[i] = rng.normal() * scale;
  }

  async encode(image: RgbImage, boxes: readonly Box[]): Promise<Float32Array> {
    return this.encodeSync(image, boxes);
  }

  encodeSync(image: RgbImage, boxes: readonly Box[]): Float32Array {
    const out = new Float32Array(boxes.length * this.dim);
    boxes.forEach((box, b) => {
      const raw = this.statistics(image, box);
      for (let d = 0; d < this.dim; d++) {
        let z = 0;
        const row = d * this.rawDim;
        for (let k = 0; k < this.rawDim; k++) z += this.projection[row + k] * raw[k];
        out[b * this.dim + d] = Math.tanh(z);
      }
    });
    return out;
  }

  /** The centred, scaled statistics of one box, before projection (rawDim values). */
  statistics(image: RgbImage, box: Box): Float32Array {
    const g = this.options.grid;
    const s = this.side;
    const crop = resample(image, box, s);
    const raw = new Float32Array(this.rawDim);
    let at = 0;
    const block = (values: ArrayLike<number>, scale: (typeof SCALE)[keyof typeof SCALE]) => {
      for (let i = 0; i < values.length; i++) raw[at++] = (values[i] - scale.mean) / scale.std;
    };

    const cellMeans = new Float32Array(g * g * 3);
    const saturation = new Float32Array(4 * g * g);
    const histogram = new Float32Array(HUE_BINS + GREY_BINS);
    const cell = s / g;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const p = (y * s + x) * 3;
        const r = crop[p];
        const gr = crop[p + 1];
        const b = crop[p + 2];
        const c = (Math.floor(y / cell) * g + Math.floor(x / cell)) * 3;
        cellMeans[c] += r;
        cellMeans[c + 1] += gr;
        cellMeans[c + 2] += b;
        const max = Math.max(r, gr, b);
        const min = Math.min(r, gr, b);
        const chroma = max - min;
        splat(saturation, 2 * g, cell / 2, x, y, 1, 0, chroma);
        addHue(histogram, hue(r, gr, b, max, chroma), chroma);
        const light = (max + min) / 2;
        const greyBin = Math.min(GREY_BINS - 1, Math.floor(light * GREY_BINS));
        histogram[HUE_BINS + greyBin] += 1 - chroma;
      }
    }
    scaleBy(cellMeans, 1 / (cell * cell));
    scaleBy(saturation, 4 / (cell * cell));
    scaleBy(histogram, 1 / (s * s));
    block(cellMeans, SCALE.colourLayout);
    block(saturation, SCALE.silhouette);
    block(histogram, SCALE.histogram);
    block(edgeHistograms(crop, s, g), SCALE.edges);
    block(geometry(image, box), SCALE.geometry);
    return raw;
  }

  async close(): Promise<void> {}
}

/**
 * Per-block centre and spread of the statistics over the regions of the synthetic world (seed 1,
 * grid 4): dividing by `std` leaves each block with a total variance of about 1, so each carries
 * the same weight into the projection whatever its length; geometry gets 2.5, as only it tells a
 * big object from a small one of the same look.
 */
const SCALE = {
  colourLayout: { mean: 0.5, std: 1.83 },
  silhouette: { mean: 0.21, std: 2.28 },
  histogram: { mean: 1 / 16, std: 0.655 },
  edges: { mean: 0.04, std: 0.76 },
  geometry: { mean: 0, std: 0.675 },
} as const;

/** The statistics' total variance after SCALE: four blocks of 1 and geometry's 2.5. */
const TOTAL_VARIANCE = 6.5;

/**
 * The box resampled to side x side pixels in [0, 1], each output pixel the mean of the source
 * pixels it covers (the nearest one when the box is smaller than the output).
 */
function resample(image: RgbImage, box: Box, side: number): Float32Array {
  const { width, height, data } = image;
  const x1 = Math.min(Math.max(Math.floor(box.x1), 0), width - 1);
  const y1 = Math.min(Math.max(Math.floor(box.y1), 0), height - 1);
  const x2 = Math.max(Math.min(Math.ceil(box.x2), width), x1 + 1);
  const y2 = Math.max(Math.min(Math.ceil(box.y2), height), y1 + 1);
  const sx = (x2 - x1) / side;
  const sy = (y2 - y1) / side;
  const out = new Float32Array(side * side * 3);
  for (let j = 0; j < side; j++) {
    const ya = y1 + Math.floor(j * sy);
    const yb = Math.max(ya + 1, y1 + Math.floor((j + 1) * sy));
    for (let i = 0; i < side; i++) {
      const xa = x1 + Math.floor(i * sx);
      const xb = Math.max(xa + 1, x1 + Math.floor((i + 1) * sx));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = ya; y < yb; y++) {
        for (let x = xa; x < xb; x++) {
          const p = (y * width + x) * 3;
          r += data[p];
          g += data[p + 1];
          b += data[p + 2];
        }
      }
      const n = 255 * (yb - ya) * (xb - xa);
      const o = (j * side + i) * 3;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
    }
  }
  return out;
}

/** Hue in [0, 6) (sixths of the colour wheel). */
function hue(r: number, g: number, b: number, max: number, chroma: number): number {
  if (chroma === 0) return 0;
  if (max === r) return ((((g - b) / chroma) % 6) + 6) % 6;
  if (max === g) return (b - r) / chroma + 2;
  return (r - g) / chroma + 4;
}

/** Splits `weight` between the two hue bins nearest `h`, so nearby hues give nearby histograms. */
function addHue(histogram: Float32Array, h: number, weight: number): void {
  const pos = (h / 6) * HUE_BINS;
  const lo = Math.floor(pos) % HUE_BINS;
  const frac = pos - Math.floor(pos);
  histogram[lo] += weight * (1 - frac);
  histogram[(lo + 1) % HUE_BINS] += weight * frac;
}

/**
 * Gradient orientation histograms of grid x grid cells, weighted by gradient magnitude. As in
 * Dalal and Triggs' HOG, each pixel takes the colour channel with the strongest gradient, so an
 * edge between two colours of equal brightness still counts, and the whole block is normalised,
 * so an outline reads the same at any contrast.
 */
function edgeHistograms(crop: Float32Array, side: number, grid: number): Float32Array {
  const out = new Float32Array(grid * grid * ORIENTATIONS);
  const cell = side / grid;
  const at = (x: number, y: number, c: number) =>
    crop[(Math.min(side - 1, Math.max(0, y)) * side + Math.min(side - 1, Math.max(0, x))) * 3 + c];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let gx = 0;
      let gy = 0;
      let magnitude = 0;
      for (let c = 0; c < 3; c++) {
        const dx = at(x + 1, y, c) - at(x - 1, y, c);
        const dy = at(x, y + 1, c) - at(x, y - 1, c);
        const m = Math.hypot(dx, dy);
        if (m > magnitude) {
          gx = dx;
          gy = dy;
          magnitude = m;
        }
      }
      if (magnitude === 0) continue;
      // Soft orientation bins, like the soft cells of splat(), so a slightly turned edge moves
      // its weight gradually from one bin to the next.
      const pos = ((Math.atan2(gy, gx) + Math.PI) / (2 * Math.PI)) * ORIENTATIONS - 0.5;
      const lo = Math.floor(pos);
      const frac = pos - lo;
      const bin = (lo + ORIENTATIONS) % ORIENTATIONS;
      splat(out, grid, cell, x, y, ORIENTATIONS, bin, magnitude * (1 - frac));
      splat(out, grid, cell, x, y, ORIENTATIONS, (bin + 1) % ORIENTATIONS, magnitude * frac);
    }
  }
  // The epsilon keeps the faint texture of an empty patch from being blown up to full strength.
  let norm = 0;
  for (const v of out) norm += v * v;
  return scaleBy(out, 1 / Math.sqrt(norm + EDGE_EPSILON ** 2));
}

/**
 * Adds `weight` for pixel (x, y) to a cells x cells map (entry `offset` of each cell's `stride`
 * values), shared bilinearly between the four cells whose centres surround the pixel, so a box
 * shifted by a pixel or two changes the map a little rather than moving whole pixels across a
 * cell border. Weight beyond the outer cell centres stays in the outer cells.
 */
function splat(
  out: Float32Array,
  cells: number,
  cellSize: number,
  x: number,
  y: number,
  stride: number,
  offset: number,
  weight: number,
): void {
  const px = (x + 0.5) / cellSize - 0.5;
  const py = (y + 0.5) / cellSize - 0.5;
  const x0 = Math.floor(px);
  const y0 = Math.floor(py);
  const fx = px - x0;
  const fy = py - y0;
  const xa = Math.max(0, x0);
  const xb = Math.min(cells - 1, x0 + 1);
  const ya = Math.max(0, y0);
  const yb = Math.min(cells - 1, y0 + 1);
  out[(ya * cells + xa) * stride + offset] += weight * (1 - fy) * (1 - fx);
  out[(ya * cells + xb) * stride + offset] += weight * (1 - fy) * fx;
  out[(yb * cells + xa) * stride + offset] += weight * fy * (1 - fx);
  out[(yb * cells + xb) * stride + offset] += weight * fy * fx;
}

/**
 * Log width, log height and their mean (log square-root area), so that twice as big is the same
 * step at any size, measured against a quarter of the image (about the typical region); and the
 * box's centre relative to the image's centre.
 */
function geometry(image: RgbImage, box: Box): number[] {
  const w = Math.log((4 * Math.max(1, box.x2 - box.x1)) / image.width);
  const h = Math.log((4 * Math.max(1, box.y2 - box.y1)) / image.height);
  const cx = (box.x1 + box.x2) / 2 / image.width - 0.5;
  const cy = (box.y1 + box.y2) / 2 / image.height - 0.5;
  return [w, h, (w + h) / 2, cx, cy];
}

function scaleBy(values: Float32Array, factor: number): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] *= factor;
  return values;
}
