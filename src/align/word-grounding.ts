import { iou } from "../vision/boxes.js";
import type { Box } from "../vision/image.js";
import type { AlignmentModel } from "./model.js";

/**
 * An image whose regions, object boxes and the object each sentence word names are known: a
 * world.json image (src/world/world-file.ts) is one.
 */
export interface GroundTruthImage {
  readonly regions: readonly { readonly box: Box }[];
  readonly objects: readonly { readonly box: Box }[];
  readonly sentences: readonly {
    readonly tokens: readonly string[];
    /** Each token's object (index into objects) or -1. */
    readonly refs: readonly number[];
  }[];
}

export interface WordGroundingResult {
  /** Object words (tokens that name an object and are in the vocabulary) scored. */
  readonly words: number;
  /** Those whose best region overlaps the named object's true box with IoU >= minIou. */
  readonly hits: number;
  readonly accuracy: number;
  /** The same counts for each word. */
  readonly byWord: ReadonlyMap<string, { hits: number; words: number }>;
}

/**
 * How often each object word's best region (argmax_i v_i . s_t) lands on the object it names, on
 * images whose true boxes are known (the synthetic world's). `features(k)` gives image k's raw
 * CNN codes for the regions the image lists, in that order.
 */
export function wordGrounding(
  model: AlignmentModel,
  images: readonly GroundTruthImage[],
  features: (k: number) => Float32Array,
  minIou = 0.5,
): WordGroundingResult {
  let words = 0;
  let hits = 0;
  const byWord = new Map<string, { hits: number; words: number }>();
  images.forEach((image, k) => {
    const codes = features(k);
    for (const sentence of image.sentences) {
      const m = model.wordRegionScores(codes, sentence.tokens);
      const cols = m.words.length;
      m.positions.forEach((position, t) => {
        const object = sentence.refs[position];
        if (object < 0) return;
        let best = 0;
        for (let i = 1; i < m.regions; i++) {
          if (m.scores[i * cols + t] > m.scores[best * cols + t]) best = i;
        }
        const hit = iou(image.regions[best].box, image.objects[object].box) >= minIou ? 1 : 0;
        words++;
        hits += hit;
        const w = byWord.get(m.words[t]) ?? { hits: 0, words: 0 };
        w.words++;
        w.hits += hit;
        byWord.set(m.words[t], w);
      });
    }
  });
  return { words, hits, accuracy: words > 0 ? hits / words : 0, byWord };
}
