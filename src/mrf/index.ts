/** imagesent/mrf: the chain MRF of section 3.1.4 that aligns phrases to regions, its beta grid and phrase accuracy. */

export { alignToSnippets, type SplitAlignmentJob } from "./align-split.js";
export {
  type AlignmentView,
  alignmentFigure,
  alignmentPage,
  imageDataUri,
  type PageOptions,
} from "./alignment-page.js";
export {
  type BetaResult,
  betaGrid,
  chooseBeta,
  DEFAULT_BETAS,
  type GroundedImage,
  type GroundTruthImage,
  gridTable,
  phraseUpperBound,
} from "./beta-grid.js";
export {
  alignChain,
  alignChainBruteForce,
  type ChainAlignment,
  chainEnergy,
  type ScoreMatrix,
  wordArgmax,
} from "./chain-mrf.js";
export { alignmentView, type FigureTruth } from "./gallery.js";
export {
  countPhrases,
  emptyCounts,
  type GroundedAlignment,
  IOU_THRESHOLD,
  type PhraseCounts,
  type ReferringSpan,
  rate,
  referringSpans,
  type Tally,
} from "./phrase-accuracy.js";
export {
  alignScored,
  alignSentence,
  DEFAULT_BETA,
  type SentenceScores,
  scoreSentence,
  type WordRegionScorer,
} from "./phrase-alignment.js";
export { type Segment, segmentsOf } from "./segments.js";
export {
  formatSnippet,
  parseSnippetLine,
  parseSnippets,
  readSnippets,
  type Snippet,
  SnippetAppender,
  sentenceSnippets,
  writeSnippets,
} from "./snippets.js";
