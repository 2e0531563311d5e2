import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CorruptFileError } from "../errors.js";
import { JsonFields, parseJson } from "../json-fields.js";
import { decodeShard, encodeShard, type StoredImage } from "../vision/feature-store.js";
import type { ShardMeta } from "./feature-shard-job.js";

/**
 * Shards finished by queue workers wait in STORE/incoming/ until the enqueuing command, the
 * store's one writer, adds them to the store in order. A worker writes JOB.isf (the shard, in
 * the store's own shard format) and then JOB.json (what it holds and which images failed), each
 * to a temporary name renamed into place: a JOB.json present means the job's work is done and on
 * disk, whatever became of the worker or of Redis since. The manifest holds the shard's size and
 * CRC-32, so a shard damaged on the way (a storage fault) is redone rather than added.
 */
export const STAGING_DIR = "incoming";

const MANIFEST_FORMAT = "imagesent-staged-shard";

/** Images of a job that could not be read or decoded (the rest are in its shard). */
export interface ImageFailure {
  readonly filename: string;
  readonly error: string;
}

export interface StagedShard {
  readonly images: StoredImage[];
  readonly failures: readonly ImageFailure[];
}

export function stagingDir(store: string): string {
  return join(store, STAGING_DIR);
}

const manifestPath = (store: string, id: string) => join(stagingDir(store), `${id}.json`);
const shardPath = (store: string, id: string) => join(stagingDir(store), `${id}.isf`);

/** Writes a job's shard and then its manifest, each atomically. */
export function writeStagedShard(
  store: string,
  id: string,
  dim: number,
  images: readonly StoredImage[],
  failures: readonly ImageFailure[],
): void {
  mkdirSync(stagingDir(store), { recursive: true });
  const bytes = images.length > 0 ? encodeShard(dim, images) : new Uint8Array(0);
  if (images.length > 0) writeFileAtomic(shardPath(store, id), bytes);
  const manifest = {
    format: MANIFEST_FORMAT,
    job: id,
    images: images.length,
    bytes: bytes.length,
    crc32: crc32(bytes),
    failures,
  };
  writeFileAtomic(manifestPath(store, id), `${JSON.stringify(manifest)}\n`);
}

export function isStaged(store: string, id: string): boolean {
  return existsSync(manifestPath(store, id));
}

/** The ids of every job with a manifest in the staging folder (one directory read). */
export function listStaged(store: string): Set<string> {
  let names: string[];
  try {
    names = readdirSync(stagingDir(store));
  } catch {
    return new Set();
  }
  return new Set(
    names.filter((f) => f.endsWith(".json") && !f.startsWith(".")).map((f) => f.slice(0, -5)),
  );
}

/** Reads a staged job back, checking its shard against the store's meta and its manifest. */
export function readStagedShard(store: string, id: string, meta: ShardMeta): StagedShard {
  const where = manifestPath(store, id);
  let text: string;
  try {
    text = readFileSync(where, "utf8");
  } catch (err) {
    throw new CorruptFileError(`${where}: unreadable (${(err as Error).message})`);
  }
  // A fault in the manifest is a CorruptFileError: the caller redoes the job.
  const error = CorruptFileError;
  const r = JsonFields.of(parseJson(text, where, error), where, { error });
  r.oneOf("format", [MANIFEST_FORMAT]);
  const count = r.number("images", { integer: true, min: 0 });
  const manifest = {
    bytes: r.number("bytes", { integer: true, min: 0 }),
    crc32: r.number("crc32", { integer: true, min: 0 }),
  };
  const failures = r.objects("failures").map((f) => ({
    filename: f.string("filename", { empty: true }),
    error: f.string("error", { empty: true }),
  }));
  if (count === 0) return { images: [], failures };
  const path = shardPath(store, id);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new CorruptFileError(`${path}: missing (its manifest lists ${count} images)`);
  }
  if (bytes.length !== manifest.bytes || crc32(bytes) !== manifest.crc32) {
    throw new CorruptFileError(
      `${path}: ${bytes.length} bytes that do not match the ${manifest.bytes} its worker wrote (size or checksum)`,
    );
  }
  const images = decodeShard(bytes, path, {
    dim: meta.dim,
    regionsPerImage: meta.regionsPerImage,
  });
  if (images.length !== count)
    throw new CorruptFileError(`${path}: holds ${images.length} images, its manifest ${count}`);
  return { images, failures };
}

/** Removes a job's staged files (once its shard is in the store, or to redo a damaged one). */
export function removeStaged(store: string, id: string): void {
  rmSync(manifestPath(store, id), { force: true });
  rmSync(shardPath(store, id), { force: true });
}

/**
 * Removes the staging folder once every job is in the store, with what killed processes leave:
 * temporary files, and shards without a manifest (a worker killed before writing it, or an
 * enqueuer killed between removing a manifest and its shard), so the store holds what a
 * single-process run leaves. Staged jobs of other runs into the same store (another image list)
 * are kept, and so is the folder.
 */
export function removeStagingLeftovers(store: string): void {
  const dir = stagingDir(store);
  if (!existsSync(dir)) return;
  const names = readdirSync(dir);
  for (const f of names) {
    const unlisted = f.endsWith(".isf") && !names.includes(`${f.slice(0, -4)}.json`);
    if (/^\..+\.tmp$/.test(f) || unlisted) rmSync(join(dir, f), { force: true });
  }
  try {
    rmdirSync(dir);
  } catch {}
}
