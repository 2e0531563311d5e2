import { performance } from "node:perf_hooks";
import { decodeImage } from "../vision/decode.js";
import type { Region } from "../vision/image.js";
import { selectRegions } from "../vision/regions.js";
import type { VisionModels } from "./vision-setup.js";

/** An image as the app takes it: a file path, or the bytes of a JPEG/PNG/WebP file. */
export type ImageInput = string | Uint8Array;

/** One image's regions and their CNN codes, with how long each step took. */
export interface RegionFeatures {
  readonly width: number;
  readonly height: number;
  /** Whole image first, then detections, then fallback boxes. */
  readonly regions: Region[];
  /** regions.length x encoder.dim, row-major, raw (not normalised). */
  readonly features: Float32Array;
  /** Milliseconds spent decoding, detecting (region selection included) and encoding. */
  readonly millis: { readonly decode: number; readonly detect: number; readonly encode: number };
}

/**
 * The paper's image representation for one image, computed as `imagesent features` would store
 * it: decode (any size, EXIF orientation applied), detect, pick the regions, encode them.
 * `name` is used in the error for an unreadable image given as bytes. `given` regions (boxes in
 * the decoded image's pixels, the whole image first) replace the detector's.
 */
export async function regionFeatures(
  models: VisionModels,
  image: ImageInput,
  name?: string,
  given?: readonly Region[],
): Promise<RegionFeatures> {
  const t0 = performance.now();
  const rgb = await decodeImage(image, name);
  const t1 = performance.now();
  const detections =
    given || !models.detector || models.regions < 2 ? [] : await models.detector.detect(rgb);
  const regions = given
    ? [...given]
    : selectRegions(rgb.width, rgb.height, detections, models.regions, models.detector?.selection);
  const t2 = performance.now();
  const features = await models.encoder.encode(
    rgb,
    regions.map((r) => r.box),
  );
  const t3 = performance.now();
  return {
    width: rgb.width,
    height: rgb.height,
    regions,
    features,
    millis: { decode: t1 - t0, detect: t2 - t1, encode: t3 - t2 },
  };
}
