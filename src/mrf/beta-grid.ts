import { iou } from "../vision/boxes.js";
import type { Box } from "../vision/image.js";
import {
  countPhrases,
  emptyCounts,
  IOU_THRESHOLD,
  type PhraseCounts,
  rate,
  referringSpans,
  type Tally,
} from "./phrase-accuracy.js";
import {
  alignScored,
  type SentenceScores,
  scoreSentence,
  type WordRegionScorer,
} from "./phrase-alignment.js";

/** The betas `imagesent mrf-grid` and the demo try. */
export const DEFAULT_BETAS: readonly number[] = [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8];

/**
 * An image whose objects' boxes and the objects each sentence word names are known (a world.json
 * image, src/world/world-file.ts, is one).
 */
export interface GroundTruthImage {
  readonly objects: readonly { readonly box: Box }[];
  readonly sentences: readonly {
    readonly tokens: readonly string[];
    /** Each token's object (index into objects) or -1. */
    readonly refs: readonly number[];
  }[];
}

/** One image with known ground truth and the region features and boxes the model aligns to. */
export interface GroundedImage {
  readonly image: GroundTruthImage;
  readonly features: Float32Array;
  readonly regionBoxes: readonly Box[];
}

export interface BetaResult {
  readonly beta: number;
  readonly counts: PhraseCounts;
  readonly sentences: number;
  /** Segments the MRF made, over all sentences. */
  readonly segments: number;
}

/**
 * Phrase-to-box accuracy of the chain MRF for each beta, over every sentence of `images`. Each
 * sentence is scored by the model once; only the cheap dynamic programme runs per beta.
 */
export function betaGrid(
  scorer: WordRegionScorer,
  images: Iterable<GroundedImage>,
  betas: readonly number[],
  onImage: () => void = () => {},
): BetaResult[] {
  const results = betas.map((beta) => ({ beta, counts: emptyCounts(), sentences: 0, segments: 0 }));
  for (const { image, features, regionBoxes } of images) {
    for (const sentence of image.sentences) {
      const scored: SentenceScores = scoreSentence(scorer, features, sentence.tokens);
      for (const result of results) {
        const segments = alignScored(scored, result.beta);
        countPhrases(
          { objects: image.objects, refs: sentence.refs, regionBoxes, segments },
          result.counts,
        );
        result.sentences++;
        result.segments += segments.length;
      }
    }
    onImage();
  }
  return results;
}

/**
 * The beta with the best phrase accuracy (the view that penalises both fragmenting a phrase and
 * merging it with the next); the smallest such beta on a tie.
 */
export function chooseBeta(results: readonly BetaResult[]): number {
  let best = results[0];
  for (const r of results) if (rate(r.counts.phrases) > rate(best.counts.phrases)) best = r;
  return best.beta;
}

const pct = (t: { correct: number; total: number }) => `${(100 * rate(t)).toFixed(1)}%`;

/**
 * The grid as a Markdown table, the chosen beta in bold. With `selection` (the same betas on the
 * split beta was chosen on), its phrase accuracy comes first.
 */
export function gridTable(
  results: readonly BetaResult[],
  chosen: number,
  selection?: { readonly split: string; readonly results: readonly BetaResult[] },
): string[] {
  const first = selection ? ` ${selection.split} phrases |` : "";
  const lines = [
    `| beta |${first} phrases | segments | words | segments per sentence |`,
    `|---:|${selection ? "---:|" : ""}---:|---:|---:|---:|`,
  ];
  for (const [i, r] of results.entries()) {
    const beta = r.beta === chosen ? `**${r.beta}**` : `${r.beta}`;
    const selected = selection ? ` ${pct(selection.results[i].counts.phrases)} |` : "";
    const perSentence = (r.segments / Math.max(1, r.sentences)).toFixed(2);
    lines.push(
      `| ${beta} |${selected} ${pct(r.counts.phrases)} | ${pct(r.counts.segments)} | ${pct(r.counts.words)} | ${perSentence} |`,
    );
  }
  return lines;
}

/**
 * The best phrase accuracy any alignment could reach: the share of true phrases whose object has
 * at least one region box with IoU >= 0.5.
 */
export function phraseUpperBound(images: Iterable<GroundedImage>): Tally {
  const t: Tally = { correct: 0, total: 0 };
  for (const { image, regionBoxes } of images) {
    for (const sentence of image.sentences) {
      for (const span of referringSpans(sentence.refs)) {
        t.total++;
        const box = image.objects[span.object].box;
        if (regionBoxes.some((b) => iou(b, box) >= IOU_THRESHOLD)) t.correct++;
      }
    }
  }
  return t;
}
