/** One image to score: its candidate caption and its reference captions, each PTB-tokenized. */
export interface TokenizedImage {
  readonly candidate: readonly string[];
  readonly references: readonly (readonly string[])[];
}

/** A corpus-level score and the per-image scores behind it, in input order. */
export interface MetricScore {
  readonly score: number;
  readonly perImage: readonly number[];
}
