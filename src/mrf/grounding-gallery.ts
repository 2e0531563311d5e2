import { iou } from "../vision/boxes.js";
import type { StoredImage } from "../vision/feature-store.js";
import { type AlignmentView, imageDataUri, type TruthPhrase } from "./alignment-page.js";
import { type GroundingPhrase, mrfSpanRegion } from "./grounding-eval.js";
import type { GroundingKnowledge } from "./grounding-knowledge.js";
import { IOU_THRESHOLD } from "./phrase-accuracy.js";
import { alignScored, scoreSentence, type WordRegionScorer } from "./phrase-alignment.js";
import { groundPhrases, groundSpans } from "./phrase-grounding.js";
import type { Segment } from "./segments.js";

/**
 * Figures of phrase grounding on real photos (show-alignment --entities / --grounding): a
 * sentence's phrases on the regions the chain MRF or the learned chooser gives them, and, for a
 * Flickr30k Entities sentence, each annotated phrase's true box and whether its region is right
 * by eval-grounding's protocol (IoU >= 0.5 with the union of its chain's boxes).
 */

/** How a figure puts phrases on regions. */
export type FigureGrounding =
  /** The MRF's segments; an annotated phrase goes where its last known word went. */
  | { readonly kind: "mrf"; readonly beta: number }
  /**
   * The learned chooser (groundSpans) on the annotated phrases, or on the sentence's noun
   * phrases (groundPhrases) when there are none.
   */
  | { readonly kind: "learned"; readonly knowledge: GroundingKnowledge };

/**
 * One sentence on one stored image as a figure, the image file at `imagePath` embedded. With
 * `annotated` (the sentence's phrases the protocol evaluates, boxes in the stored image's pixels),
 * their true boxes are drawn and the note gives the sentence's grounding accuracy.
 */
export function groundingView(
  scorer: WordRegionScorer,
  stored: StoredImage,
  imagePath: string,
  tokens: readonly string[],
  grounding: FigureGrounding,
  annotated?: readonly GroundingPhrase[],
): AlignmentView {
  const { regions } = stored;
  const scores = scoreSentence(scorer, stored.features, tokens);
  let segments: Segment[];
  let chosen: number[];
  if (grounding.kind === "mrf") {
    segments = scores.matrix.words > 0 ? alignScored(scores, grounding.beta) : [];
    chosen = (annotated ?? []).map((p) =>
      mrfSpanRegion(segments, scores.positions, regions, p.start, p.end),
    );
  } else {
    const { knowledge } = grounding;
    const grounded = annotated
      ? groundSpans(tokens, regions, scores, annotated, knowledge, stored.features)
      : groundPhrases(tokens, regions, scores, knowledge, stored.features);
    segments = grounded.map((g) => ({
      start: g.start,
      end: g.end,
      region: g.region,
      score: g.confidence,
    }));
    chosen = grounded.map((g) => g.region);
  }
  const view: AlignmentView = {
    title: stored.filename,
    imageHref: imageDataUri(imagePath),
    width: stored.width,
    height: stored.height,
    tokens,
    regionBoxes: regions.map((r) => r.box),
    segments,
  };
  if (!annotated) return view;
  const truthPhrases: TruthPhrase[] = annotated.map((p, k) => ({
    start: p.start,
    end: p.end,
    box: p.truth,
    region: chosen[k],
    right: iou(regions[chosen[k]].box, p.truth) >= IOU_THRESHOLD,
  }));
  const right = truthPhrases.filter((p) => p.right).length;
  return {
    ...view,
    truthPhrases,
    note:
      truthPhrases.length === 0
        ? "no annotated phrase with a box"
        : `annotated phrases on their true box (IoU >= 0.5): ${right}/${truthPhrases.length} (${((100 * right) / truthPhrases.length).toFixed(0)}%)`,
  };
}
