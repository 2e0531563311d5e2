import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { InputError } from "../errors.js";
import type { Region, RegionSource } from "./image.js";

/**
 * The on-disk store of region features (format in docs/feature-store.md): a directory with
 * `store.json` (what made the features) and numbered shards, each holding a batch of images and
 * written atomically, so a killed run loses at most the shard it was writing and a rerun skips
 * every image already in a shard.
 */

export const STORE_FORMAT = "imagesent-features";
export const STORE_VERSION = 1;
const SHARD_MAGIC = "ISF1";

export interface StoreMeta {
  readonly format: typeof STORE_FORMAT;
  readonly version: number;
  /** RegionEncoder.name of the encoder that made the features. */
  readonly encoder: string;
  readonly dim: number;
  /** Regions per image (20 as in the paper, or 1 for whole images only). */
  readonly regionsPerImage: number;
  /** Detector name, or null when regions are not from a detector. */
  readonly detector: string | null;
}

/** One image's entry: its regions (row i of `features` encodes regions[i]). */
export interface StoredImage {
  readonly filename: string;
  /** The dataset's image id, or -1 when features were made from a folder without a dataset. */
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly regions: readonly Region[];
  /** regions.length x dim, row-major. */
  readonly features: Float32Array;
}

interface ShardRegion {
  box: [number, number, number, number];
  source: RegionSource;
  label?: string;
  score?: number;
}

interface ShardHeader {
  dim: number;
  images: { filename: string; id: number; width: number; height: number; regions: ShardRegion[] }[];
}

const SHARD_NAME = /^shard-(\d{6})\.isf$/;

export function encodeShard(dim: number, images: readonly StoredImage[]): Uint8Array {
  const header: ShardHeader = {
    dim,
    images: images.map((im) => ({
      filename: im.filename,
      id: im.id,
      width: im.width,
      height: im.height,
      regions: im.regions.map((r) => ({
        box: [r.box.x1, r.box.y1, r.box.x2, r.box.y2],
        source: r.source,
        ...(r.label !== undefined ? { label: r.label } : {}),
        ...(r.score !== undefined ? { score: r.score } : {}),
      })),
    })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 4) * 4;
  const rows = images.reduce((n, im) => n + im.regions.length, 0);
  const out = new Uint8Array(8 + headerLen + rows * dim * 4);
  out.set(new TextEncoder().encode(SHARD_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, headerLen, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const im of images) {
    if (im.features.length !== im.regions.length * dim) {
      throw new Error(
        `${im.filename}: ${im.features.length} feature values for ${im.regions.length} regions of dim ${dim}`,
      );
    }
    for (let i = 0; i < im.features.length; i++, pos += 4)
      view.setFloat32(pos, im.features[i], true);
  }
  return out;
}

function readHeader(path: string): { header: ShardHeader; dataStart: number } {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8 || head.toString("latin1", 0, 4) !== SHARD_MAGIC) {
      throw new InputError(`${path}: not a feature shard`);
    }
    const len = head.readUInt32LE(4);
    const json = Buffer.alloc(len);
    if (readSync(fd, json, 0, len, 8) !== len)
      throw new InputError(`${path}: truncated shard header`);
    return { header: JSON.parse(json.toString("utf8")) as ShardHeader, dataStart: 8 + len };
  } finally {
    closeSync(fd);
  }
}

export function decodeShard(bytes: Uint8Array, where = "shard"): StoredImage[] {
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== SHARD_MAGIC)
    throw new InputError(`${where}: not a feature shard`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as ShardHeader;
  let pos = 8 + len;
  return header.images.map((im) => {
    const n = im.regions.length * header.dim;
    if (pos + n * 4 > bytes.length) throw new InputError(`${where}: truncated feature data`);
    const features = new Float32Array(n);
    for (let i = 0; i < n; i++, pos += 4) features[i] = view.getFloat32(pos, true);
    return {
      filename: im.filename,
      id: im.id,
      width: im.width,
      height: im.height,
      regions: im.regions.map((r) => ({
        box: { x1: r.box[0], y1: r.box[1], x2: r.box[2], y2: r.box[3] },
        source: r.source,
        ...(r.label !== undefined ? { label: r.label } : {}),
        ...(r.score !== undefined ? { score: r.score } : {}),
      })),
      features,
    };
  });
}

export class FeatureStore {
  /** Shard file of each stored image. */
  private readonly index = new Map<string, string>();
  private nextShard = 0;
  private cached: { path: string; images: Map<string, StoredImage> } | undefined;

  private constructor(
    readonly dir: string,
    readonly meta: StoreMeta,
  ) {
    for (const f of readdirSync(dir).sort()) {
      const m = SHARD_NAME.exec(f);
      if (!m) continue;
      const path = join(dir, f);
      for (const im of readHeader(path).header.images) this.index.set(im.filename, path);
      this.nextShard = Math.max(this.nextShard, Number(m[1]) + 1);
    }
  }

  /** Opens an existing store. */
  static open(dir: string): FeatureStore {
    const metaPath = join(dir, "store.json");
    if (!existsSync(metaPath)) throw new InputError(`${dir}: not a feature store (no store.json)`);
    let meta: StoreMeta;
    try {
      meta = JSON.parse(readFileSync(metaPath, "utf8")) as StoreMeta;
    } catch (err) {
      throw new InputError(`${metaPath}: invalid JSON (${(err as Error).message})`);
    }
    if (meta.format !== STORE_FORMAT || meta.version !== STORE_VERSION) {
      throw new InputError(`${metaPath}: not an ${STORE_FORMAT} v${STORE_VERSION} store`);
    }
    return new FeatureStore(dir, meta);
  }

  /**
   * Opens the store at `dir` to add to it, creating it when absent. An existing store must have
   * been made by the same encoder, dimension, region count and detector: mixing them would make
   * features incomparable.
   */
  static openForWriting(dir: string, meta: Omit<StoreMeta, "format" | "version">): FeatureStore {
    const full: StoreMeta = { format: STORE_FORMAT, version: STORE_VERSION, ...meta };
    if (existsSync(join(dir, "store.json"))) {
      const store = FeatureStore.open(dir);
      for (const key of ["encoder", "dim", "regionsPerImage", "detector"] as const) {
        if (store.meta[key] !== full[key]) {
          throw new InputError(
            `${dir}: store was made with ${key} = ${store.meta[key]}, this run has ${full[key]}; use another --out`,
          );
        }
      }
      // Leftovers of a write that was killed before its rename.
      for (const f of readdirSync(dir))
        if (f.startsWith(".shard-") && f.endsWith(".tmp")) rmSync(join(dir, f));
      return store;
    }
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, "store.json"), `${JSON.stringify(full, null, 2)}\n`);
    return new FeatureStore(dir, full);
  }

  get size(): number {
    return this.index.size;
  }

  has(filename: string): boolean {
    return this.index.has(filename);
  }

  filenames(): string[] {
    return [...this.index.keys()];
  }

  /** Adds a batch of images as one new shard (atomically: all of them or, if killed, none). */
  append(images: readonly StoredImage[]): void {
    if (images.length === 0) return;
    const path = join(this.dir, `shard-${String(this.nextShard).padStart(6, "0")}.isf`);
    writeFileAtomic(path, encodeShard(this.meta.dim, images));
    this.nextShard++;
    for (const im of images) this.index.set(im.filename, path);
  }

  /** One image's regions and features, or undefined when it is not stored. */
  get(filename: string): StoredImage | undefined {
    const path = this.index.get(filename);
    if (!path) return undefined;
    if (this.cached?.path !== path) {
      const images = decodeShard(readFileSync(path), path);
      this.cached = { path, images: new Map(images.map((im) => [im.filename, im])) };
    }
    return this.cached.images.get(filename);
  }

  /** Every stored image, shard by shard (a later shard's entry for a file wins). */
  *entries(): Generator<StoredImage> {
    const shards = [...new Set(this.index.values())].sort();
    for (const path of shards) {
      for (const im of decodeShard(readFileSync(path), path)) {
        if (this.index.get(im.filename) === path) yield im;
      }
    }
  }
}
