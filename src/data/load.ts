import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError } from "../errors.js";
import type { Dataset } from "./dataset.js";
import { FLICKR8K_CAPTIONS, isFlickr8kDir, readFlickr8k } from "./flickr8k.js";
import { readKarpathyDataset } from "./karpathy.js";

/** Which files a dataset path resolved to. */
export type DatasetSource =
  | { readonly format: "karpathy-json"; readonly path: string }
  | { readonly format: "flickr8k"; readonly path: string };

/**
 * Resolves a dataset path: a file is read as Karpathy's dataset.json (or, when it is
 * Flickr8k.token.txt, as the Flickr8k files beside it); a directory is read through its single
 * `dataset*.json` when it has one (faster, and the canonical form), else through its Flickr8k files.
 */
export function locateDataset(path: string): DatasetSource {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InputError(`${path}: no such file or directory`);
  }
  if (!isDir) {
    return basename(path) === FLICKR8K_CAPTIONS
      ? { format: "flickr8k", path: dirname(path) }
      : { format: "karpathy-json", path };
  }
  const jsons = readdirSync(path)
    .filter((f) => /^dataset.*\.json$/.test(f))
    .sort();
  if (jsons.length === 1) return { format: "karpathy-json", path: join(path, jsons[0]!) };
  if (jsons.length > 1) {
    throw new InputError(`${path}: several dataset files (${jsons.join(", ")}); name one of them`);
  }
  if (isFlickr8kDir(path)) return { format: "flickr8k", path };
  throw new InputError(`${path}: found neither a dataset*.json nor ${FLICKR8K_CAPTIONS}`);
}

/** One line saying what was read, e.g. for the CLI. */
export function describeSource(source: DatasetSource): string {
  return source.format === "karpathy-json"
    ? `Karpathy dataset.json ${source.path}`
    : `Flickr8k token and split files in ${source.path}`;
}

/** Reads a dataset from a path (see locateDataset) or an already located source. */
export function loadDataset(path: string | DatasetSource): Dataset {
  const source = typeof path === "string" ? locateDataset(path) : path;
  return source.format === "karpathy-json"
    ? readKarpathyDataset(source.path)
    : readFlickr8k(source.path);
}
