import type { Box, RgbImage } from "./image.js";
import type { PreprocessConfig } from "./model-config.js";

/**
 * How one box of an image becomes a network input of width x height: the whole-pixel part `src`
 * of the image is resized to `dst` inside the input canvas; the rest of the canvas is padding.
 * Input coordinates map back to the image as x_img = (x_in - dst.x) * scaleX + src.x (and y).
 */
export interface Warp {
  readonly src: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly dst: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly scaleX: number;
  readonly scaleY: number;
}

/** Maps a box in network-input pixels back to image pixels. */
export function boxToImage(b: Box, warp: Warp): Box {
  const { src, dst, scaleX, scaleY } = warp;
  return {
    x1: (b.x1 - dst.x) * scaleX + src.x,
    y1: (b.y1 - dst.y) * scaleY + src.y,
    x2: (b.x2 - dst.x) * scaleX + src.x,
    y2: (b.y2 - dst.y) * scaleY + src.y,
  };
}

/**
 * Plans the warp of `box` (image pixels) into a network input, following `config.resize`:
 * "stretch" maps the box onto the whole input; "crop" first shrinks the box to the input's aspect
 * ratio about its centre; "letterbox" keeps the aspect ratio and pads. `contextPadding` (stretch
 * and crop) grows the box as in R-CNN so that the original box fills the input less that margin;
 * parts of the grown box outside the image become padding.
 */
export function planWarp(width: number, height: number, box: Box, config: PreprocessConfig): Warp {
  const W = config.width;
  const H = config.height;
  let bw = Math.max(box.x2 - box.x1, 1);
  let bh = Math.max(box.y2 - box.y1, 1);
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  if (config.resize === "letterbox") {
    const r = Math.min(W / bw, H / bh);
    const x1 = clamp(Math.round(box.x1), 0, width - 1);
    const y1 = clamp(Math.round(box.y1), 0, height - 1);
    const sw = clamp(Math.round(box.x2), x1 + 1, width) - x1;
    const sh = clamp(Math.round(box.y2), y1 + 1, height) - y1;
    const dw = clamp(Math.round(sw * r), 1, W);
    const dh = clamp(Math.round(sh * r), 1, H);
    const center = config.letterboxAlign === "center";
    const dx = center ? Math.floor((W - dw) / 2) : 0;
    const dy = center ? Math.floor((H - dh) / 2) : 0;
    return {
      src: { x: x1, y: y1, w: sw, h: sh },
      dst: { x: dx, y: dy, w: dw, h: dh },
      scaleX: sw / dw,
      scaleY: sh / dh,
    };
  }
  if (config.resize === "crop") {
    if (bw / bh > W / H) bw = (bh * W) / H;
    else bh = (bw * H) / W;
  }
  const p = config.contextPadding;
  if (p > 0) {
    bw *= W / Math.max(W - 2 * p, 1);
    bh *= H / Math.max(H - 2 * p, 1);
  }
  // The grown box B maps onto the whole canvas; only its part inside the image is sampled.
  const bx1 = cx - bw / 2;
  const by1 = cy - bh / 2;
  const x1 = clamp(Math.floor(Math.max(bx1, 0)), 0, width - 1);
  const y1 = clamp(Math.floor(Math.max(by1, 0)), 0, height - 1);
  const x2 = clamp(Math.ceil(Math.min(bx1 + bw, width)), x1 + 1, width);
  const y2 = clamp(Math.ceil(Math.min(by1 + bh, height)), y1 + 1, height);
  const sx = W / bw;
  const sy = H / bh;
  const dx = clamp(Math.round((x1 - bx1) * sx), 0, W - 1);
  const dy = clamp(Math.round((y1 - by1) * sy), 0, H - 1);
  const dw = clamp(Math.round((x2 - x1) * sx), 1, W - dx);
  const dh = clamp(Math.round((y2 - y1) * sy), 1, H - dy);
  return {
    src: { x: x1, y: y1, w: x2 - x1, h: y2 - y1 },
    dst: { x: dx, y: dy, w: dw, h: dh },
    scaleX: (x2 - x1) / dw,
    scaleY: (y2 - y1) / dh,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** The padding colour in 0-255 RGB. */
export function padColour(config: PreprocessConfig): [number, number, number] {
  const p = config.padValue;
  if (p === "mean") {
    return [0, 1, 2].map((c) => clamp(Math.round(config.mean[c] / config.scale), 0, 255)) as [
      number,
      number,
      number,
    ];
  }
  return typeof p === "number" ? [p, p, p] : [p[0], p[1], p[2]];
}

/**
 * Per-channel affine maps from a 0-255 value to its network value (pixel * scale - mean) / std,
 * in network channel order (after any RGB -> BGR swap): value = v * mul[c] + add[c].
 */
export interface Normalisation {
  readonly mul: Float32Array;
  readonly add: Float32Array;
  /** Image channel feeding each network channel. */
  readonly from: readonly [number, number, number];
  /** The padding colour, normalised, per network channel. */
  readonly pad: Float32Array;
}

export function normalisation(config: PreprocessConfig): Normalisation {
  const from: [number, number, number] = config.channelOrder === "bgr" ? [2, 1, 0] : [0, 1, 2];
  const mul = new Float32Array(from.map((c) => config.scale / config.std[c]));
  const add = new Float32Array(from.map((c) => -config.mean[c] / config.std[c]));
  const colour = padColour(config);
  const pad = new Float32Array(from.map((c, k) => colour[c] * mul[k] + add[k]));
  return { mul, add, from, pad };
}

/**
 * An image level as three normalised float planes in network channel order, in shared memory so
 * that a resampling worker reads them without a copy.
 */
export interface Planes {
  readonly width: number;
  readonly height: number;
  /** Reduction from the original image (1, 2, 4, ...). */
  readonly factor: number;
  readonly data: Float32Array;
}

/**
 * An image, its 2x box-filtered reductions, and their normalised planes, built on demand and
 * shared by all the regions of the image. Bilinear sampling only looks at 4 pixels, which aliases
 * when a region shrinks by more than 2; sampling from the level that leaves a reduction below 2
 * (as mipmapping does) is antialiased at little cost.
 */
export class ImagePyramid {
  private readonly levels: RgbImage[];
  private readonly planes = new Map<Normalisation, Planes[]>();

  constructor(image: RgbImage) {
    this.levels = [image];
  }

  get base(): RgbImage {
    return this.levels[0];
  }

  /** Level k (the image reduced 2^k times; fewer when a side would drop below 1 pixel). */
  level(k: number): { image: RgbImage; factor: number } {
    while (this.levels.length <= k) {
      const prev = this.levels[this.levels.length - 1];
      if (prev.width < 2 || prev.height < 2) break;
      this.levels.push(halve(prev));
    }
    const i = Math.min(k, this.levels.length - 1);
    return { image: this.levels[i], factor: 2 ** i };
  }

  /** The level a warp samples from: the one that leaves a reduction below 2. */
  levelFor(warp: Warp, norm: Normalisation): Planes {
    const reduce = Math.min(warp.scaleX, warp.scaleY);
    return this.normalised(reduce >= 2 ? Math.floor(Math.log2(reduce)) : 0, norm);
  }

  /** Level k as normalised planes. */
  normalised(k: number, norm: Normalisation): Planes {
    let cache = this.planes.get(norm);
    if (!cache) {
      cache = [];
      this.planes.set(norm, cache);
    }
    const { image, factor } = this.level(k);
    const i = Math.log2(factor);
    if (!cache[i]) cache[i] = toPlanes(image, factor, norm);
    return cache[i];
  }
}

function halve(img: RgbImage): RgbImage {
  const w = Math.floor(img.width / 2);
  const h = Math.floor(img.height / 2);
  const data = new Uint8Array(w * h * 3);
  const src = img.data;
  const stride = img.width * 3;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * stride;
    const r1 = r0 + stride;
    for (let x = 0, o = y * w * 3; x < w; x++, o += 3) {
      const a = r0 + 6 * x;
      const b = r1 + 6 * x;
      for (let c = 0; c < 3; c++) {
        data[o + c] = (src[a + c] + src[a + 3 + c] + src[b + c] + src[b + 3 + c] + 2) >> 2;
      }
    }
  }
  return { width: w, height: h, data };
}

function toPlanes(img: RgbImage, factor: number, norm: Normalisation): Planes {
  const n = img.width * img.height;
  const data = new Float32Array(new SharedArrayBuffer(3 * n * 4));
  const px = img.data;
  for (let k = 0; k < 3; k++) {
    const c = norm.from[k];
    const m = norm.mul[k];
    const a = norm.add[k];
    const o = k * n;
    for (let i = 0; i < n; i++) data[o + i] = px[3 * i + c] * m + a;
  }
  return { width: img.width, height: img.height, factor, data };
}

/**
 * Resamples one warp of an image into `out` at element `offset` as one network input (layout and
 * channel order as configured), normalised; canvas outside `warp.dst` gets `pad` (per network
 * channel). Bilinear, from `level` (see ImagePyramid.levelFor).
 */
export function writeWarp(
  level: Planes,
  warp: Warp,
  config: PreprocessConfig,
  pad: ArrayLike<number>,
  out: Float32Array,
  offset: number,
): void {
  const W = config.width;
  const H = config.height;
  const { src, dst, scaleX, scaleY } = warp;
  const { width: iw, height: ih, factor, data: planes } = level;
  // Source columns of each output column, in the level's pixels; pixel centres at +0.5.
  const x0 = new Int32Array(dst.w);
  const x1 = new Int32Array(dst.w);
  const fx = new Float32Array(dst.w);
  for (let i = 0; i < dst.w; i++) {
    const u = clamp((src.x + (i + 0.5) * scaleX) / factor - 0.5, 0, iw - 1);
    x0[i] = Math.floor(u);
    x1[i] = Math.min(x0[i] + 1, iw - 1);
    fx[i] = u - x0[i];
  }
  const nchw = config.layout === "nchw";
  const cstep = nchw ? W * H : 1;
  const xstep = nchw ? 1 : 3;
  const rowstep = nchw ? W : 3 * W;
  const n = iw * ih;
  const [pad0, pad1, pad2] = [pad[0], pad[1], pad[2]];
  for (let y = 0; y < H; y++) {
    const row = offset + y * rowstep;
    if (y < dst.y || y >= dst.y + dst.h) {
      fillRun(out, row, W, xstep, pad0);
      fillRun(out, row + cstep, W, xstep, pad1);
      fillRun(out, row + 2 * cstep, W, xstep, pad2);
      continue;
    }
    for (let k = 0; k < 3; k++) {
      fillRun(out, row + k * cstep, dst.x, xstep, pad[k]);
      fillRun(out, row + k * cstep + (dst.x + dst.w) * xstep, W - dst.x - dst.w, xstep, pad[k]);
    }
    const v = clamp((src.y + (y - dst.y + 0.5) * scaleY) / factor - 0.5, 0, ih - 1);
    const y0 = Math.floor(v);
    const fy = v - y0;
    const r0 = y0 * iw;
    const r1 = Math.min(y0 + 1, ih - 1) * iw;
    let o = row + dst.x * xstep;
    // The three channels in one pass share the column lookups (measured faster than separable
    // passes through a row buffer).
    for (let i = 0; i < dst.w; i++, o += xstep) {
      const a0 = r0 + x0[i];
      const b0 = r0 + x1[i];
      const a1 = r1 + x0[i];
      const b1 = r1 + x1[i];
      const f = fx[i];
      let top = planes[a0] + (planes[b0] - planes[a0]) * f;
      let bottom = planes[a1] + (planes[b1] - planes[a1]) * f;
      out[o] = top + (bottom - top) * fy;
      top = planes[a0 + n] + (planes[b0 + n] - planes[a0 + n]) * f;
      bottom = planes[a1 + n] + (planes[b1 + n] - planes[a1 + n]) * f;
      out[o + cstep] = top + (bottom - top) * fy;
      top = planes[a0 + 2 * n] + (planes[b0 + 2 * n] - planes[a0 + 2 * n]) * f;
      bottom = planes[a1 + 2 * n] + (planes[b1 + 2 * n] - planes[a1 + 2 * n]) * f;
      out[o + 2 * cstep] = top + (bottom - top) * fy;
    }
  }
}

function fillRun(out: Float32Array, start: number, n: number, step: number, value: number): void {
  for (let i = 0; i < n; i++) out[start + i * step] = value;
}

/**
 * Writes an already resized RGB byte image (warp.dst.w x warp.dst.h x 3) into `out` at `offset`
 * as one network input: normalised, placed at warp.dst, the rest padding.
 */
export function writeResized(
  pixels: Uint8Array,
  warp: Warp,
  config: PreprocessConfig,
  norm: Normalisation,
  out: Float32Array,
  offset: number,
): void {
  const W = config.width;
  const H = config.height;
  const { dst } = warp;
  const nchw = config.layout === "nchw";
  const cstep = nchw ? W * H : 1;
  const xstep = nchw ? 1 : 3;
  for (let k = 0; k < 3; k++) {
    const pad = norm.pad[k];
    const c = norm.from[k];
    const m = norm.mul[k];
    const a = norm.add[k];
    for (let y = 0; y < H; y++) {
      const row = offset + k * cstep + y * W * xstep;
      if (y < dst.y || y >= dst.y + dst.h) {
        fillRun(out, row, W, xstep, pad);
        continue;
      }
      fillRun(out, row, dst.x, xstep, pad);
      fillRun(out, row + (dst.x + dst.w) * xstep, W - dst.x - dst.w, xstep, pad);
      const src = (y - dst.y) * dst.w * 3 + c;
      const o = row + dst.x * xstep;
      for (let i = 0; i < dst.w; i++) out[o + i * xstep] = pixels[src + 3 * i] * m + a;
    }
  }
}

/**
 * Preprocesses each box of an image into one batch tensor (boxes.length network inputs), written
 * to `out` when given (it must hold them all), else to a new array.
 */
export function boxesToBatch(
  image: RgbImage | ImagePyramid,
  boxes: readonly Box[],
  config: PreprocessConfig,
  norm: Normalisation = normalisation(config),
  out?: Float32Array,
): { data: Float32Array; warps: Warp[] } {
  const pyramid = image instanceof ImagePyramid ? image : new ImagePyramid(image);
  const { width, height } = pyramid.base;
  const size = config.width * config.height * 3;
  const data = out ? out.subarray(0, boxes.length * size) : new Float32Array(boxes.length * size);
  const warps = boxes.map((b) => planWarp(width, height, b, config));
  warps.forEach((w, i) => {
    writeWarp(pyramid.levelFor(w, norm), w, config, norm.pad, data, i * size);
  });
  return { data, warps };
}
