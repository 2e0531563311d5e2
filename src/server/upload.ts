import type { IncomingMessage } from "node:http";
import { checkPixelLimit, TooManyPixelsError } from "../vision/decode.js";
import { HttpError } from "./http-error.js";

/** Uploads larger than this are refused with 413 (`imagesent serve --max-upload-mb`). */
export const DEFAULT_MAX_UPLOAD_BYTES = 10_000_000;

/**
 * Uploads of more pixels than this are refused with 413 before they are decoded
 * (`imagesent serve --max-megapixels`): decoding takes about 3 bytes a pixel and more in the
 * steps after it, whatever the file's size, so 40 megapixels (a large phone photo) is about
 * 120 MB of RGB.
 */
export const DEFAULT_MAX_UPLOAD_PIXELS = 40_000_000;

/**
 * How far past the limit an upload is still read (and dropped) before answering 413. Reading it
 * lets the client receive the answer; past this the connection is closed instead.
 */
const DRAIN_BYTES = 64_000_000;

/** The image types the app takes, told apart by their files' first bytes, not by the client. */
export type UploadType = "image/jpeg" | "image/png" | "image/webp";

/** "10 MB", "12.3 MB": sizes in the units the limit is given in (1 MB = 10^6 bytes). */
export function formatMegabytes(bytes: number): string {
  const mb = bytes / 1_000_000;
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

/**
 * The request's body, at most `maxBytes` long. A larger body is an HttpError 413 (raised once
 * the body has been read and dropped, or at once when its declared length is far over);
 * a request cut off by the client is a 400.
 */
export function readLimitedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (size: string, close: boolean) =>
    new HttpError(413, `the upload is ${size}; the limit is ${formatMegabytes(maxBytes)}`, {
      closeConnection: close,
    });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes + DRAIN_BYTES) {
    return Promise.reject(tooLarge(formatMegabytes(declared), true));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxBytes) {
        chunks.push(chunk);
      } else if (received > maxBytes + DRAIN_BYTES) {
        req.pause();
        reject(tooLarge(`over ${formatMegabytes(received)}`, true));
      } else {
        chunks.length = 0;
      }
    });
    req.on("end", () => {
      if (received > maxBytes) reject(tooLarge(formatMegabytes(received), false));
      else resolve(Buffer.concat(chunks));
    });
    req.on("close", () => {
      if (!req.complete) reject(new HttpError(400, "the upload was cut off before it ended"));
    });
    req.on("error", (err) => reject(new HttpError(400, `the upload failed: ${err.message}`)));
  });
}

/** Other formats an upload is often in, to name them in the 415 message. */
const OTHER_FORMATS: readonly [string, (b: Uint8Array) => boolean][] = [
  ["a GIF image", (b) => ascii(b, 0, 4) === "GIF8"],
  ["a TIFF image", (b) => ascii(b, 0, 4) === "II*\0" || ascii(b, 0, 4) === "MM\0*"],
  ["a BMP image", (b) => ascii(b, 0, 2) === "BM"],
  ["a PDF document", (b) => ascii(b, 0, 5) === "%PDF-"],
  ["an AVIF image", (b) => ascii(b, 4, 8) === "ftyp" && ascii(b, 8, 12).startsWith("avi")],
  ["a HEIC image", (b) => ascii(b, 4, 8) === "ftyp" && ascii(b, 8, 12).startsWith("hei")],
];

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** The type of an image file from its first bytes, or undefined when it is none of the three. */
export function sniffImageType(bytes: Uint8Array): UploadType | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (ascii(bytes, 0, 8) === "\x89PNG\r\n\x1a\n") return "image/png";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return "image/webp";
  return undefined;
}

/**
 * An uploaded image: the body, checked to be non-empty, within `maxBytes`, a JPEG, PNG or WebP
 * file, and of at most `maxPixels` pixels by its header (400, 413 and 415 otherwise, with a
 * message that says what was wrong).
 */
export async function readImageUpload(
  req: IncomingMessage,
  limits: { readonly maxBytes: number; readonly maxPixels: number },
): Promise<{ bytes: Buffer; type: UploadType }> {
  const { maxBytes, maxPixels } = limits;
  const bytes = await readLimitedBody(req, maxBytes);
  if (bytes.length === 0) {
    throw new HttpError(400, "the upload is empty: choose a JPEG, PNG or WebP image");
  }
  const type = sniffImageType(bytes);
  if (type === undefined) {
    const other = OTHER_FORMATS.find(([, test]) => test(bytes));
    const what = other
      ? `this file is ${other[0]}`
      : `this file starts with the bytes ${[...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`;
    throw new HttpError(415, `expected a JPEG, PNG or WebP image; ${what}`);
  }
  try {
    await checkPixelLimit(bytes, maxPixels, "the upload");
  } catch (err) {
    if (err instanceof TooManyPixelsError) throw new HttpError(413, err.message);
    throw err;
  }
  return { bytes, type };
}
