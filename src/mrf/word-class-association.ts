import { type ErrorClass, JsonFields } from "../json-fields.js";

/**
 * Which detector class a caption word names, learned from image-sentence pairs alone: the only
 * "labels" are the classes the detector found in each training image, never a phrase's box or
 * type. Two statistics per (word, class), both from the train split:
 *
 * - naming t(c | w): IBM Model 1 with the classes of an image as the target sentence and the
 *   words of one of its captions (plus a null word) as the source, fitted by EM. Each class the
 *   detector found must be "said" by some word of the caption, so a class present in nearly
 *   every image (person) is explained by the words that come only with it (man, girl), and
 *   "bike" takes the bicycle while "man" takes the person who rides it.
 * - lift log P(w in caption | c detected) / P(w in caption | c not detected), add-one smoothed:
 *   whether the word is said *because* of the class at all. Function words ("a") have lift 0.
 * - given P(c detected | w in caption), shrunk towards 0 by GIVEN_PRIOR captions: how reliably
 *   the word comes with the class. "skier" names the skis (naming) but comes with a person more
 *   reliably than with skis (given).
 *
 * A phrase scores each class present in its image by A(c) = Σ_k λ^k · max(0, lift(w_k, c)) ·
 * t(c | w_k) / Σ_{c' present} t(c' | w_k), its words read from the end (k = 0 is the last word, the
 * head of an English noun phrase); a word that is the class's own name (its last word, or that
 * word's plural) scores at least NAME_MATCH.
 */
export interface WordClassAssociation {
  readonly classes: readonly string[];
  /** word -> per class, only pairs with lift > 0 and t > MIN_NAMING. */
  readonly words: WordTable;
}

/** What the association's table is read through: a Map, or a grounding file's packed table. */
export interface WordTable
  extends Iterable<readonly [string, ReadonlyMap<string, AssociationEntry>]> {
  get(word: string): ReadonlyMap<string, AssociationEntry> | undefined;
  has(word: string): boolean;
  readonly size: number;
}

export interface AssociationEntry {
  /** t(c | w). */
  readonly naming: number;
  readonly lift: number;
  /** P(c detected | w said). */
  readonly given: number;
}

/** One training image: the classes the detector found in it and the tokens of its captions. */
export interface LabelledCaptions {
  readonly labels: readonly string[];
  readonly captions: readonly (readonly string[])[];
}

export interface AssociationOptions {
  /** EM iterations (default 15). */
  readonly iterations?: number;
  /** Words said fewer times than this over all captions are left out (default 5, as the vocabulary). */
  readonly minCount?: number;
  /** Pseudo-count added to every (word, class) pair in the M step (default 0.01). */
  readonly smoothing?: number;
}

/** Entries below this naming probability are dropped from the table (they score ~0). */
const MIN_NAMING = 1e-2;
/** Captions added to a word's count in `given`, so that a word said twice is not "always" a class. */
const GIVEN_PRIOR = 5;
const NULL_WORD = "\u0000null";

/** Fits the association on `images` (the train split). */
export function fitWordClassAssociation(
  images: readonly LabelledCaptions[],
  options: AssociationOptions = {},
): WordClassAssociation {
  const iterations = options.iterations ?? 15;
  const minCount = options.minCount ?? 5;
  const eps = options.smoothing ?? 0.01;
  const said = new Map<string, number>();
  for (const im of images)
    for (const c of im.captions) for (const w of c) said.set(w, (said.get(w) ?? 0) + 1);
  const vocab = [NULL_WORD, ...[...said].filter(([, n]) => n >= minCount).map(([w]) => w)];
  const wid = new Map(vocab.map((w, i) => [w, i]));
  const classes = [...new Set(images.flatMap((im) => im.labels))].sort();
  const cid = new Map(classes.map((c, i) => [c, i]));
  const V = vocab.length;
  const C = classes.length;
  // One pair per caption: its image's classes, its distinct known words with the null word first.
  const pairs: { cs: number[]; ws: number[] }[] = [];
  // Co-occurrence counts for the lift, over every caption (those of images without detections too).
  const nw = new Float64Array(V);
  const nwc = new Float64Array(V * C);
  const nc = new Float64Array(C);
  let n = 0;
  for (const im of images) {
    const cs = [...new Set(im.labels.map((l) => cid.get(l)!))].sort((a, b) => a - b);
    for (const caption of im.captions) {
      const ws = [...new Set(caption.flatMap((w) => wid.get(w) ?? []))].sort((a, b) => a - b);
      n++;
      for (const c of cs) nc[c]++;
      for (const w of ws) {
        nw[w]++;
        for (const c of cs) nwc[w * C + c]++;
      }
      if (cs.length > 0) pairs.push({ cs, ws: [0, ...ws] });
    }
  }
  let t = new Float64Array(V * C).fill(1 / Math.max(C, 1));
  for (let it = 0; it < iterations; it++) {
    const count = new Float64Array(V * C).fill(eps);
    for (const { cs, ws } of pairs) {
      for (const c of cs) {
        let z = 0;
        for (const w of ws) z += t[w * C + c];
        for (const w of ws) count[w * C + c] += t[w * C + c] / z;
      }
    }
    for (let w = 0; w < V; w++) {
      let z = 0;
      for (let c = 0; c < C; c++) z += count[w * C + c];
      for (let c = 0; c < C; c++) count[w * C + c] /= z;
    }
    t = count;
  }
  const words = new Map<string, Map<string, AssociationEntry>>();
  for (let w = 1; w < V; w++) {
    for (let c = 0; c < C; c++) {
      const k = w * C + c;
      const present = (nwc[k] + 1) / (nc[c] + 2);
      const absent = (nw[w] - nwc[k] + 1) / (n - nc[c] + 2);
      const lift = Math.log(present / absent);
      if (lift <= 0 || t[k] < MIN_NAMING) continue;
      const row = words.get(vocab[w]) ?? new Map();
      row.set(classes[c], { naming: t[k], lift, given: nwc[k] / (nw[w] + GIVEN_PRIOR) });
      words.set(vocab[w], row);
    }
  }
  return { classes, words };
}

/** A word that is a class's own name scores at least this (the detector's label is given). */
export const NAME_MATCH = 4;

/** The word as written and its regular singulars (dogs -> dog, puppies -> puppy, buses -> bus). */
function singulars(word: string): string[] {
  const out = [word];
  if (word.endsWith("ies")) out.push(`${word.slice(0, -3)}y`);
  if (word.endsWith("es")) out.push(word.slice(0, -2));
  if (word.endsWith("s")) out.push(word.slice(0, -1));
  return out;
}

/**
 * A(c) for each of `present` (the classes detected in the image) given a phrase's words; `decay`
 * is λ, the weight of each word before the last relative to the one after it.
 */
export function phraseClassScores(
  assoc: WordClassAssociation,
  words: readonly string[],
  present: readonly string[],
  decay: number,
): Map<string, number> {
  const scores = new Map(present.map((c) => [c, 0]));
  let weight = 1;
  for (let k = words.length - 1; k >= 0; k--, weight *= decay) {
    const row = assoc.words.get(words[k]);
    let z = 0;
    for (const c of present) z += row?.get(c)?.naming ?? 0;
    const forms = singulars(words[k]);
    for (const c of present) {
      const e = row?.get(c);
      let v = e && z > 0 ? e.lift * (e.naming / z) : 0;
      const name = c.split(" ").pop()!;
      if (forms.includes(name)) v = Math.max(v, NAME_MATCH);
      scores.set(c, scores.get(c)! + weight * v);
    }
  }
  return scores;
}

/**
 * G(c) for each of `present`: max_k λ^k · given(w_k, c) over the phrase's words read from the
 * end, the probability that the class is in the image when the phrase's word is said.
 */
export function phraseClassGiven(
  assoc: WordClassAssociation,
  words: readonly string[],
  present: readonly string[],
  decay: number,
): Map<string, number> {
  const out = new Map(present.map((c) => [c, 0]));
  let weight = 1;
  for (let k = words.length - 1; k >= 0; k--, weight *= decay) {
    const row = assoc.words.get(words[k]);
    if (!row) continue;
    for (const c of present) {
      const e = row.get(c);
      if (e) out.set(c, Math.max(out.get(c)!, weight * e.given));
    }
  }
  return out;
}

/**
 * Reads the table as a grounding file of version 1 holds it, {classes, words: word -> class ->
 * [naming, lift, given]}; errors name `where` (the file) and the field's path in it
 * (e.g. "grounding.json: association.words.dog.person[1]").
 */
export function associationFromJSON(
  value: unknown,
  where: string,
  options: { path?: string; error?: ErrorClass } = {},
): WordClassAssociation {
  const r = JsonFields.of(value, where, options);
  const classes = r.strings("classes", { want: "a list of class names" });
  const table = r.child("words", { want: "an object of words" });
  const words = new Map<string, Map<string, AssociationEntry>>();
  for (const w of table.keys()) {
    const row = table.child(w, { want: "an object of classes" });
    const m = new Map<string, AssociationEntry>();
    for (const c of row.keys()) {
      // The common case checked directly (a bundle's table has ~40,000 entries, read on every
      // describe and search start); anything else goes through the reader for its error.
      const v = row.get(c);
      const [naming, lift, given] =
        Array.isArray(v) &&
        v.length === 3 &&
        v.every((x) => typeof x === "number" && Number.isFinite(x))
          ? (v as number[])
          : row.numbers(c, {}, { length: 3, want: "[naming, lift, given]" });
      m.set(c, { naming, lift, given });
    }
    words.set(w, m);
  }
  return { classes, words };
}
