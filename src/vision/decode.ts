import type Sharp from "sharp";
import { InputError } from "../errors.js";
import type { RgbImage } from "./image.js";

let sharpModule: Promise<typeof Sharp> | undefined;

/**
 * sharp, imported on first use: a process that decodes no image (a text search) does not spend
 * the ~100 ms of loading libvips.
 */
export async function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import("sharp").then((m) => m.default);
  return sharpModule;
}

export interface DecodeOptions {
  /**
   * Most pixels (width x height) an image may have; a larger one is refused with a
   * TooManyPixelsError, read from its header before anything is decoded. Default: sharp's own
   * limit (0x3FFF x 0x3FFF, about 268 megapixels), for files the user chose.
   */
  readonly maxPixels?: number;
}

/**
 * An image with more pixels than a decode may take. Decoding costs memory by pixels, not by file
 * size: a single-colour PNG of under 1 MB can hold 256 megapixels (0.8 GB as RGB).
 */
export class TooManyPixelsError extends InputError {
  override readonly name = "TooManyPixelsError";

  constructor(
    label: string,
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(
      `${label} is ${width} x ${height} pixels (${formatMegapixels(width * height)}); the limit is ${formatMegapixels(maxPixels)}`,
    );
  }
}

/** "40 megapixels", "0.12 megapixels" (1 megapixel = 10^6 pixels). */
export function formatMegapixels(pixels: number): string {
  const mp = pixels / 1_000_000;
  return `${mp < 10 ? Number(mp.toFixed(2)) : Math.round(mp)} megapixels`;
}

function labelOf(source: string | Uint8Array, name?: string): string {
  return name ?? (typeof source === "string" ? source : "image");
}

function cannotDecode(label: string, err: unknown): InputError {
  const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new InputError(`${label}: cannot decode image (${why})`);
}

/**
 * Refuses (TooManyPixelsError) an image of more than `maxPixels` pixels, from its header alone;
 * an image whose header cannot be read is an InputError, as for decodeImage.
 */
export async function checkPixelLimit(
  source: string | Uint8Array,
  maxPixels: number,
  name?: string,
): Promise<void> {
  const label = labelOf(source, name);
  let width: number;
  let height: number;
  try {
    // No limit here: the header is all that is read, and the limit is the one checked below.
    const sharp = await loadSharp();
    ({ width, height } = await sharp(source, { limitInputPixels: false }).metadata());
  } catch (err) {
    throw cannotDecode(label, err);
  }
  if (width * height > maxPixels) throw new TooManyPixelsError(label, width, height, maxPixels);
}

/**
 * Decodes any image sharp reads (JPEG, PNG, WebP, TIFF, GIF, ...) to 8-bit sRGB: EXIF orientation
 * applied, grayscale and CMYK converted, 16-bit reduced to 8, alpha composited onto white (a
 * transparent background is usually meant to be paper, not black). `source` is a path or the
 * file's bytes; `name` is used in the error for an unreadable file.
 */
export async function decodeImage(
  source: string | Uint8Array,
  name?: string,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  const label = labelOf(source, name);
  if (options.maxPixels !== undefined) await checkPixelLimit(source, options.maxPixels, label);
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(source, {
      failOn: "error",
      ...(options.maxPixels !== undefined ? { limitInputPixels: options.maxPixels } : {}),
    })
      .rotate()
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (err) {
    throw cannotDecode(label, err);
  }
}
