import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CorruptFileError, InputError } from "../errors.js";
import { inRange, JsonFields, parseJson } from "../json-fields.js";
import type { Region, RegionSource } from "./image.js";

/**
 * The on-disk store of region features (format in docs/feature-store.md): a directory with
 * `store.json` (what made the features, and every shard with its image count, size and CRC-32s)
 * and numbered shards, each holding a batch of images. A shard is written in full under a
 * temporary name and linked into place (never over another shard), then listed in store.json,
 * so a killed run loses at most the shard it was writing and a rerun skips every listed image.
 * One writer at a time: a writer holds STORE/LOCK, created exclusively.
 */

export const STORE_FORMAT = "imagesent-features";
/** 2: store.json lists the shards with their checksums. 1 (read, upgraded on write): it did not. */
export const STORE_VERSION = 2;
const SHARD_MAGIC = "ISF1";
export const LOCK_FILE = "LOCK";

export interface StoreMeta {
  readonly format: typeof STORE_FORMAT;
  readonly version: number;
  /** RegionEncoder.name of the encoder that made the features. */
  readonly encoder: string;
  readonly dim: number;
  /** Regions per image, the same for every image (20 as in the paper, or 1 for whole images). */
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

/** A shard as store.json lists it; v1 stores have no size or checksums to compare. */
interface ShardRecord {
  readonly file: string;
  readonly images: number;
  readonly bytes?: number;
  /** CRC-32 of bytes [0, 8 + H) (magic, length, header) and of the feature data after it. */
  readonly crc32?: readonly [number, number];
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
/** Temporary files of shard and store.json writes (only ever written under the lock). */
const SHARD_LEFTOVER = /^\.(shard-\d{6}\.isf|store\.json)\.[^.]+\.tmp$/;
const SOURCES: readonly string[] = ["whole", "detection", "fallback"];

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
    for (let i = 0; i < im.features.length; i++, pos += 4) {
      if (!Number.isFinite(im.features[i])) {
        throw new InputError(
          `${im.filename}: the encoder gave a non-finite feature value (${im.features[i]}) for region ${Math.floor(i / dim)}`,
        );
      }
      view.setFloat32(pos, im.features[i], true);
    }
  }
  return out;
}

/** What a shard must agree with: the store's dimension and regions per image. */
interface Expect {
  readonly dim?: number;
  readonly regionsPerImage?: number;
}

/** Parses and checks a shard header: every field, and the feature bytes it implies (`dataBytes`). */
function parseHeader(
  json: Uint8Array,
  path: string,
  dataBytes: number,
  expect: Expect,
): ShardHeader {
  const where = `${path}: shard header`;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch (err) {
    throw new CorruptFileError(`${where}: invalid UTF-8 (${(err as Error).message})`);
  }
  const header = parseJson(text, where, CorruptFileError);
  const r = JsonFields.of(header, where, { error: CorruptFileError });
  const dim = r.number("dim", { integer: true, min: 1 });
  if (expect.dim !== undefined && dim !== expect.dim) r.fail("dim", `${expect.dim}, the store's`);
  let rows = 0;
  for (const im of r.objects("images")) {
    im.string("filename", { want: "a file name" });
    im.number("id", { integer: true, min: -1 });
    im.number("width", { integer: true, min: 1 });
    im.number("height", { integer: true, min: 1 });
    const want = expect.regionsPerImage;
    const regions = im.objects("regions", {
      minLength: 1,
      ...(want === undefined
        ? {}
        : { length: want, want: `${want} regions (the store's regionsPerImage)` }),
    });
    for (const region of regions) {
      const [x1, y1, x2, y2] = region.numbers("box", {}, { length: 4 });
      if (x1! > x2! || y1! > y2!) region.fail("box", "[x1, y1, x2, y2] with x1 <= x2, y1 <= y2");
      region.oneOf("source", SOURCES);
      region.optionalString("label", { empty: true });
      region.optionalNumber("score");
    }
    rows += regions.length;
  }
  const h = header as unknown as ShardHeader;
  if (rows * h.dim * 4 !== dataBytes) {
    throw new CorruptFileError(
      `${path}: the header lists ${rows} regions of ${h.dim} floats (${rows * h.dim * 4} bytes), the shard holds ${dataBytes} bytes of features`,
    );
  }
  return h;
}

/** Where the header ends, from the first 8 bytes (magic and header length). */
function headerEnd(head: Uint8Array, size: number, where: string): number {
  if (head.length < 8 || new TextDecoder().decode(head.subarray(0, 4)) !== SHARD_MAGIC)
    throw new CorruptFileError(`${where}: not a feature shard (no ${SHARD_MAGIC} magic)`);
  const len = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
  if (len % 4 !== 0 || 8 + len > size)
    throw new CorruptFileError(`${where}: header length ${len} does not fit a ${size}-byte shard`);
  return 8 + len;
}

/**
 * Decodes a shard, checking every header field against the feature bytes and `expect`, and that
 * every feature value is finite; a shard that fails is a CorruptFileError naming `where`.
 */
export function decodeShard(
  bytes: Uint8Array,
  where = "shard",
  expect: Expect = {},
): StoredImage[] {
  const dataStart = headerEnd(bytes, bytes.length, where);
  const header = parseHeader(bytes.subarray(8, dataStart), where, bytes.length - dataStart, expect);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = dataStart;
  return header.images.map((im) => {
    const n = im.regions.length * header.dim;
    const features = new Float32Array(n);
    for (let i = 0; i < n; i++, pos += 4) {
      features[i] = view.getFloat32(pos, true);
      if (!Number.isFinite(features[i])) {
        throw new CorruptFileError(
          `${where}: ${im.filename} has a non-finite feature value (${features[i]}) in region ${Math.floor(i / header.dim)}`,
        );
      }
    }
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

/** The two CRC-32s store.json keeps for a shard's bytes. */
function shardCrcs(bytes: Uint8Array, where: string): [number, number] {
  const end = headerEnd(bytes, bytes.length, where);
  return [crc32(bytes.subarray(0, end)), crc32(bytes.subarray(end))];
}

function missing(path: string, images: number | undefined): CorruptFileError {
  return new CorruptFileError(
    `${path}: missing or unreadable${images === undefined ? "" : ` (store.json lists it with ${images} images)`}`,
  );
}

/**
 * Checks a shard's size and header (not its feature data) against what store.json says of it
 * (a v1 store says nothing) and returns the header.
 */
function readShardHeader(path: string, record: Partial<ShardRecord>, expect: Expect): ShardHeader {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    throw missing(path, record.images);
  }
  try {
    const size = statSync(path).size;
    if (record.bytes !== undefined && size !== record.bytes) {
      throw new CorruptFileError(
        `${path}: ${size} bytes, ${record.bytes} were written (truncated or changed)`,
      );
    }
    const head = Buffer.alloc(Math.min(8, size));
    readSync(fd, head, 0, head.length, 0);
    const end = headerEnd(head, size, path);
    const bytes = Buffer.alloc(end);
    readSync(fd, bytes, 0, end, 0);
    if (record.crc32 && crc32(bytes) !== record.crc32[0])
      throw new CorruptFileError(`${path}: header checksum mismatch (the shard was changed)`);
    const header = parseHeader(bytes.subarray(8), path, size - end, expect);
    if (record.images !== undefined && header.images.length !== record.images) {
      throw new CorruptFileError(
        `${path}: holds ${header.images.length} images, store.json lists ${record.images}`,
      );
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

/** Parses and checks store.json: the store's meta and, from v2 on, its shard list. */
function readStoreJson(path: string): { meta: StoreMeta; shards: ShardRecord[] | undefined } {
  const json = parseJson(readFileSync(path, "utf8"), path, CorruptFileError);
  if ((json as { format?: unknown } | null)?.format !== STORE_FORMAT)
    throw new InputError(`${path}: not an ${STORE_FORMAT} store (no "format": "${STORE_FORMAT}")`);
  const r = JsonFields.of(json, path, { error: CorruptFileError });
  const version = r.get("version");
  if (version !== 1 && version !== STORE_VERSION) {
    throw new InputError(
      `${path}: store version ${JSON.stringify(version)}; this imagesent reads versions 1 and ${STORE_VERSION}`,
    );
  }
  const meta: StoreMeta = {
    format: STORE_FORMAT,
    version,
    encoder: r.string("encoder", { want: "an encoder name" }),
    dim: r.number("dim", { integer: true, min: 1 }),
    regionsPerImage: r.number("regionsPerImage", { integer: true, min: 1 }),
    detector:
      r.get("detector") === null
        ? null
        : r.string("detector", { want: "a name or null", empty: true }),
  };
  if (version === 1) return { meta, shards: undefined };
  const seen = new Set<string>();
  const shards = r.objects("shards").map((s): ShardRecord => {
    const file = s.string("file", { pattern: SHARD_NAME, want: "a shard-NNNNNN.isf name" });
    if (seen.has(file)) s.fail("file", "a shard-NNNNNN.isf name not listed before");
    seen.add(file);
    const [a, b] = s.numbers("crc32", { integer: true, min: 0, max: 0xffffffff }, { length: 2 });
    return {
      file,
      images: s.number("images", { integer: true, min: 1 }),
      bytes: s.number("bytes", { integer: true, min: 8 }),
      crc32: [a!, b!],
    };
  });
  return { meta, shards };
}

/** What a writer writes into STORE/LOCK. */
interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  readonly token: string;
}

/** The writers of this process, by lock file, so that a later one supersedes an earlier one. */
const writers = new Map<string, FeatureStore>();
let exitHookInstalled = false;

function readLock(path: string): { raw: string; holder: LockHolder | undefined } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const h = JSON.parse(raw) as Partial<LockHolder>;
    if (
      inRange(h.pid, { integer: true, min: 1 }) &&
      typeof h.host === "string" &&
      typeof h.started === "string"
    )
      return { raw, holder: h as LockHolder };
  } catch {}
  return { raw, holder: undefined };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Writes `data` in full under a temporary name, then links it to `path`: never over a file. */
function writeNewFile(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx");
  try {
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

export class FeatureStore {
  /** Shard file of each stored image. */
  private readonly index = new Map<string, string>();
  private readonly shards: ShardRecord[];
  private cached: { path: string; images: Map<string, StoredImage> } | undefined;
  /** The LOCK this writer holds; undefined for a reader, or once closed or superseded. */
  private lock: LockHolder | undefined;
  private superseded = false;

  private constructor(
    readonly dir: string,
    readonly meta: StoreMeta,
    shards: ShardRecord[] | undefined,
  ) {
    // A v1 store lists no shards: it holds every shard file in the folder.
    const records =
      shards ??
      readdirSync(dir)
        .filter((f) => SHARD_NAME.test(f))
        .sort()
        .map((file) => ({ file }));
    this.shards = [];
    for (const record of records) {
      const path = join(dir, record.file);
      const { images } = readShardHeader(path, record, meta);
      for (const im of images) this.index.set(im.filename, path);
      this.shards.push({ ...record, images: images.length });
    }
  }

  /** Opens an existing store to read it (checking store.json and every shard's header). */
  static open(dir: string): FeatureStore {
    const metaPath = join(dir, "store.json");
    if (!existsSync(metaPath)) throw new InputError(`${dir}: not a feature store (no store.json)`);
    const { meta, shards } = readStoreJson(metaPath);
    return new FeatureStore(dir, meta, shards);
  }

  /**
   * Opens the store at `dir` to add to it, creating it when absent, and holds its LOCK until
   * close() or the process exits. An existing store must have been made by the same encoder,
   * dimension, region count and detector (mixing them would make features incomparable), and
   * every shard must read back as written. A v1 store is upgraded: its shards are checked and
   * their checksums recorded.
   */
  static openForWriting(dir: string, meta: Omit<StoreMeta, "format" | "version">): FeatureStore {
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new InputError(`${dir}: exists and is not a folder (a feature store is a folder)`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new InputError(`${dir}: cannot create the store folder (${(err as Error).message})`);
    }
    const lock = FeatureStore.acquireLock(dir);
    try {
      const full: StoreMeta = { format: STORE_FORMAT, version: STORE_VERSION, ...meta };
      let store: FeatureStore;
      if (existsSync(join(dir, "store.json"))) {
        store = FeatureStore.open(dir);
        for (const key of ["encoder", "dim", "regionsPerImage", "detector"] as const) {
          if (store.meta[key] !== full[key]) {
            throw new InputError(
              `${dir}: store was made with ${key} = ${store.meta[key]}, this run has ${full[key]}; use another --out`,
            );
          }
        }
        store.verify();
        const listed = new Set(store.shards.map((s) => s.file));
        // Leftovers of a write killed before it was listed: temporary files, unlisted shards.
        for (const f of readdirSync(dir)) {
          if (SHARD_LEFTOVER.test(f) || (SHARD_NAME.test(f) && !listed.has(f)))
            rmSync(join(dir, f));
        }
        if (store.meta.version !== STORE_VERSION) {
          store = new FeatureStore(dir, full, store.checksummed());
          store.writeStoreJson();
        }
      } else {
        store = new FeatureStore(dir, full, []);
        store.writeStoreJson();
      }
      store.lock = lock;
      writers.set(resolve(dir, LOCK_FILE), store);
      return store;
    } catch (err) {
      FeatureStore.releaseLock(dir, lock);
      throw err;
    }
  }

  /**
   * Creates STORE/LOCK exclusively. A lock left by a dead process of this host is taken over; one
   * held by an earlier writer of this process is taken from it (its next append fails); any other
   * is a refusal naming the holder.
   */
  private static acquireLock(dir: string): LockHolder {
    const path = join(dir, LOCK_FILE);
    const mine: LockHolder = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
      token: randomBytes(8).toString("hex"),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        writeNewFile(path, `${JSON.stringify(mine)}\n`);
        if (!exitHookInstalled) {
          process.on("exit", () => {
            for (const w of writers.values()) w.close();
          });
          exitHookInstalled = true;
        }
        return mine;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const found = readLock(path);
      if (!found) continue;
      const { holder } = found;
      const earlier = writers.get(resolve(path));
      if (earlier && holder && earlier.lock?.token === holder.token) {
        earlier.supersede();
        rmSync(path);
        continue;
      }
      if (!holder) {
        throw new InputError(
          `${path}: unreadable lock file; remove it if no imagesent process is writing ${dir}`,
        );
      }
      if (holder.host !== hostname() || processAlive(holder.pid)) {
        throw new InputError(
          `${dir} is being written by pid ${holder.pid}${holder.host === hostname() ? "" : ` on ${holder.host}`} since ${holder.started}; wait for it, or remove ${path} if that process is gone`,
        );
      }
      // Stale: move it aside (atomic, so only one taker wins), and check it is the one we read.
      const aside = join(dir, `.${LOCK_FILE}.${randomBytes(4).toString("hex")}.stale`);
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      if (readFileSync(aside, "utf8") !== found.raw) {
        // A live writer's lock, taken over meanwhile: put it back (unless a third one is there).
        try {
          linkSync(aside, path);
        } catch {}
        rmSync(aside);
        continue;
      }
      rmSync(aside);
    }
    throw new InputError(`${path}: could not take the lock (other writers keep taking it)`);
  }

  private static releaseLock(dir: string, lock: LockHolder): void {
    const path = join(dir, LOCK_FILE);
    if (readLock(path)?.holder?.token === lock.token) rmSync(path, { force: true });
  }

  /** Another writer of this process took the lock: this one may not write any more. */
  private supersede(): void {
    this.superseded = true;
    this.lock = undefined;
  }

  /** Releases the lock of a writer (a reader has none); the store stays readable. */
  close(): void {
    if (!this.lock) return;
    FeatureStore.releaseLock(this.dir, this.lock);
    this.lock = undefined;
    writers.delete(resolve(this.dir, LOCK_FILE));
  }

  /** Reads every shard in full, checking sizes, checksums and values. */
  verify(): void {
    for (const record of this.shards) this.readShard(record);
  }

  /** This store's shards with their sizes and checksums computed from the files (v1 upgrade). */
  private checksummed(): ShardRecord[] {
    return this.shards.map((r) => {
      const bytes = readFileSync(join(this.dir, r.file));
      return { ...r, bytes: bytes.length, crc32: shardCrcs(bytes, r.file) };
    });
  }

  private writeStoreJson(): void {
    const json = { ...this.meta, shards: this.shards };
    writeFileAtomic(join(this.dir, "store.json"), `${JSON.stringify(json, null, 2)}\n`);
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

  /**
   * Adds a batch of images as one new shard: written in full and linked in under the next free
   * number, then listed in store.json (a kill in between leaves an unlisted shard, removed when
   * the store is next opened for writing).
   */
  append(images: readonly StoredImage[]): void {
    if (images.length === 0) return;
    if (!this.lock) {
      throw new InputError(
        this.superseded
          ? `${this.dir}: opened for writing again in this process; this writer may not append`
          : `${this.dir}: not opened for writing`,
      );
    }
    for (const im of images) {
      if (im.regions.length !== this.meta.regionsPerImage) {
        throw new InputError(
          `${im.filename}: ${im.regions.length} regions; the store ${this.dir} holds ${this.meta.regionsPerImage} per image`,
        );
      }
    }
    const bytes = encodeShard(this.meta.dim, images);
    let next = 0;
    for (const f of [...readdirSync(this.dir), ...this.shards.map((s) => s.file)]) {
      const m = SHARD_NAME.exec(f);
      if (m) next = Math.max(next, Number(m[1]) + 1);
    }
    let file: string;
    for (;;) {
      file = `shard-${String(next).padStart(6, "0")}.isf`;
      try {
        writeNewFile(join(this.dir, file), bytes);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        next++;
      }
    }
    const path = join(this.dir, file);
    this.shards.push({
      file,
      images: images.length,
      bytes: bytes.length,
      crc32: shardCrcs(bytes, path),
    });
    try {
      this.writeStoreJson();
    } catch (err) {
      this.shards.pop();
      rmSync(path, { force: true });
      throw err;
    }
    for (const im of images) this.index.set(im.filename, path);
  }

  /** A shard read in full and checked against its record. */
  private readShard(record: ShardRecord): StoredImage[] {
    const path = join(this.dir, record.file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw missing(path, record.images);
    }
    if (record.bytes !== undefined && bytes.length !== record.bytes) {
      throw new CorruptFileError(
        `${path}: ${bytes.length} bytes, ${record.bytes} were written (truncated or changed)`,
      );
    }
    if (record.crc32) {
      const [head, data] = shardCrcs(bytes, path);
      if (head !== record.crc32[0])
        throw new CorruptFileError(`${path}: header checksum mismatch (the shard was changed)`);
      if (data !== record.crc32[1])
        throw new CorruptFileError(
          `${path}: feature data checksum mismatch (the shard was changed)`,
        );
    }
    const images = decodeShard(bytes, path, this.meta);
    if (images.length !== record.images) {
      throw new CorruptFileError(
        `${path}: holds ${images.length} images, store.json lists ${record.images}`,
      );
    }
    return images;
  }

  private recordOf(path: string): ShardRecord {
    const record = this.shards.find((s) => join(this.dir, s.file) === path);
    if (!record) throw new Error(`${path}: not a shard of ${this.dir}`);
    return record;
  }

  /** One image's regions and features, or undefined when it is not stored. */
  get(filename: string): StoredImage | undefined {
    const path = this.index.get(filename);
    if (!path) return undefined;
    if (this.cached?.path !== path) {
      const images = this.readShard(this.recordOf(path));
      this.cached = { path, images: new Map(images.map((im) => [im.filename, im])) };
    }
    return this.cached.images.get(filename);
  }

  /** Every stored image, shard by shard (a later shard's entry for a file wins). */
  *entries(): Generator<StoredImage> {
    for (const record of this.shards) {
      const path = join(this.dir, record.file);
      for (const im of this.readShard(record)) {
        if (this.index.get(im.filename) === path) yield im;
      }
    }
  }
}
