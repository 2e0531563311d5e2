import { type Dataset, SPLITS, type Split } from "./dataset.js";
import { buildVocabulary, DEFAULT_MIN_COUNT } from "./vocabulary.js";

export interface SplitStats {
  readonly images: number;
  readonly sentences: number;
  readonly tokens: number;
  /** Tokens per sentence; 0 for an empty split. */
  readonly meanSentenceLength: number;
  /** Fraction of tokens outside the train vocabulary (dropped, or `<unk>`). */
  readonly unknownRate: number;
}

export interface DatasetStats {
  readonly name: string;
  readonly images: number;
  readonly sentences: number;
  readonly tokens: number;
  /** Every split, empty ones included, so the JSON shape is fixed. */
  readonly splits: Readonly<Record<Split, SplitStats>>;
  readonly sentencesPerImage: { readonly min: number; readonly max: number };
  readonly sentenceLength: { readonly mean: number; readonly min: number; readonly max: number };
  readonly vocabulary: {
    readonly minCount: number;
    /** Words kept (special tokens excluded), the paper's 2538 for Flickr8k. */
    readonly words: number;
    /** Distinct words in the train split. */
    readonly distinctTrainWords: number;
  };
}

export interface DatasetStatsOptions {
  /** Vocabulary threshold; default 5 as in the paper. */
  readonly minCount?: number;
}

/** Counts per split and the train vocabulary the generator would use. */
export function computeDatasetStats(
  dataset: Dataset,
  options: DatasetStatsOptions = {},
): DatasetStats {
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  const vocab = buildVocabulary(dataset, { minCount });
  const acc = new Map(SPLITS.map((s) => [s, { images: 0, sentences: 0, tokens: 0, unknown: 0 }]));
  const trainWords = new Set<string>();
  let minPerImage = Number.POSITIVE_INFINITY;
  let maxPerImage = 0;
  let minLength = Number.POSITIVE_INFINITY;
  let maxLength = 0;
  for (const image of dataset.images) {
    const a = acc.get(image.split)!;
    a.images++;
    a.sentences += image.sentences.length;
    minPerImage = Math.min(minPerImage, image.sentences.length);
    maxPerImage = Math.max(maxPerImage, image.sentences.length);
    for (const s of image.sentences) {
      a.tokens += s.tokens.length;
      minLength = Math.min(minLength, s.tokens.length);
      maxLength = Math.max(maxLength, s.tokens.length);
      for (const t of s.tokens) {
        if (!vocab.has(t)) a.unknown++;
        if (image.split === "train") trainWords.add(t);
      }
    }
  }
  const splits = Object.fromEntries(
    SPLITS.map((s) => {
      const a = acc.get(s)!;
      const stats: SplitStats = {
        images: a.images,
        sentences: a.sentences,
        tokens: a.tokens,
        meanSentenceLength: ratio(a.tokens, a.sentences),
        unknownRate: ratio(a.unknown, a.tokens),
      };
      return [s, stats];
    }),
  ) as Record<Split, SplitStats>;
  const sentences = SPLITS.reduce((n, s) => n + splits[s].sentences, 0);
  const tokens = SPLITS.reduce((n, s) => n + splits[s].tokens, 0);
  return {
    name: dataset.name,
    images: dataset.images.length,
    sentences,
    tokens,
    splits,
    sentencesPerImage:
      sentences === 0 ? { min: 0, max: 0 } : { min: minPerImage, max: maxPerImage },
    sentenceLength: {
      mean: ratio(tokens, sentences),
      min: sentences === 0 ? 0 : minLength,
      max: maxLength,
    },
    vocabulary: { minCount, words: vocab.wordCount, distinctTrainWords: trainWords.size },
  };
}

/** A short human-readable table of the stats. */
export function formatDatasetStats(stats: DatasetStats): string {
  const header = ["split", "images", "sentences", "tokens", "mean length", "unknown"];
  const row = (name: string, s: SplitStats) => [
    name,
    String(s.images),
    String(s.sentences),
    String(s.tokens),
    s.meanSentenceLength.toFixed(2),
    `${(100 * s.unknownRate).toFixed(2)}%`,
  ];
  const rows = SPLITS.filter((s) => stats.splits[s].images > 0).map((s) => row(s, stats.splits[s]));
  const unknown = SPLITS.reduce(
    (n, s) => n + stats.splits[s].unknownRate * stats.splits[s].tokens,
    0,
  );
  rows.push(
    row("all", {
      images: stats.images,
      sentences: stats.sentences,
      tokens: stats.tokens,
      meanSentenceLength: stats.sentenceLength.mean,
      unknownRate: ratio(unknown, stats.tokens),
    }),
  );
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ");
  const { min, max } = stats.sentencesPerImage;
  const perImage = min === max ? `${min}` : `${min}-${max}`;
  const v = stats.vocabulary;
  return [
    `${stats.name}: ${stats.images} images, ${stats.sentences} sentences (${perImage} per image)`,
    "",
    line(header),
    ...rows.map(line),
    "",
    `vocabulary: ${v.words} words seen >= ${v.minCount} times in train, of ${v.distinctTrainWords} distinct`,
    `sentence length: mean ${stats.sentenceLength.mean.toFixed(2)}, min ${stats.sentenceLength.min}, max ${stats.sentenceLength.max} tokens`,
  ].join("\n");
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
