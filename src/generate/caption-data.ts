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

export type CaptionSplitName = "train" | "val" | "test";

export interface CaptionData {
  readonly dim: number;
  readonly splits: Readonly<Record<CaptionSplitName, CaptionSplit>>;
  /**
   * Splits whose CNN codes were not read (loadCaptionData's `featureSplits`, or an optional split
   * the store lacks), each with why; their targets and sentences are there, their `features` are
   * empty. Absent or empty: every split has its codes.
   */
  readonly unread?: Readonly<Partial<Record<CaptionSplitName, string>>>;
}

/** Whether a split of `data` has its CNN codes (see CaptionData.unread). */
export function hasFeatures(data: CaptionData, split: CaptionSplitName): boolean {
  return data.unread?.[split] === undefined;
}

export interface CaptionDataOptions {
  readonly mode: CaptionMode;
  /** Required in region mode. */
  readonly snippets?: readonly Snippet[];
  /** Folded into train, as Karpathy's splits allow. */
  readonly useRestval?: boolean;
  /** Caps the targets per split (quick runs, tests). */
  readonly limit?: Partial<Record<Split, number>>;
  /**
   * The splits whose CNN codes must be in the store (default all three): an evaluation reads
   * only the split it scores, so a store of that split's images is enough.
   */
  readonly featureSplits?: readonly CaptionSplitName[];
  /**
   * Splits whose codes are read when the store has every one of them and otherwise left unread
   * (CaptionData.unread says so): e.g. train for the nearest-neighbour baseline.
   */
  readonly optionalFeatureSplits?: readonly CaptionSplitName[];
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
  const required = new Set(opts.featureSplits ?? (["train", "val", "test"] as const));
  const optional = new Set((opts.optionalFeatureSplits ?? []).filter((s) => !required.has(s)));
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
      if (!required.has(name) && !optional.has(name)) continue;
      let list = wanted.get(t.filename);
      if (list === undefined) {
        list = [];
        wanted.set(t.filename, list);
      }
      list.push({ split: name, index, region: t.region });
    }
    const read = required.has(name) || optional.has(name);
    splits[name] = {
      targets,
      sentences,
      features: new Float32Array(read ? targets.length * dim : 0),
    };
  }
  const unread: Partial<Record<CaptionSplitName, string>> = {};
  for (const name of ["train", "val", "test"] as const) {
    if (!required.has(name) && !optional.has(name)) unread[name] = "not asked for";
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
  // An optional split the store lacks any image of is left unread, whole.
  const lacking = new Map<CaptionSplitName, number>();
  for (const list of wanted.values()) {
    for (const w of list) lacking.set(w.split, (lacking.get(w.split) ?? 0) + 1);
  }
  for (const name of optional) {
    const n = lacking.get(name);
    if (n === undefined) continue;
    unread[name] =
      `${store.dir} lacks the codes of ${n} of its ${splits[name].targets.length} targets`;
    splits[name] = { ...splits[name], features: new Float32Array(0) };
    for (const [filename, list] of wanted) {
      const rest = list.filter((w) => w.split !== name);
      if (rest.length > 0) wanted.set(filename, rest);
      else wanted.delete(filename);
    }
  }
  if (wanted.size > 0) {
    const missing = [...wanted.keys()];
    const where = [...new Set([...wanted.values()].flat().map((w) => w.split))].join(" and ");
    throw new InputError(
      `${store.dir}: no features for ${missing.length} ${where} images, e.g. ${missing.slice(0, 3).join(", ")}`,
    );
  }
  return Object.keys(unread).length > 0 ? { dim, splits, unread } : { dim, splits };
}

/** Fits the normaliser on train codes and applies it to every split, in place of the raw codes. */
export function normalizeCaptionData(
  data: CaptionData,
  given?: FeatureNormalizer,
): { data: CaptionData; normalizer: FeatureNormalizer } {
  if (given === undefined && !hasFeatures(data, "train")) {
    throw new InputError(`normalizeCaptionData: train codes unread (${data.unread?.train})`);
  }
  const normalizer = given ?? FeatureNormalizer.fit([data.splits.train.features], data.dim);
  const splits = {} as Record<CaptionSplitName, CaptionSplit>;
  for (const name of ["train", "val", "test"] as const) {
    const s = data.splits[name];
    splits[name] = { ...s, features: normalizer.apply(s.features) };
  }
  return { data: { ...data, splits }, normalizer };
}
