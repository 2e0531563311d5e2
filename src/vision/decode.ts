import sharp from "sharp";
import { InputError } from "../errors.js";
import type { RgbImage } from "./image.js";

/**
 * Decodes any image sharp reads (JPEG, PNG, WebP, TIFF, GIF, ...) to 8-bit sRGB: EXIF orientation
 * applied, grayscale and CMYK converted, 16-bit reduced to 8, alpha composited onto white (a
 * transparent background is usually meant to be paper, not black). `source` is a path or the
 * file's bytes; `name` is used in the error for an unreadable file.
 */
export async function decodeImage(source: string | Uint8Array, name?: string): Promise<RgbImage> {
  const label = name ?? (typeof source === "string" ? source : "image");
  try {
    const { data, info } = await sharp(source, { failOn: "error" })
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
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new InputError(`${label}: cannot decode image (${why})`);
  }
}
