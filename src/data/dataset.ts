/**
 * The one dataset model every reader produces (Karpathy dataset.json, Flickr8k token files, the
 * synthetic world) and every later stage consumes.
 */
export type Split = "train" | "val" | "test" | "restval";

export const SPLITS: readonly Split[] = ["train", "val", "test", "restval"];

export interface Sentence {
  /** Unique over the dataset (Karpathy's sentid). */
  readonly id: number;
  /** The caption as written. */
  readonly raw: string;
  /** Lowercase alphanumeric tokens (see tokenizer.ts). */
  readonly tokens: readonly string[];
}

export interface ImageEntry {
  /** Unique over the dataset (Karpathy's imgid). */
  readonly id: number;
  /** File name relative to the dataset's image folder. */
  readonly filename: string;
  readonly split: Split;
  readonly sentences: readonly Sentence[];
}

export interface Dataset {
  /** e.g. "flickr8k", "synthetic". */
  readonly name: string;
  readonly images: readonly ImageEntry[];
}
