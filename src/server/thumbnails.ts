import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import sharp from "sharp";
import type { ImageIndex } from "../app/image-index.js";
import { HttpError } from "./http-error.js";

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 320;
/** Longest side of the larger view the page opens when a result is clicked. */
export const LARGE_VIEW_SIZE = 1024;

/** Thumbnails kept in memory; the oldest is dropped past this. */
const CACHE_SIZE = 256;

/**
 * Thumbnails of the indexed images, and nothing else. A request names an image by its key in the
 * index; a key the index does not hold is refused (404) before any path is built from it. Keys
 * that are absolute paths (`imagesent index DIR` stores those) are read as they are; other keys
 * (names given when indexing bytes) are read from `imagesDir`, and one that leads outside it,
 * through `..` or a symbolic link, is refused (403).
 */
export class Thumbnails {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly index: ImageIndex,
    private readonly imagesDir?: string,
  ) {}

  /** A JPEG of the image at most `size` pixels on its longest side, EXIF orientation applied. */
  async get(key: string, size: number = THUMBNAIL_SIZE): Promise<Buffer> {
    const cacheKey = `${size} ${key}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const file = await this.fileOf(key);
    let jpeg: Buffer;
    try {
      jpeg = await sharp(file)
        .rotate()
        .resize(size, size, { fit: "inside", withoutEnlargement: true })
        .jpeg({ quality: 82 })
        .toBuffer();
    } catch (err) {
      throw new Error(`${file}: cannot make a thumbnail (${(err as Error).message})`);
    }
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(cacheKey, jpeg);
    return jpeg;
  }

  /** The file of an indexed image, checked as the class comment says. */
  private async fileOf(key: string): Promise<string> {
    if (!(await this.index.has(key))) throw new HttpError(404, `${key}: not an indexed image`);
    if (isAbsolute(key)) {
      if (!existsSync(key)) throw new HttpError(404, `${key}: the indexed file is gone`);
      return key;
    }
    if (this.imagesDir === undefined) {
      throw new HttpError(
        404,
        `${key}: was indexed by name; start imagesent serve with --images DIR to show it`,
      );
    }
    const path = join(this.imagesDir, key);
    if (!existsSync(path)) throw new HttpError(404, `${key}: not found in ${this.imagesDir}`);
    const inside = relative(realpathSync(this.imagesDir), realpathSync(path));
    if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new HttpError(403, `${key}: outside the image folder`);
    }
    return path;
  }
}
