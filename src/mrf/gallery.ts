import type { StoredImage } from "../vision/feature-store.js";
import type { Box } from "../vision/image.js";
import { type AlignmentView, imageDataUri } from "./alignment-page.js";
import { countPhrases, rate } from "./phrase-accuracy.js";
import { alignSentence, type WordRegionScorer } from "./phrase-alignment.js";

/** Ground truth for a figure (the synthetic world): object boxes and each token's object. */
export interface FigureTruth {
  readonly objects: readonly { readonly box: Box }[];
  readonly refs: readonly number[];
}

/**
 * Aligns one sentence to a stored image and lays it out as a figure; the image file at
 * `imagePath` is embedded. With `truth`, the true boxes are drawn and the note gives the
 * sentence's phrase accuracy.
 */
export function alignmentView(
  scorer: WordRegionScorer,
  stored: StoredImage,
  imagePath: string,
  tokens: readonly string[],
  beta: number,
  truth?: FigureTruth,
): AlignmentView {
  const segments = alignSentence(scorer, stored.features, tokens, beta);
  const regionBoxes = stored.regions.map((r) => r.box);
  const view: AlignmentView = {
    title: stored.filename,
    imageHref: imageDataUri(imagePath),
    width: stored.width,
    height: stored.height,
    tokens,
    regionBoxes,
    segments,
  };
  if (!truth) return view;
  const { phrases } = countPhrases({ ...truth, regionBoxes, segments });
  return {
    ...view,
    truthBoxes: truth.objects.map((o) => o.box),
    note: `phrases on their true box (IoU >= 0.5): ${phrases.correct}/${phrases.total} (${(100 * rate(phrases)).toFixed(0)}%)`,
  };
}
