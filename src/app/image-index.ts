import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { writeFileAtomic } from "../core/atomic-file.js";
import { kernels } from "../core/kernels/index.js";
import { largest } from "../core/largest.js";
import { CorruptFileError, InputError } from "../errors.js";
import { JsonFields, parseJson, readJsonFile, shown } from "../json-fields.js";
import type { Region } from "../vision/image.js";
import { ClusterSummary } from "./cluster-summary.js";
import { HeldRecords } from "./held-records.js";
import { ImageSummary } from "./image-summary.js";
import { NO_RECORD, RecordFile } from "./record-file.js";
import {
  decodeRows,
  encodeRows,
  REGION_CODECS,
  type RegionCodec,
  rowBytes,
} from "./region-codes.js";
import { RegionSketch } from "./region-sketch.js";
import type { MemberQuery, RegionEmbedder } from "./region-vectors.js";
import { addRestored, residualRows, residualScores } from "./residual-rows.js";

// LanceDB is a CommonJS package and checks tables with its own (CommonJS) apache-arrow, so the
// tables are built with that copy, not with apache-arrow's ES module.
const arrow = createRequire(import.meta.url)("apache-arrow") as typeof import("apache-arrow");

/**
 * A search index on disk (docs/search.md): what search needs of every indexed image, in LanceDB
 * tables readable from Python and DuckDB as well:
 *
 *   INDEX/index.json      {"format": "imagesent-index", "version": 3, the bundle's fingerprint,
 *                         the vision setup, the members, the codec, ...}
 *   INDEX/vectors.bin     one record per image id (record-file.ts): each search model's region
 *                         vectors v, compressed by `codec` (region-codes.ts): the exact stage
 *   INDEX/sketch.bin      one record per image id: each model's region vectors in its own small
 *                         space (RegionSketch, int8): the candidate stage
 *   INDEX/sketch-projection.bin  those spaces, fitted on the first images added
 *   INDEX/summary.bin     one record per image id: its sketch rows averaged over its regions
 *                         (ImageSummary, int8): the first candidate stage of a large index
 *   INDEX/cluster-summary.bin  one record per image id: each model's sketch rows grouped into a
 *                         few clusters, their means (ClusterSummary, int8): what ranks the
 *                         summaries' shortlist before its sketches are read
 *   INDEX/fine-sketch.bin one record per image id: each model's region vectors in a larger space
 *                         of its own (RegionSketch, int8): what ranks the sketch stage's best
 *   INDEX/fine-sketch-projection.bin  those spaces, fitted with the sketch's
 *   INDEX/db/images.lance one row per image: id, key (absolute path or given name), file size
 *                         and mtime, width, height, regions (JSON: boxes, sources, detector
 *                         labels and scores), features (the raw CNN codes, float16, for
 *                         --rebuild and the MRF)
 *   INDEX/sentences.json  the sentences that search by image ranks (absent when none)
 *   INDEX/LOCK            while a writer has it open
 *
 * Version 1 (imagesent 0.1: a feature store of raw codes in INDEX/features/) and version 2 (the
 * region vectors in images.lance) are refused with the command that converts them (`imagesent
 * index --rebuild`, which re-embeds the stored codes). A version 3 index written before summary.bin
 * (summaryDims absent; it kept a regions.lance table and projection.bin for an IVF-PQ search that
 * found too few of the right images) is searched by its sketches alone until a writer opens it,
 * which writes summary.bin from sketch.bin and removes the old table and projection. One written
 * before fine-sketch.bin (fineSketchDims absent) is searched without it until a writer opens it,
 * which writes it from vectors.bin; one written before cluster-summary.bin (summaryClusters
 * absent), the same, from sketch.bin.
 */
export const INDEX_FORMAT = "imagesent-index";
export const INDEX_VERSION = 3;
export const LEGACY_INDEX_VERSION = 1;
/** The version that kept the region vectors in images.lance (v0..v{M-1}); --rebuild reads it. */
export const TABLE_VECTORS_INDEX_VERSION = 2;
export const INDEX_LOCK = "LOCK";

/**
 * Length of each model's sketch of a region vector: at 128, scoring every image of the Flickr8k
 * index by sketch and the best 200 exactly finds 0.99 of the exact top 10 (docs/search.md).
 */
export const DEFAULT_SKETCH_DIMS = 128;
/**
 * Leading sketch values per search model in an image's summary (ImageSummary): 64 x 3 models =
 * 192 values, 200 bytes an image. On the 10^5-image synthetic index the best 5,000 summaries of
 * 64 values a model held 0.95 of the exact top 10, of 48 values 0.93, of 128 values 0.965
 * (docs/search.md).
 */
export const DEFAULT_SUMMARY_DIMS = 64;
/**
 * Cluster means per search model in an image's cluster summary (ClusterSummary), of the summary's
 * DEFAULT_SUMMARY_DIMS values: on the synthetic 10^6-image index the best 10,000 images by four
 * cluster means held all of the exact top 10 that 50,000 summaries of the regions' mean held
 * (docs/search.md).
 */
export const DEFAULT_SUMMARY_CLUSTERS = 4;
/**
 * Length of each model's fine sketch of a region vector (RegionSketch): on the synthetic
 * 10^6-image index the best 625 of the sketch stage's best 2,500 by fine sketches of 256 values
 * held the 0.98 of the exact top 10 that the shortlist held, where the best 1,000 by sketch held
 * 0.93 (docs/search.md).
 */
export const DEFAULT_FINE_SKETCH_DIMS = 256;
/**
 * The compression of stored region vectors (bench:search, docs/search.md): int8-residual returned
 * 0.977 of the exact top 10 where int8 returned 0.948 at the 10^6-image index's density of near
 * copies (bench:search --pool 100, 50,000 images), at the same bytes.
 */
export const DEFAULT_CODEC: RegionCodec = "int8-residual";

export interface IndexVision {
  readonly encoder: string;
  readonly dim: number;
  readonly regionsPerImage: number;
  readonly detector: string | null;
}

export interface IndexManifest {
  readonly format: typeof INDEX_FORMAT;
  /** INDEX_VERSION; TABLE_VECTORS_INDEX_VERSION only in an index opened for --rebuild. */
  readonly version: number;
  /** RegionEmbedder.fingerprint() of the bundle whose search models made the vectors. */
  readonly bundle: string;
  /** The bundle's name or folder when it was built, for messages. */
  readonly bundleName: string;
  readonly vision: IndexVision;
  /** Each stored vector column: the regions and length of its member's v. */
  readonly members: readonly { readonly regions: number; readonly embed: number }[];
  readonly codec: RegionCodec;
  readonly sketchDims: number;
  /** Leading sketch values per member in summary.bin; 0 in an index written before it. */
  readonly summaryDims: number;
  /** Values per region in fine-sketch.bin; 0 in an index written before it. */
  readonly fineSketchDims: number;
  /** Cluster means per member in cluster-summary.bin; 0 in an index written before it. */
  readonly summaryClusters: number;
  /** The next image id to give. */
  readonly nextId: number;
}

/** What a writer says the index holds; an existing index must agree. */
export type IndexSpec = Pick<IndexManifest, "bundle" | "bundleName" | "vision" | "members"> & {
  /** The members' fusion weights (in the fingerprint; the summaries are weighted by them). */
  readonly weights: readonly number[];
  readonly codec?: RegionCodec;
  readonly sketchDims?: number;
  readonly summaryDims?: number;
  readonly fineSketchDims?: number;
  readonly summaryClusters?: number;
};

/**
 * `images` more of `total` given `what` ("fine sketches", "cluster summaries") by a writer of an
 * index written before them.
 */
export type UpgradeProgress = (what: string, images: number, total: number) => void;

/** An image to add: its key, file identity (size and mtime; -1 when not a file) and raw codes. */
export interface NewImage {
  readonly key: string;
  readonly size: number;
  readonly mtime: number;
  readonly width: number;
  readonly height: number;
  readonly regions: readonly Region[];
  /** regions x vision.dim raw CNN codes. */
  readonly features: Float32Array;
}

/** An indexed image's metadata: what was added but its codes, and its id. */
export type IndexedImage = Omit<NewImage, "features"> & { readonly id: number };

const IMAGES = "images";
/** What a version 3 index kept before summary.bin (removed by its next writer). */
const OLD_REGIONS = "regions";
const OLD_PROJECTION = "projection.bin";
/** Rows read per batch when the whole table is scanned. */
const SCAN_BATCH = 256;
/** Shortlisted sketch records read and scored per step. */
const SHORTLIST_CHUNK = 1024;
/** Sketch records scored per step of a small index's scan. */
const SKETCH_CHUNK = 256;

/**
 * Sketch records scored per step of a scan of `slots` records: at 10^5 images 1,024 (5.7 MB of
 * scratch memory) gave p50 406 ms where 256 gave 447 (2,048: 390, within the noise); a small
 * index keeps 256, since a fresh process pays ~15 us a page for new scratch memory.
 */
function scanChunk(slots: number): number {
  return Math.min(1024, Math.max(SKETCH_CHUNK, Math.ceil(slots / 32)));
}

const VECTORS_FILE = "vectors.bin";
const SKETCH_FILE = "sketch.bin";
const SKETCH_PROJECTION = "sketch-projection.bin";
const SUMMARY_FILE = "summary.bin";
const CLUSTER_FILE = "cluster-summary.bin";
/** Images whose vectors fit the fine sketch spaces of an index written before them. */
const FINE_FIT_IMAGES = 256;
/** Images re-sketched per step when fine-sketch.bin is written from vectors.bin. */
const FINE_SKETCH_CHUNK = 256;
const FINE_SKETCH_FILE = "fine-sketch.bin";
const FINE_SKETCH_PROJECTION = "fine-sketch-projection.bin";

export class ImageIndex {
  /** Rows decoded for the exact stage, kept from query to query (keptRows). */
  private readonly decodedRows: Float32Array[] = [];

  private constructor(
    readonly dir: string,
    private manifestNow: IndexManifest,
    private readonly db: lancedb.Connection,
    private images: lancedb.Table | undefined,
    private sketcher: RegionSketch | undefined,
    private readonly vectorFile: RecordFile | undefined,
    private sketchFile: RecordFile | undefined,
    private summary: ImageSummary | undefined,
    private summaryFile: RecordFile | undefined,
    private summaryHeld: HeldRecords | undefined,
    private clusters: ClusterSummary | undefined,
    private clusterFile: RecordFile | undefined,
    private clusterHeld: HeldRecords | undefined,
    private fineSketcher: RegionSketch | undefined,
    private fineSketchFile: RecordFile | undefined,
    private count: number,
    private readonly lock: string | undefined,
  ) {}

  get manifest(): IndexManifest {
    return this.manifestNow;
  }

  /** Images indexed (when opened, plus what this object added or removed since). */
  get size(): number {
    return this.count;
  }

  /** Opens an existing index to search it. */
  static async open(dir: string): Promise<ImageIndex> {
    const path = join(dir, "index.json");
    if (!existsSync(path)) throw new InputError(`${dir}: not an image index (no index.json)`);
    return ImageIndex.connect(dir, readManifest(path, dir), undefined);
  }

  /**
   * Opens an index of this version or of version 2 for reading its images' raw codes only
   * (scanFeatures, size): what --rebuild converts from.
   */
  static async openToRebuild(dir: string): Promise<ImageIndex> {
    const path = join(dir, "index.json");
    if (!existsSync(path)) throw new InputError(`${dir}: not an image index (no index.json)`);
    return ImageIndex.connect(dir, readManifest(path, dir, true), undefined, false);
  }

  /**
   * Opens the index at `dir` to change it, creating it when absent; an existing one must have
   * been built with the same bundle fingerprint and vision setup. Locked (INDEX/LOCK) until
   * close(): a second writer is refused while the first lives. An index written before this
   * version's files gets them first (`onUpgrade` hears of the fine sketches' progress).
   */
  static async openForWriting(
    dir: string,
    spec: IndexSpec,
    onUpgrade?: UpgradeProgress,
  ): Promise<ImageIndex> {
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new InputError(`${dir}: exists and is not a folder (an index is a folder)`);
    const path = join(dir, "index.json");
    let manifest: IndexManifest;
    if (existsSync(path)) {
      manifest = readManifest(path, dir);
      checkSpec(manifest, spec, dir);
    } else {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw new InputError(`${dir}: cannot create the index folder (${(err as Error).message})`);
      }
      manifest = newManifest(spec);
    }
    const lock = acquireLock(dir);
    try {
      if (!existsSync(path)) writeManifest(dir, manifest);
      const index = await ImageIndex.connect(dir, manifest, lock);
      await index.summariseOld(spec, onUpgrade);
      index.fineSketchOld(spec, onUpgrade);
      return index;
    } catch (err) {
      rmSync(lock, { force: true });
      throw err;
    }
  }

  /** `records`: open the record files too (not when only the raw codes are read, to rebuild). */
  private static async connect(
    dir: string,
    manifest: IndexManifest,
    lock: string | undefined,
    records = true,
  ): Promise<ImageIndex> {
    const db = await lancedb.connect(join(dir, "db"));
    const names = new Set(await read(dir, db.tableNames()));
    const images = names.has(IMAGES) ? await read(dir, db.openTable(IMAGES)) : undefined;
    const count = images ? await read(dir, images.countRows()) : 0;
    const current = records && manifest.version === INDEX_VERSION;
    const sketchPath = join(dir, SKETCH_PROJECTION);
    const sketcher =
      current && existsSync(sketchPath) ? readSketch(sketchPath, manifest) : undefined;
    const writable = lock !== undefined;
    const vectorFile =
      current && (writable || count > 0)
        ? RecordFile.open(join(dir, VECTORS_FILE), vectorRecordBytes(manifest), writable)
        : undefined;
    const sketchFile = sketcher
      ? RecordFile.open(join(dir, SKETCH_FILE), sketcher.recordBytes, writable)
      : undefined;
    const summary =
      sketcher && manifest.summaryDims > 0
        ? new ImageSummary(sketcher, manifest.summaryDims)
        : undefined;
    const summaryFile = summary
      ? RecordFile.open(join(dir, SUMMARY_FILE), summary.recordBytes, writable)
      : undefined;
    const clusters =
      summary && manifest.summaryClusters > 0
        ? new ClusterSummary(sketcher!, manifest.summaryDims, manifest.summaryClusters)
        : undefined;
    const clusterFile = clusters
      ? RecordFile.open(join(dir, CLUSTER_FILE), clusters.recordBytes, writable)
      : undefined;
    const finePath = join(dir, FINE_SKETCH_PROJECTION);
    const fineSketcher =
      current && manifest.fineSketchDims > 0 && existsSync(finePath)
        ? readSketch(finePath, manifest)
        : undefined;
    const fineSketchFile = fineSketcher
      ? RecordFile.open(join(dir, FINE_SKETCH_FILE), fineSketcher.recordBytes, writable)
      : undefined;
    for (const [path, wanted, got] of [
      [sketchPath, true, sketcher],
      [finePath, manifest.fineSketchDims > 0, fineSketcher],
    ] as const) {
      if (current && count > 0 && wanted && !got) {
        throw new CorruptFileError(
          `${path}: missing; build the index again with imagesent index --rebuild`,
        );
      }
    }
    return new ImageIndex(
      dir,
      manifest,
      db,
      images,
      sketcher,
      vectorFile,
      sketchFile,
      summary,
      summaryFile,
      summaryFile && new HeldRecords(summaryFile),
      clusters,
      clusterFile,
      clusterFile && new HeldRecords(clusterFile),
      fineSketcher,
      fineSketchFile,
      count,
      lock,
    );
  }

  /** Releases the lock of an index opened for writing; the tables stay readable. */
  async close(): Promise<void> {
    this.vectorFile?.close();
    this.sketchFile?.close();
    this.summaryFile?.close();
    this.clusterFile?.close();
    this.fineSketchFile?.close();
    if (this.lock) rmSync(this.lock, { force: true });
    this.db.close();
  }

  /**
   * Writes summary.bin and cluster-summary.bin of an index written before them, from its
   * sketches (one sequential read of sketch.bin), and removes the table and projection that an
   * index without summaries kept for an IVF-PQ search.
   */
  private async summariseOld(spec: IndexSpec, onUpgrade?: UpgradeProgress): Promise<void> {
    const file = this.sketchFile;
    const means = !this.summary;
    const clusters = !this.clusters;
    if (!this.sketcher || !file || !(means || clusters)) return;
    const dims = this.summary?.dims ?? spec.summaryDims ?? DEFAULT_SUMMARY_DIMS;
    const k = spec.summaryClusters ?? DEFAULT_SUMMARY_CLUSTERS;
    if (means) {
      rmSync(join(this.dir, SUMMARY_FILE), { force: true });
      this.openSummary(dims);
    }
    if (clusters) {
      rmSync(join(this.dir, CLUSTER_FILE), { force: true });
      this.openClusters(dims, k);
    }
    let at = 0;
    for (const { records, bytes } of file.scan(scanChunk(file.slots))) {
      if (means) this.summaryFile!.write(at, this.summary!.encode(bytes, records, spec.weights));
      if (clusters) {
        this.clusterFile!.write(at, this.clusters!.encode(bytes, records));
        onUpgrade?.("cluster summaries", records, file.slots);
      }
      at += records;
    }
    if ((await read(this.dir, this.db.tableNames())).includes(OLD_REGIONS))
      await read(this.dir, this.db.dropTable(OLD_REGIONS));
    rmSync(join(this.dir, OLD_PROJECTION), { force: true });
    this.manifestNow = { ...this.manifestNow, summaryDims: dims, summaryClusters: k };
    writeManifest(this.dir, this.manifestNow);
  }

  /**
   * Writes fine-sketch.bin of an index written before it from its stored vectors (a sequential
   * read of vectors.bin), its spaces fitted to the first FINE_FIT_IMAGES images, as a new index
   * fits them to its first write.
   */
  private fineSketchOld(spec: IndexSpec, onUpgrade?: UpgradeProgress): void {
    const m = this.manifestNow;
    if (m.fineSketchDims > 0 || !this.vectorFile) return;
    const dims = spec.fineSketchDims ?? DEFAULT_FINE_SKETCH_DIMS;
    rmSync(join(this.dir, FINE_SKETCH_FILE), { force: true });
    const slots = this.vectorFile.slots;
    // The first FINE_FIT_IMAGES images, past any holes at the start.
    let first = this.vectors([]);
    for (let at = 0; at < slots && first.ids.length < FINE_FIT_IMAGES; at += FINE_FIT_IMAGES) {
      const n = Math.min(FINE_FIT_IMAGES, slots - at);
      const more = this.vectors(Array.from({ length: n }, (_, k) => at + k));
      first = {
        ids: [...first.ids, ...more.ids],
        vs: first.vs.map((v, i) => concat([v, more.vs[i]], (len) => new Float32Array(len))),
      };
    }
    if (first.ids.length > 0) {
      this.openFineSketch(RegionSketch.fit(first.vs, first.ids.length, m.members, dims));
      const sketcher = this.fineSketcher!;
      const size = sketcher.recordBytes;
      for (let at = 0; at < slots; at += FINE_SKETCH_CHUNK) {
        const n = Math.min(FINE_SKETCH_CHUNK, slots - at);
        const { ids, vs } = this.vectors(Array.from({ length: n }, (_, k) => at + k));
        const encoded = sketcher.encode(vs, Int32Array.from(ids));
        const chunk = new Uint8Array(n * size);
        const view = new DataView(chunk.buffer);
        for (let k = 0; k < n; k++) view.setInt32(k * size, NO_RECORD, true);
        for (const [k, id] of ids.entries())
          chunk.set(encoded.subarray(k * size, (k + 1) * size), (id - at) * size);
        this.fineSketchFile!.write(at, chunk);
        onUpgrade?.("fine sketches", n, slots);
      }
    }
    this.manifestNow = { ...this.manifestNow, fineSketchDims: dims };
    writeManifest(this.dir, this.manifestNow);
  }

  /** Keeps `sketcher` as the fine sketch spaces and opens (creating) fine-sketch.bin. */
  private openFineSketch(sketcher: RegionSketch): void {
    writeFileAtomic(join(this.dir, FINE_SKETCH_PROJECTION), sketcher.toBytes());
    this.fineSketcher = sketcher;
    this.fineSketchFile = RecordFile.open(
      join(this.dir, FINE_SKETCH_FILE),
      sketcher.recordBytes,
      true,
    );
  }

  /** Opens (creating) summary.bin for writing, its summaries `dims` values per member. */
  private openSummary(dims: number): void {
    this.summary = new ImageSummary(this.sketcher!, dims);
    this.summaryFile = RecordFile.open(
      join(this.dir, SUMMARY_FILE),
      this.summary.recordBytes,
      true,
    );
    this.summaryHeld = new HeldRecords(this.summaryFile);
  }

  /** Opens (creating) cluster-summary.bin for writing: `k` means of `dims` values per member. */
  private openClusters(dims: number, k: number): void {
    this.clusters = new ClusterSummary(this.sketcher!, dims, k);
    this.clusterFile = RecordFile.open(
      join(this.dir, CLUSTER_FILE),
      this.clusters.recordBytes,
      true,
    );
    this.clusterHeld = new HeldRecords(this.clusterFile);
  }

  private writable(): void {
    if (!this.lock) throw new Error(`${this.dir}: opened for reading only`);
  }

  /** The image under `key`, or undefined. */
  async get(key: string): Promise<IndexedImage | undefined> {
    if (!this.images) return undefined;
    const rows = await read(
      this.dir,
      this.images
        .query()
        .where(`key = ${sqlString(key)}`)
        .select(META_COLUMNS)
        .limit(1)
        .toArrow(),
    );
    return rows.numRows === 0 ? undefined : metaOf(rows, 0, this.dir);
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** `limit` image keys from `offset`, in the order the table holds them (as added). */
  async keys(offset: number, limit: number): Promise<string[]> {
    if (!this.images || limit <= 0) return [];
    const rows = await read(
      this.dir,
      this.images.query().select(["key"]).offset(offset).limit(limit).toArrow(),
    );
    const keys = rows.getChild("key")!;
    return Array.from({ length: rows.numRows }, (_, i) => String(keys.get(i)));
  }

  /**
   * Adds images (embedded with `embedder`, whose fingerprint the index was opened with) in one
   * write per table; an image whose key is indexed already is replaced. This is the index's one
   * write path: `imagesent index`, its rebuild and any queue worker call it.
   */
  async add(images: readonly NewImage[], embedder: RegionEmbedder): Promise<void> {
    this.writable();
    if (images.length === 0) return;
    const m = this.manifestNow;
    const R = m.vision.regionsPerImage;
    const dim = m.vision.dim;
    for (const im of images) {
      if (im.features.length !== R * dim || im.regions.length !== R) {
        throw new InputError(
          `${im.key}: ${im.regions.length} regions, ${im.features.length} feature values; the index holds ${R} regions x ${dim}`,
        );
      }
    }
    const features = new Float32Array(images.length * R * dim);
    for (const [k, im] of images.entries()) features.set(im.features, k * R * dim);
    await this.addEmbedded(images, embedder.embed(features, images.length), embedder);
  }

  /**
   * `add` for images whose member vectors are computed (`embedder.embed` of their codes, or
   * synthetic ones in bench:search): the same write.
   */
  async addEmbedded(
    images: readonly NewImage[],
    vs: readonly Float32Array[],
    embedder: RegionEmbedder,
  ): Promise<void> {
    this.writable();
    if (images.length === 0) return;
    const m = this.manifestNow;
    const R = m.vision.regionsPerImage;
    const dim = m.vision.dim;
    if (!this.sketcher) {
      this.sketcher = RegionSketch.fit(vs, images.length, m.members, m.sketchDims);
      writeFileAtomic(join(this.dir, SKETCH_PROJECTION), this.sketcher.toBytes());
      this.sketchFile = RecordFile.open(
        join(this.dir, SKETCH_FILE),
        this.sketcher.recordBytes,
        true,
      );
      this.openSummary(m.summaryDims);
      if (m.summaryClusters > 0) this.openClusters(m.summaryDims, m.summaryClusters);
    }
    if (!this.fineSketcher && m.fineSketchDims > 0)
      this.openFineSketch(RegionSketch.fit(vs, images.length, m.members, m.fineSketchDims));
    await this.remove(images.map((im) => im.key));
    const ids = Int32Array.from(images, (_, k) => m.nextId + k);
    const fineRecords = this.fineSketcher?.encode(vs, ids);
    const stored =
      m.codec === "int8-residual"
        ? residualRows(vs, this.fineSketcher!, fineRecords!, images.length)
        : vs;
    const vectorBytes = vectorRecordBytes(m);
    const records = new Uint8Array(images.length * vectorBytes);
    const recordView = new DataView(records.buffer);
    for (let k = 0; k < images.length; k++) {
      let at = k * vectorBytes;
      recordView.setInt32(at, ids[k], true);
      at += 4;
      for (const [i, mem] of m.members.entries()) {
        const per = mem.regions * mem.embed;
        const rowsBytes = encodeRows(
          stored[i].subarray(k * per, (k + 1) * per),
          mem.regions,
          mem.embed,
          m.codec,
        );
        records.set(rowsBytes, at);
        at += rowsBytes.length;
      }
    }
    const imageRows = new arrow.Table({
      id: arrow.makeVector(ids),
      key: arrow.vectorFromArray(
        images.map((im) => im.key),
        new arrow.Utf8(),
      ),
      size: arrow.makeVector(Float64Array.from(images, (im) => im.size)),
      mtime: arrow.makeVector(Float64Array.from(images, (im) => im.mtime)),
      width: arrow.makeVector(Int32Array.from(images, (im) => im.width)),
      height: arrow.makeVector(Int32Array.from(images, (im) => im.height)),
      regions: arrow.vectorFromArray(
        images.map((im) => JSON.stringify(im.regions)),
        new arrow.Utf8(),
      ),
      features: arrow.vectorFromArray(
        images.map((im) => encodeRows(im.features, R, dim, "fp16")),
        new arrow.Binary(),
      ),
    });
    // The records first: an image row is what makes an image found, so a crash between the
    // writes leaves orphan records (ignored: search looks their images up) at worst.
    this.vectorFile!.write(m.nextId, records);
    const sketches = this.sketcher.encode(vs, ids);
    this.sketchFile!.write(m.nextId, sketches);
    const weights = embedder.members.map((mem) => mem.weight);
    this.summaryFile?.write(m.nextId, this.summary!.encode(sketches, images.length, weights));
    this.clusterFile?.write(m.nextId, this.clusters!.encode(sketches, images.length));
    if (fineRecords) this.fineSketchFile!.write(m.nextId, fineRecords);
    if (this.images) await this.images.add(imageRows);
    else this.images = await this.db.createTable(IMAGES, imageRows);
    this.count += images.length;
    this.manifestNow = { ...m, nextId: m.nextId + images.length };
    writeManifest(this.dir, this.manifestNow);
  }

  /** Removes the images under `keys` (those indexed); returns how many were. */
  async remove(keys: readonly string[]): Promise<number> {
    this.writable();
    if (!this.images || keys.length === 0) return 0;
    let removed = 0;
    for (let at = 0; at < keys.length; at += 500) {
      const list = keys
        .slice(at, at + 500)
        .map(sqlString)
        .join(", ");
      const rows = await this.images.query().where(`key IN (${list})`).select(["id"]).toArrow();
      if (rows.numRows === 0) continue;
      const ids = Array.from(rows.getChild("id")!.toArray() as Int32Array);
      await this.images.delete(`id IN (${ids.join(", ")})`);
      this.vectorFile?.clear(ids);
      this.sketchFile?.clear(ids);
      this.summaryFile?.clear(ids);
      this.clusterFile?.clear(ids);
      this.fineSketchFile?.clear(ids);
      this.summaryHeld?.clear(ids);
      this.clusterHeld?.clear(ids);
      removed += ids.length;
    }
    this.count -= removed;
    return removed;
  }

  /**
   * Brings the image table's indexes up to date after writes: scalar indexes on the image key
   * and id make lookups direct; new rows are merged into them.
   */
  async optimize(): Promise<void> {
    this.writable();
    if (!this.images) return;
    const indexed = new Set((await this.images.listIndices()).map((i) => i.columns.join()));
    for (const column of ["id", "key"]) {
      if (!indexed.has(column)) {
        await this.images.createIndex(column, { config: lancedb.Index.btree() });
      }
    }
    await this.images.optimize();
  }

  /**
   * The member vectors (decoded, each found x member regions x embed) of the images with these
   * ids, from vectors.bin, in the order of `ids`; ids with no record are left out of `ids`. With
   * `unscaled`, the vectors are left as decodeRows leaves them given scales, with each member's
   * row scales in `scales` (for RegionEmbedder.score).
   */
  vectors(
    ids: readonly number[],
    unscaled = false,
  ): { ids: number[]; vs: Float32Array[]; scales?: Float32Array[] } {
    if (this.manifestNow.codec !== "int8-residual") return this.storedRows(ids, unscaled);
    const rows = this.storedRows(ids);
    addRestored(
      rows.vs,
      this.fineSketcher!,
      this.fineSketchFile!.read(rows.ids, true),
      rows.ids.length,
    );
    if (!unscaled) return rows;
    const scales = this.manifestNow.members.map((mem) =>
      new Float32Array(rows.ids.length * mem.regions).fill(1),
    );
    return { ...rows, scales };
  }

  /**
   * `vectors` as vectors.bin holds them: for "int8-residual", the residual rows. With `kept`, the
   * rows are written into memory kept from call to call (valid until the next such call): fresh
   * memory for the exact stage's rows (100 MB at 10^6 images) costs more than decoding them.
   */
  private storedRows(
    ids: readonly number[],
    unscaled = false,
    kept = false,
  ): { ids: number[]; vs: Float32Array[]; scales?: Float32Array[] } {
    const { members, codec } = this.manifestNow;
    if (!this.vectorFile || ids.length === 0) return { ids: [], vs: this.emptyVectors() };
    const size = this.vectorFile.recordBytes;
    const bytes = this.vectorFile.read(ids, true);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const found: number[] = [];
    const at: number[] = [];
    ids.forEach((id, k) => {
      if (view.getInt32(k * size, true) !== id) return;
      found.push(id);
      at.push(k * size);
    });
    const scales = unscaled
      ? members.map((mem) => new Float32Array(found.length * mem.regions))
      : undefined;
    let skip = 4;
    const vs = members.map((mem, i) => {
      const per = mem.regions * mem.embed;
      const length = mem.regions * rowBytes(codec, mem.embed);
      const out = kept
        ? this.keptRows(i, found.length * per)
        : new Float32Array(found.length * per);
      at.forEach((from, k) => {
        const rows = bytes.subarray(from + skip, from + skip + length);
        decodeRows(rows, mem.regions, mem.embed, codec, out, k * per, scales?.[i], k * mem.regions);
      });
      skip += length;
      return out;
    });
    return { ids: found, vs, ...(scales ? { scales } : {}) };
  }

  /**
   * The first `length` floats of kept rows `member` (storedRows' members, then the residual
   * scores' fine rows after them), grown as needed.
   */
  private keptRows(member: number, length: number): Float32Array {
    if ((this.decodedRows[member]?.length ?? -1) < length)
      this.decodedRows[member] = new Float32Array(length);
    return this.decodedRows[member].subarray(0, length);
  }

  /**
   * The fused S_kl = sum_m w_m sum_t max_i v^m_i . q^m_t of each image of `ids` against a query,
   * read from int8 vectors where they are stored (Kernels.int8MaxDotSum), without decoding them:
   * what the exact stage computes from `vectors` for dot products. Ids without a record are left
   * out. Undefined for an index of float16 vectors.
   */
  scoreStored(
    ids: readonly number[],
    queries: readonly MemberQuery[],
    weights: readonly number[],
  ): { ids: number[]; scores: Float32Array } | undefined {
    const { members, codec } = this.manifestNow;
    if (codec === "int8-residual") {
      const rows = this.storedRows(ids, true, true);
      const fineRecords = this.fineSketchFile!.read(rows.ids, true);
      const scores = residualScores(
        this.fineSketcher!,
        fineRecords,
        rows.vs,
        rows.scales!,
        rows.ids.length,
        queries,
        weights,
        (i, length) => this.keptRows(rows.vs.length + i, length),
      );
      return { ids: rows.ids, scores };
    }
    if (codec !== "int8") return undefined;
    if (!this.vectorFile || ids.length === 0) return { ids: [], scores: new Float32Array(0) };
    const size = this.vectorFile.recordBytes;
    const bytes = this.vectorFile.read(ids, true);
    const S = new Float32Array(ids.length);
    let at = 4;
    members.forEach((m, i) => {
      const stride = rowBytes(codec, m.embed);
      const q = queries[i];
      kernels().int8MaxDotSum(
        {
          bytes,
          groups: ids.length,
          groupBytes: size,
          per: m.regions,
          width: m.embed,
          valuesAt: at + 4,
          valueStride: stride,
          scalesAt: at,
          scaleStride: stride,
          lengthsAt: 0,
          lengthStride: 0,
        },
        q.vectors,
        q.rows,
        new Float32Array(q.rows),
        false,
        weights[i],
        S,
      );
      at += m.regions * stride;
    });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const found = Array.from(ids.keys()).filter((k) => view.getInt32(k * size, true) === ids[k]);
    return { ids: found.map((k) => ids[k]), scores: Float32Array.from(found, (k) => S[k]) };
  }

  private emptyVectors(): Float32Array[] {
    return this.manifestNow.members.map(() => new Float32Array(0));
  }

  /** The metadata of the images with these ids, in the order of `ids` (ids not found left out). */
  async imagesOf(ids: readonly number[]): Promise<IndexedImage[]> {
    if (!this.images || ids.length === 0) return [];
    const rows = await read(
      this.dir,
      this.images
        .query()
        .where(`id IN (${ids.join(", ")})`)
        .select(META_COLUMNS)
        .toArrow(),
    );
    const byId = new Map<number, IndexedImage>();
    for (let r = 0; r < rows.numRows; r++) {
      const im = metaOf(rows, r, this.dir);
      byId.set(im.id, im);
    }
    return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  /**
   * The candidate stage's approximate fused score (RegionSketch.score) of every indexed image,
   * scanning sketch.bin, or, given a `shortlist` length and an index with summaries, of the
   * images whose summaries score best (ImageSummary.best; their sketches read by position), or,
   * given `sketched` as well and an index with cluster summaries, of the best `sketched` of
   * those by cluster summary (ClusterSummary). Given `refine` and an index with fine sketches,
   * only the best `refine` of those are returned, scored by their fine sketches.
   */
  approximate(
    queries: readonly MemberQuery[],
    weights: readonly number[],
    unit: boolean,
    options: { shortlist?: number; sketched?: number; refine?: number } = {},
  ): { ids: Int32Array; scores: Float32Array } {
    const sketched = this.sketchScores(queries, weights, unit, options);
    const fine = this.fineSketcher;
    if (options.refine === undefined || !fine || sketched.ids.length === 0) return sketched;
    const best = largest(sketched.scores, options.refine).map((k) => sketched.ids[k]);
    const bytes = this.fineSketchFile!.read(best, true);
    return fine.score(bytes, best.length, fine.prepare(queries), weights, unit);
  }

  /** Whether fine sketches rank the sketch stage's best (`approximate`'s refine). */
  get hasFineSketches(): boolean {
    return this.fineSketcher !== undefined;
  }

  /** `approximate` before the fine sketches. */
  private sketchScores(
    queries: readonly MemberQuery[],
    weights: readonly number[],
    unit: boolean,
    options: { shortlist?: number; sketched?: number },
  ): { ids: Int32Array; scores: Float32Array } {
    const sketch = this.sketcher;
    const file = this.sketchFile;
    if (!sketch || !file) return { ids: new Int32Array(0), scores: new Float32Array(0) };
    const query = sketch.prepare(queries);
    const score = (bytes: Uint8Array, records: number) =>
      sketch.score(bytes, records, query, weights, unit);
    const parts: { ids: Int32Array; scores: Float32Array }[] = [];
    if (options.shortlist !== undefined && this.summary) {
      const { bytes, records } = this.summaryHeld!.all();
      const q = this.summary.query(query);
      let among = this.summary.best(bytes, records, q, options.shortlist);
      if (this.clusters && options.sketched !== undefined && options.sketched < among.length) {
        const scores = this.clusters.score(
          this.clusterHeld!.of(among),
          among.length,
          query,
          weights,
        );
        among = largest(scores, options.sketched)
          .map((k) => among[k])
          .sort((a, b) => a - b);
      }
      // A chunk at a time, each scored while its records are still in the CPU's caches.
      for (let at = 0; at < among.length; at += SHORTLIST_CHUNK) {
        const ids = among.slice(at, at + SHORTLIST_CHUNK);
        parts.push(score(file.read(ids, true), ids.length));
      }
    } else {
      for (const { records, bytes } of file.scan(scanChunk(file.slots)))
        parts.push(score(bytes, records));
    }
    return {
      ids: concat(
        parts.map((p) => p.ids),
        (n) => new Int32Array(n),
      ),
      scores: concat(
        parts.map((p) => p.scores),
        (n) => new Float32Array(n),
      ),
    };
  }

  /** Every image with its member vectors, SCAN_BATCH at a time, in the order they were added. */
  async *scanVectors(): AsyncGenerator<{ images: IndexedImage[]; vs: Float32Array[] }> {
    if (!this.images) return;
    for await (const batch of batches(this.dir, this.images, META_COLUMNS)) {
      const metas = Array.from({ length: batch.numRows }, (_, r) => metaOf(batch, r, this.dir));
      const { ids, vs } = this.vectors(metas.map((im) => im.id));
      if (ids.length !== metas.length) {
        throw new CorruptFileError(
          `${join(this.dir, VECTORS_FILE)}: ${metas.length - ids.length} indexed images have no vectors; build the index again with imagesent index --rebuild`,
        );
      }
      yield { images: metas, vs };
    }
  }

  /** Every image with its raw CNN codes, SCAN_BATCH at a time (for --rebuild). */
  async *scanFeatures(): AsyncGenerator<NewImage[]> {
    if (!this.images) return;
    const { regionsPerImage: R, dim } = this.manifestNow.vision;
    for await (const batch of batches(this.dir, this.images, [...META_COLUMNS, "features"])) {
      const col = batch.getChild("features")!;
      yield Array.from({ length: batch.numRows }, (_, r) => {
        const features = new Float32Array(R * dim);
        decodeRows(col.get(r) as Uint8Array, R, dim, "fp16", features);
        return { ...metaOf(batch, r, this.dir), features };
      });
    }
  }

  /** The raw CNN codes of one indexed image (regions x dim), for the MRF's phrases. */
  async features(id: number): Promise<Float32Array> {
    const { regionsPerImage: R, dim } = this.manifestNow.vision;
    const rows = await read(
      this.dir,
      this.images!.query().where(`id = ${id}`).select(["features"]).toArrow(),
    );
    if (rows.numRows === 0) throw new CorruptFileError(`${this.dir}: image ${id} has no row`);
    const out = new Float32Array(R * dim);
    decodeRows(rows.getChild("features")!.get(0) as Uint8Array, R, dim, "fp16", out);
    return out;
  }

  /** The indexed sentences, in the order they were added. */
  sentences(): string[] {
    const path = join(this.dir, "sentences.json");
    if (!existsSync(path)) return [];
    const json = readJsonFile(path, CorruptFileError);
    if (!Array.isArray(json)) {
      throw new CorruptFileError(`${path}: expected a list of sentences, got ${shown(json)}`);
    }
    const bad = json.findIndex((s) => typeof s !== "string");
    if (bad >= 0) {
      throw new CorruptFileError(`${path}: [${bad}]: expected a string, got ${shown(json[bad])}`);
    }
    return json as string[];
  }

  /** Adds sentences not already indexed; returns how many were new. */
  addSentences(sentences: readonly string[]): number {
    this.writable();
    const have = this.sentences();
    const seen = new Set(have);
    const added = sentences.filter((s) => !seen.has(s) && seen.add(s));
    if (added.length > 0) {
      writeFileAtomic(join(this.dir, "sentences.json"), JSON.stringify([...have, ...added]));
    }
    return added.length;
  }
}

/**
 * Moves the tables, projection and manifest of `fresh` (an index a rebuild wrote in
 * INDEX/rebuild) over those of the index in `dir`, whose writer lock the caller holds, and
 * removes what the old format kept (INDEX/features). The tables move by renaming folders.
 */
export async function installRebuilt(dir: string, fresh: ImageIndex): Promise<void> {
  const manifest = fresh.manifest;
  await fresh.close();
  const old = join(dir, "db.old");
  rmSync(old, { recursive: true, force: true });
  if (existsSync(join(dir, "db"))) renameSync(join(dir, "db"), old);
  renameSync(join(fresh.dir, "db"), join(dir, "db"));
  for (const file of [
    OLD_PROJECTION,
    SKETCH_PROJECTION,
    SKETCH_FILE,
    SUMMARY_FILE,
    CLUSTER_FILE,
    FINE_SKETCH_PROJECTION,
    FINE_SKETCH_FILE,
    VECTORS_FILE,
  ]) {
    if (existsSync(join(fresh.dir, file))) renameSync(join(fresh.dir, file), join(dir, file));
    else rmSync(join(dir, file), { force: true });
  }
  writeManifest(dir, manifest);
  rmSync(old, { recursive: true, force: true });
  rmSync(join(dir, "features"), { recursive: true, force: true });
  rmSync(fresh.dir, { recursive: true, force: true });
}

/**
 * A read of the index's tables: an error LanceDB raises there (a damaged or missing file) is
 * the index's fault, a CorruptFileError naming the index, in one line.
 */
async function read<T>(dir: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const why = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new CorruptFileError(
      `${join(dir, "db")}: cannot read the index's tables (${why.replace(/, \/\S+\.rs:\d+:\d+$/, "")}); build it again with imagesent index`,
      { cause: err },
    );
  }
}

const META_COLUMNS = ["id", "key", "size", "mtime", "width", "height", "regions"];

async function* batches(
  dir: string,
  table: lancedb.Table,
  columns: string[],
): AsyncGenerator<import("apache-arrow").Table> {
  const total = await read(dir, table.countRows());
  for (let offset = 0; offset < total; offset += SCAN_BATCH) {
    const rows = await read(
      dir,
      table.query().select(columns).offset(offset).limit(SCAN_BATCH).toArrow(),
    );
    if (rows.numRows === 0) return;
    yield rows;
  }
}

function metaOf(rows: import("apache-arrow").Table, r: number, dir: string): IndexedImage {
  const get = (name: string) => rows.getChild(name)!.get(r);
  const regions = parseJson(
    String(get("regions")),
    `${dir}: image ${get("id")}'s regions`,
    CorruptFileError,
  ) as Region[];
  return {
    id: Number(get("id")),
    key: String(get("key")),
    size: Number(get("size")),
    mtime: Number(get("mtime")),
    width: Number(get("width")),
    height: Number(get("height")),
    regions,
  };
}

/** A SQL string literal. */
function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function newManifest(spec: IndexSpec): IndexManifest {
  if (spec.codec === "int8-residual" && spec.fineSketchDims === 0)
    throw new InputError(
      "codec int8-residual stores what the fine sketches leave over: it needs fine sketches (fineSketchDims > 0)",
    );
  return {
    format: INDEX_FORMAT,
    version: INDEX_VERSION,
    bundle: spec.bundle,
    bundleName: spec.bundleName,
    vision: spec.vision,
    members: spec.members,
    codec: spec.codec ?? DEFAULT_CODEC,
    sketchDims: spec.sketchDims ?? DEFAULT_SKETCH_DIMS,
    summaryDims: spec.summaryDims ?? DEFAULT_SUMMARY_DIMS,
    fineSketchDims: spec.fineSketchDims ?? DEFAULT_FINE_SKETCH_DIMS,
    summaryClusters: spec.summaryClusters ?? DEFAULT_SUMMARY_CLUSTERS,
    nextId: 0,
  };
}

function writeManifest(dir: string, manifest: IndexManifest): void {
  writeFileAtomic(join(dir, "index.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The command that converts or re-embeds the index in `dir`. */
export function rebuildCommand(dir: string): string {
  return `imagesent index --rebuild --out ${dir} [--bundle B]`;
}

/**
 * Reads and checks index.json: corrupt JSON is a CorruptFileError; versions 1 and 2 are refused
 * with the conversion command, except version 2 when it is opened `toRebuild`.
 */
function readManifest(path: string, dir: string, toRebuild = false): IndexManifest {
  const r = readManifestFields(path);
  if (r.get("format") !== INDEX_FORMAT) {
    throw new InputError(`${path}: not an ${INDEX_FORMAT} index`);
  }
  if (r.get("version") === LEGACY_INDEX_VERSION) {
    throw new InputError(
      `${dir}: an index of imagesent's first format (raw CNN codes, every vector re-embedded at each start); convert it, without decoding the images again, with: ${rebuildCommand(dir)}`,
    );
  }
  const version = r.get("version");
  if (version === TABLE_VECTORS_INDEX_VERSION && !toRebuild) {
    throw new InputError(
      `${dir}: an index of imagesent's second format (region vectors read through images.lance at every query); convert it, without decoding the images again, with: ${rebuildCommand(dir)}`,
    );
  }
  if (version !== INDEX_VERSION && version !== TABLE_VECTORS_INDEX_VERSION) {
    throw new InputError(
      `${path}: version ${shown(version)}, this imagesent reads ${INDEX_VERSION}`,
    );
  }
  const v = r.child("vision");
  const positive = { integer: true, min: 1 };
  const count = { integer: true, min: 0 };
  const codec = r.oneOf("codec", REGION_CODECS);
  if (codec === "int8-residual" && r.get("fineSketchDims") === undefined)
    throw new CorruptFileError(
      `${path}: codec int8-residual without fineSketchDims: its vectors are residuals of fine sketches`,
    );
  return {
    format: INDEX_FORMAT,
    version: version as number,
    bundle: r.string("bundle", { empty: true }),
    bundleName: r.string("bundleName", { empty: true }),
    vision: {
      encoder: v.string("encoder", { empty: true }),
      dim: v.number("dim", positive),
      regionsPerImage: v.number("regionsPerImage", positive),
      detector: (v.get("detector") ?? null) === null ? null : v.string("detector", { empty: true }),
    },
    members: r.objects("members").map((m) => ({
      regions: m.number("regions", positive),
      embed: m.number("embed", positive),
    })),
    codec,
    sketchDims: version === INDEX_VERSION ? r.number("sketchDims", positive) : DEFAULT_SKETCH_DIMS,
    summaryDims: r.get("summaryDims") === undefined ? 0 : r.number("summaryDims", positive),
    fineSketchDims:
      r.get("fineSketchDims") === undefined ? 0 : r.number("fineSketchDims", positive),
    summaryClusters:
      r.get("summaryClusters") === undefined ? 0 : r.number("summaryClusters", positive),
    nextId: r.number("nextId", count),
  };
}

/** index.json's top object; index.json is imagesent's own, so a fault in it is a CorruptFileError. */
function readManifestFields(path: string): JsonFields {
  const error = CorruptFileError;
  return JsonFields.of(readJsonFile(path, error), path, { error });
}

/** Whether `dir` holds an index of the first format (a feature store under features/). */
export function isLegacyIndex(dir: string): boolean {
  const path = join(dir, "index.json");
  if (!existsSync(path)) return false;
  try {
    return readManifestFields(path).get("version") === LEGACY_INDEX_VERSION;
  } catch {
    return false;
  }
}

/** Bytes of one image's record in vectors.bin: its id, then each member's rows as `codec` keeps them. */
function vectorRecordBytes(m: IndexManifest): number {
  return 4 + m.members.reduce((s, mem) => s + mem.regions * rowBytes(m.codec, mem.embed), 0);
}

function readSketch(path: string, manifest: IndexManifest): RegionSketch {
  let sketch: RegionSketch;
  try {
    sketch = RegionSketch.fromBytes(readFileSync(path), path);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new CorruptFileError(err.message);
  }
  const fits =
    sketch.regions.length === manifest.members.length &&
    manifest.members.every(
      (m, i) => sketch.regions[i] === m.regions && sketch.projections[i].full === m.embed,
    );
  if (!fits) throw new CorruptFileError(`${path}: not of this index's search models`);
  return sketch;
}

/** `parts` end to end in one array made by `make`. */
function concat<T extends Int32Array | Float32Array>(
  parts: readonly T[],
  make: (length: number) => T,
): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function checkSpec(m: IndexManifest, spec: IndexSpec, dir: string): void {
  if (m.bundle !== spec.bundle) {
    throw new InputError(
      `${dir}: built with another bundle (${m.bundleName}), whose search models are not ${spec.bundleName}'s; search it with --bundle ${m.bundleName}, or re-embed it for this bundle with: ${rebuildCommand(dir)}`,
    );
  }
  const a = m.vision;
  const b = spec.vision;
  if (
    a.encoder !== b.encoder ||
    a.dim !== b.dim ||
    a.regionsPerImage !== b.regionsPerImage ||
    a.detector !== b.detector
  ) {
    throw new InputError(
      `${dir}: made with ${a.encoder} (${a.dim}-d, ${a.regionsPerImage} regions, detector ${a.detector}), not ${b.encoder} (${b.dim}-d, ${b.regionsPerImage} regions, detector ${b.detector}); index the images into a new folder`,
    );
  }
}

/** Checks that an index opened for search was made by the bundle whose fingerprint is given. */
export function checkBundle(index: ImageIndex, fingerprint: string, bundleName: string): void {
  const m = index.manifest;
  if (m.bundle !== fingerprint) {
    throw new InputError(
      `${index.dir}: built with another bundle (${m.bundleName}), whose search models are not ${bundleName}'s; search it with --bundle ${m.bundleName}, or re-embed it for this bundle with: ${rebuildCommand(index.dir)}`,
    );
  }
}

/** Takes INDEX/LOCK (exclusive create); one held by a process that is gone is taken over. */
export function acquireLock(dir: string): string {
  const path = join(dir, INDEX_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(path, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && pid !== process.pid) {
        throw new InputError(
          `${dir}: another imagesent (pid ${pid}) is writing this index (${path})`,
        );
      }
      if (pid === process.pid) {
        throw new InputError(`${dir}: this process has the index open for writing already`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new InputError(`${dir}: cannot take ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
