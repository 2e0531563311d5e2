import { alignChain, type ScoreMatrix } from "./chain-mrf.js";
import { type Segment, segmentsOf } from "./segments.js";

/**
 * What the chain MRF needs from an alignment model (AlignmentModel satisfies it): the regions x
 * words matrix of v_i·s_t for the words of `tokens` it knows, with each column's token position.
 */
export interface WordRegionScorer {
  wordRegionScores(
    features: Float32Array,
    tokens: readonly string[],
  ): {
    readonly regions: number;
    readonly positions: readonly number[];
    readonly scores: Float32Array;
  };
}

/** The scores as the MRF's unary matrix, with the token position of each column. */
export interface SentenceScores {
  readonly matrix: ScoreMatrix;
  readonly positions: readonly number[];
}

export function scoreSentence(
  scorer: WordRegionScorer,
  features: Float32Array,
  tokens: readonly string[],
): SentenceScores {
  const r = scorer.wordRegionScores(features, tokens);
  return {
    matrix: { scores: r.scores, regions: r.regions, words: r.positions.length },
    positions: r.positions,
  };
}

/**
 * The MRF's segments in token positions. A word the model does not know has no column; inside a
 * segment it goes with its neighbours, between two segments it belongs to neither.
 */
export function alignScored(scored: SentenceScores, beta: number): Segment[] {
  const { assignment } = alignChain(scored.matrix, beta);
  return segmentsOf(assignment, scored.matrix).map((s) => ({
    ...s,
    start: scored.positions[s.start],
    end: scored.positions[s.end - 1] + 1,
  }));
}

/** Aligns one sentence to one image's regions: scores, chain MRF, segments. */
export function alignSentence(
  scorer: WordRegionScorer,
  features: Float32Array,
  tokens: readonly string[],
  beta: number,
): Segment[] {
  return alignScored(scoreSentence(scorer, features, tokens), beta);
}

/**
 * The default reward for neighbouring words sharing a region, chosen by phrase-to-box accuracy
 * on the synthetic world (docs/results/mrf.md).
 */
export const DEFAULT_BETA = 1;
