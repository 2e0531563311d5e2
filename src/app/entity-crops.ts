import { existsSync } from "node:fs";
import { join } from "node:path";
import { type EntityImage, scaleEntityBox } from "../data/flickr30k-entities.js";
import { InputError } from "../errors.js";
import {
  type EncodedRegions,
  type EntityRegion,
  entityRegions,
} from "../generate/entity-regions.js";
import { decodeImage } from "../vision/decode.js";
import type { RegionEncoder } from "../vision/region-encoder.js";

/**
 * The CNN codes of every entity region of `images` (generate/entity-regions.ts), cut from the
 * image files in `imagesDir` as describe's region features are: the file decoded, each box
 * scaled from the annotated image's size to the file's pixels, and the encoder's own crop (its
 * context padding and warp) applied to it. Every file is checked to exist before any is read.
 * `onImage` is called after each image with its region count.
 */
export async function encodeEntityRegions(
  encoder: RegionEncoder,
  imagesDir: string,
  images: readonly EntityImage[],
  onImage?: (regions: number) => void,
): Promise<EncodedRegions> {
  const absent = images.filter((e) => !existsSync(join(imagesDir, e.image.filename)));
  if (absent.length > 0) {
    throw new InputError(
      `${imagesDir}: lacks ${absent.length} of the ${images.length} images (e.g. ${absent[0].image.filename})`,
    );
  }
  const regions: EntityRegion[] = [];
  const chunks: Float32Array[] = [];
  for (const entity of images) {
    const found = entityRegions(entity);
    if (found.length > 0) {
      const path = join(imagesDir, entity.image.filename);
      const rgb = await decodeImage(path, path);
      const boxes = found.map((r) =>
        scaleEntityBox(r.box, entity.annotation, rgb.width, rgb.height),
      );
      chunks.push(await encoder.encode(rgb, boxes));
      regions.push(...found);
    }
    onImage?.(found.length);
  }
  const features = new Float32Array(regions.length * encoder.dim);
  let offset = 0;
  for (const c of chunks) {
    features.set(c, offset);
    offset += c.length;
  }
  return { regions, features };
}
