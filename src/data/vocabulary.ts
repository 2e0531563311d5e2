import { type ErrorClass, JsonFields } from "../json-fields.js";
import type { Dataset, Split } from "./dataset.js";

/**
 * What happens to a word that is not in the vocabulary: "drop" skips it, as neuraltalk does;
 * "unk" maps it to the `<unk>` word, which then has its own embedding and softmax output.
 */
export type UnknownPolicy = "drop" | "unk";

export const UNKNOWN_POLICIES: readonly UnknownPolicy[] = ["drop", "unk"];

/**
 * The one boundary token, at index 0: fed as the START input at t = 1 and predicted as END after
 * the last word (neuraltalk's convention). So the softmax has one output more than there are
 * words, as in the paper, and the START vector is simply row 0 of the word embedding.
 */
export const BOUNDARY_TOKEN = "<s>";
export const BOUNDARY = 0;
/** Present, at index 1, only under the "unk" policy. */
export const UNKNOWN_TOKEN = "<unk>";

export interface VocabularyOptions {
  /** Keep words seen at least this many times (the paper: 5). */
  readonly minCount?: number;
  /** Default "drop". */
  readonly unknown?: UnknownPolicy;
}

export interface BuildVocabularyOptions extends VocabularyOptions {
  /** Splits whose sentences are counted; default ["train"], as in the paper. */
  readonly splits?: readonly Split[];
}

/** The saved form, stored inside checkpoints. */
export interface VocabularyJSON {
  readonly format: "imagesent-vocabulary";
  readonly version: 1;
  readonly minCount: number;
  readonly unknown: UnknownPolicy;
  /** Index -> word, specials first. */
  readonly words: readonly string[];
  /** Index -> count in the sentences it was built from. */
  readonly counts: readonly number[];
}

export const DEFAULT_MIN_COUNT = 5;

/**
 * Words kept from the training sentences, with their indices and counts. Kept words are ordered
 * by falling count, ties alphabetically, so the same sentences always give the same indices.
 */
export class Vocabulary {
  readonly minCount: number;
  readonly unknown: UnknownPolicy;
  /** Index -> word, including the special tokens. */
  readonly words: readonly string[];
  /**
   * Index -> how often it occurred: the boundary counts once per sentence (one END each), `<unk>`
   * counts every dropped occurrence.
   */
  readonly counts: readonly number[];
  readonly start = BOUNDARY;
  readonly end = BOUNDARY;
  /** Index of `<unk>`, or undefined under the "drop" policy. */
  readonly unk: number | undefined;
  private readonly index: ReadonlyMap<string, number>;

  private constructor(
    minCount: number,
    unknown: UnknownPolicy,
    words: readonly string[],
    counts: readonly number[],
  ) {
    this.minCount = minCount;
    this.unknown = unknown;
    this.words = words;
    this.counts = counts;
    this.unk = unknown === "unk" ? 1 : undefined;
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  /** Counts tokens over `sentences` and keeps the words seen at least `minCount` times. */
  static fromSentences(
    sentences: Iterable<readonly string[]>,
    options: VocabularyOptions = {},
  ): Vocabulary {
    const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
    const unknown = options.unknown ?? "drop";
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw new RangeError(`minCount must be a positive integer, got ${minCount}`);
    }
    const tally = new Map<string, number>();
    let sentenceCount = 0;
    for (const tokens of sentences) {
      sentenceCount++;
      for (const t of tokens) {
        if (t !== BOUNDARY_TOKEN && t !== UNKNOWN_TOKEN) tally.set(t, (tally.get(t) ?? 0) + 1);
      }
    }
    const kept: [string, number][] = [];
    let dropped = 0;
    for (const entry of tally) {
      if (entry[1] >= minCount) kept.push(entry);
      else dropped += entry[1];
    }
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const words = [BOUNDARY_TOKEN];
    const counts = [sentenceCount];
    if (unknown === "unk") {
      words.push(UNKNOWN_TOKEN);
      counts.push(dropped);
    }
    for (const [w, c] of kept) {
      words.push(w);
      counts.push(c);
    }
    return new Vocabulary(minCount, unknown, words, counts);
  }

  /**
   * Rebuilds a saved vocabulary; errors name `where` (the file) and the field's path in it (e.g.
   * "model.ckpt: vocabulary.words[3]").
   */
  static fromJSON(
    value: unknown,
    where = "vocabulary",
    options: { path?: string; error?: ErrorClass } = {},
  ): Vocabulary {
    const r = JsonFields.of(value, where, options);
    r.oneOf("format", ["imagesent-vocabulary"]);
    r.oneOf("version", [1]);
    const minCount = r.number("minCount", { integer: true, min: 1 });
    const policy = r.oneOf("unknown", UNKNOWN_POLICIES);
    const specials = policy === "unk" ? [BOUNDARY_TOKEN, UNKNOWN_TOKEN] : [BOUNDARY_TOKEN];
    const words = r.strings("words", { minLength: specials.length });
    const counts = r.numbers(
      "counts",
      { integer: true, min: 0 },
      { length: words.length, want: `a list of ${words.length} counts (one per word)` },
    );
    const seen = new Set<string>();
    words.forEach((word, i) => {
      const at = `words[${i}]`;
      if (i < specials.length && word !== specials[i]) {
        r.fail(at, `"${specials[i]}" under the "${policy}" policy`, word);
      }
      if (i >= specials.length && (word === BOUNDARY_TOKEN || word === UNKNOWN_TOKEN)) {
        throw r.errorAt(at, `special token "${word}" out of place`);
      }
      if (seen.has(word)) throw r.errorAt(at, `duplicate word "${word}"`);
      seen.add(word);
    });
    return new Vocabulary(minCount, policy, words, counts);
  }

  toJSON(): VocabularyJSON {
    return {
      format: "imagesent-vocabulary",
      version: 1,
      minCount: this.minCount,
      unknown: this.unknown,
      words: [...this.words],
      counts: [...this.counts],
    };
  }

  /** Number of indices, special tokens included: the softmax and embedding size. */
  get size(): number {
    return this.words.length;
  }

  /** Number of real words (specials excluded), the figure the paper reports (2538 on Flickr8k). */
  get wordCount(): number {
    return this.words.length - (this.unk === undefined ? 1 : 2);
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  indexOf(word: string): number | undefined {
    return this.index.get(word);
  }

  wordAt(index: number): string {
    const w = this.words[index];
    if (w === undefined) throw new RangeError(`word index ${index} outside 0..${this.size - 1}`);
    return w;
  }

  /**
   * Word indices of `tokens`, without boundary tokens; unknown words are dropped or become
   * `<unk>` per the policy.
   */
  encode(tokens: readonly string[]): number[] {
    const out: number[] = [];
    for (const t of tokens) {
      const i = t === BOUNDARY_TOKEN ? undefined : this.index.get(t);
      if (i !== undefined) out.push(i);
      else if (this.unk !== undefined) out.push(this.unk);
    }
    return out;
  }

  /** Words of `indices`; boundary indices are left out, so a caller cuts at END first if needed. */
  decode(indices: Iterable<number>): string[] {
    const out: string[] = [];
    for (const i of indices) if (i !== BOUNDARY) out.push(this.wordAt(i));
    return out;
  }

  /**
   * log(count / total) per index, for initialising the generator's softmax biases (neuraltalk).
   * A zero count is taken as 1 so no bias starts at -Infinity.
   */
  logFrequencies(): Float32Array {
    const total = this.counts.reduce((a, c) => a + Math.max(c, 1), 0);
    return Float32Array.from(this.counts, (c) => Math.log(Math.max(c, 1) / total));
  }
}

/** The vocabulary of a dataset's training sentences (or of `options.splits`). */
export function buildVocabulary(
  dataset: Dataset,
  options: BuildVocabularyOptions = {},
): Vocabulary {
  const splits = options.splits ?? ["train"];
  function* sentences(): Generator<readonly string[]> {
    for (const image of dataset.images) {
      if (!splits.includes(image.split)) continue;
      for (const s of image.sentences) yield s.tokens;
    }
  }
  return Vocabulary.fromSentences(sentences(), options);
}
