import type { Dataset, Split } from "../data/dataset.js";
import type { Vocabulary } from "../data/vocabulary.js";
import { InputError } from "../errors.js";
import type { Snippet } from "../mrf/snippets.js";
import { FeatureNormalizer } from "../vision/feature-normalizer.js";
import type { FeatureStore } from "../vision/feature-store.js";

/**
 * What the generator trains and is evaluated on, the same for both modes: "targets" (whole
 * images, or regions) each with a CNN code and reference sentences. Full-frame mode: each image,
 * its whole-image code (store row 0) and its sentences. Region mode: each region that has
 * snippets, its region code and its snippets.
 */
export type CaptionMode = "fullframe" | "region";
export const CAPTION_MODES: readonly CaptionMode[] = ["fullframe", "region"];

export interface CaptionTarget {
  /** "filename" (full frame) or "filename#region". */
  readonly key: string;
  readonly filename: string;
  readonly region: number;
  /** Reference sentences, tokenized. */
  readonly references: readonly (readonly string[])[];
}

export interface CaptionSplit {
  readonly targets: readonly CaptionTarget[];
  /** targets.length x dim: row i is target i's CNN code. */
  readonly features: Float32Array;
  /** Every reference sentence as word indices, with the row of its target. */
  readonly sentences: readonly { readonly target: number; readonly words: Int32Array }[];
}

export interface CaptionData {
  readonly dim: number;
  readonly splits: Readonly<Record<"train" | "val" | "test", CaptionSplit>>;
}

export interface CaptionDataOptions {
  readonly mode: CaptionMode;
  /** Required in region mode. */
  readonly snippets?: readonly Snippet[];
  /** Folded into train, as Karpathy's splits allow. */
  readonly useRestval?: boolean;
  /** Caps the targets per split (quick runs, tests). */
  readonly limit?: Partial<Record<Split, number>>;
}

/** Gathers targets, sentences and raw CNN codes from a dataset and its feature store. */
export function loadCaptionData(
  dataset: Dataset,
  store: FeatureStore,
  vocabulary: Vocabulary,
  opts: CaptionDataOptions,
): CaptionData {
  const splitOf = (s: Split): "train" | "val" | "test" | null =>
    s === "restval" ? (opts.useRestval ? "train" : null) : s;
  const bySplit = {
    train: new Map<string, { filename: string; region: number; refs: string[][] }>(),
    val: new Map<string, { filename: string; region: number; refs: string[][] }>(),
    test: new Map<string, { filename: string; region: number; refs: string[][] }>(),
  };
  const addRef = (
    split: keyof typeof bySplit,
    filename: string,
    region: number,
    refs: string[],
  ) => {
    const limit = opts.limit?.[split];
    const key = opts.mode === "fullframe" ? filename : `${filename}#${region}`;
    let t = bySplit[split].get(key);
    if (t === undefined) {
      if (limit !== undefined && bySplit[split].size >= limit) return;
      t = { filename, region, refs: [] };
      bySplit[split].set(key, t);
    }
    t.refs.push(refs);
  };
  if (opts.mode === "fullframe") {
    for (const image of dataset.images) {
      const split = splitOf(image.split);
      if (split === null) continue;
      for (const s of image.sentences) addRef(split, image.filename, 0, [...s.tokens]);
    }
  } else {
    if (!opts.snippets) throw new InputError("region mode needs a snippet file (--snippets)");
    const imageSplit = new Map(dataset.images.map((im) => [im.filename, im.split]));
    for (const s of opts.snippets) {
      const split = imageSplit.get(s.filename);
      if (split === undefined) {
        throw new InputError(`snippet for ${s.filename}: no such image in dataset ${dataset.name}`);
      }
      const mapped = splitOf(split);
      if (mapped !== null) addRef(mapped, s.filename, s.region, [...s.tokens]);
    }
  }

  const dim = store.meta.dim;
  const wanted = new Map<
    string,
    { split: keyof typeof bySplit; index: number; region: number }[]
  >();
  const splits = {} as Record<keyof typeof bySplit, CaptionSplit>;
  for (const name of ["train", "val", "test"] as const) {
    const targets: CaptionTarget[] = [];
    const sentences: { target: number; words: Int32Array }[] = [];
    for (const [key, t] of bySplit[name]) {
      const index = targets.length;
      targets.push({ key, filename: t.filename, region: t.region, references: t.refs });
      for (const ref of t.refs) {
        sentences.push({ target: index, words: Int32Array.from(vocabulary.encode(ref)) });
      }
      let list = wanted.get(t.filename);
      if (list === undefined) {
        list = [];
        wanted.set(t.filename, list);
      }
      list.push({ split: name, index, region: t.region });
    }
    splits[name] = { targets, sentences, features: new Float32Array(targets.length * dim) };
  }
  for (const image of store.entries()) {
    for (const w of wanted.get(image.filename) ?? []) {
      const rows = image.features.length / dim;
      if (w.region >= rows) {
        throw new InputError(
          `${image.filename}: region ${w.region} asked for, the feature store has ${rows} regions`,
        );
      }
      splits[w.split].features.set(
        image.features.subarray(w.region * dim, (w.region + 1) * dim),
        w.index * dim,
      );
    }
    wanted.delete(image.filename);
  }
  if (wanted.size > 0) {
    const missing = [...wanted.keys()];
    throw new InputError(
      `${store.dir}: no features for ${missing.length} images, e.g. ${missing.slice(0, 3).join(", ")}`,
    );
  }
  return { dim, splits };
}

/** Fits the normaliser on train codes and applies it to every split, in place of the raw codes. */
export function normalizeCaptionData(
  data: CaptionData,
  normalizer = FeatureNormalizer.fit([data.splits.train.features], data.dim),
): { data: CaptionData; normalizer: FeatureNormalizer } {
  const splits = {} as Record<"train" | "val" | "test", CaptionSplit>;
  for (const name of ["train", "val", "test"] as const) {
    const s = data.splits[name];
    splits[name] = { ...s, features: normalizer.apply(s.features) };
  }
  return { data: { dim: data.dim, splits }, normalizer };
}
