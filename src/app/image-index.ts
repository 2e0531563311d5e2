import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CorruptFileError, InputError } from "../errors.js";
import { FeatureStore, type StoredImage, type StoreMeta } from "../vision/feature-store.js";

/**
 * A search index on disk: the region features of every indexed image in a feature store
 * (docs/feature-store.md), keyed by the image's absolute path or given name, and optionally the
 * sentences that image search ranks:
 *
 *   INDEX/index.json       {"format": "imagesent-index", "version": 1}
 *   INDEX/features/        the feature store
 *   INDEX/sentences.json   a JSON array of sentences (absent when none were indexed)
 */
export const INDEX_FORMAT = "imagesent-index";
export const INDEX_VERSION = 1;

export class ImageIndex {
  private constructor(
    readonly dir: string,
    readonly store: FeatureStore,
  ) {}

  /** Opens an existing index. */
  static open(dir: string): ImageIndex {
    const path = join(dir, "index.json");
    if (!existsSync(path)) throw new InputError(`${dir}: not an image index (no index.json)`);
    checkIndexJson(path);
    return new ImageIndex(dir, FeatureStore.open(join(dir, "features")));
  }

  /**
   * Opens the index at `dir` to add to it, creating it when absent; its features must come from
   * the same encoder, detector and region count as `meta` says (the store refuses others). The
   * index is locked (its feature store's LOCK) until close() or the process exits.
   */
  static openForWriting(dir: string, meta: Omit<StoreMeta, "format" | "version">): ImageIndex {
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new InputError(`${dir}: exists and is not a folder (an index is a folder)`);
    const path = join(dir, "index.json");
    if (existsSync(path)) checkIndexJson(path);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new InputError(`${dir}: cannot create the index folder (${(err as Error).message})`);
    }
    const store = FeatureStore.openForWriting(join(dir, "features"), meta);
    if (!existsSync(path)) {
      writeFileAtomic(
        path,
        `${JSON.stringify({ format: INDEX_FORMAT, version: INDEX_VERSION }, null, 2)}\n`,
      );
    }
    return new ImageIndex(dir, store);
  }

  /** Releases the lock of an index opened for writing. */
  close(): void {
    this.store.close();
  }

  get size(): number {
    return this.store.size;
  }

  has(key: string): boolean {
    return this.store.has(key);
  }

  /** Adds images (one shard, written atomically). */
  append(images: readonly StoredImage[]): void {
    this.store.append(images);
  }

  /** Every indexed image with its regions and raw features. */
  images(): StoredImage[] {
    return [...this.store.entries()];
  }

  /** The indexed sentences, in the order they were added. */
  sentences(): string[] {
    const path = join(this.dir, "sentences.json");
    if (!existsSync(path)) return [];
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      throw new CorruptFileError(`${path}: invalid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(json) || json.some((s) => typeof s !== "string")) {
      throw new CorruptFileError(`${path}: expected a JSON array of sentences`);
    }
    return json as string[];
  }

  /** Adds sentences not already indexed; returns how many were new. */
  addSentences(sentences: readonly string[]): number {
    const have = this.sentences();
    const seen = new Set(have);
    const added = sentences.filter((s) => !seen.has(s) && seen.add(s));
    if (added.length > 0) {
      writeFileAtomic(join(this.dir, "sentences.json"), JSON.stringify([...have, ...added]));
    }
    return added.length;
  }
}

/** Checks index.json: corrupt JSON is a CorruptFileError, another format or version is refused. */
function checkIndexJson(path: string): void {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new CorruptFileError(`${path}: invalid JSON (${(err as Error).message})`);
  }
  const j = json as { format?: unknown; version?: unknown } | null;
  if (j?.format !== INDEX_FORMAT || j.version !== INDEX_VERSION) {
    throw new InputError(`${path}: not an ${INDEX_FORMAT} v${INDEX_VERSION} index`);
  }
}
