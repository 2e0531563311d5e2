import { type EntityImage, NOT_VISUAL_CHAIN } from "../data/flickr30k-entities.js";
import { unionBox } from "../mrf/grounding-eval.js";
import type { Box } from "../vision/image.js";

/**
 * The regions Flickr30k Entities annotates, as targets for a region describer (the paper's
 * Table 3): one per entity chain of an image that has a box, its box the union of the chain's
 * boxes (as the grounding protocol takes it, so "two dogs" is the box around both dogs, not one
 * of them), its references every phrase of the chain in the image's sentences.
 */
export interface EntityRegion {
  readonly filename: string;
  readonly chain: string;
  /** The union of the chain's boxes, in the annotated image's pixels. */
  readonly box: Box;
  /**
   * The chain's phrases, tokenized, in sentence order; a sentence that names the entity twice
   * ("a man ... the man") gives two.
   */
  readonly phrases: readonly (readonly string[])[];
}

/**
 * The entity regions of one annotated image, in the order their chains are first named.
 * Notvisual phrases (chain 0) and chains without a box are left out, as are chains with a box
 * that no sentence names (they have no reference).
 */
export function entityRegions(image: EntityImage): EntityRegion[] {
  const phrases = new Map<string, string[][]>();
  for (const sentence of image.sentences) {
    for (const p of sentence.phrases) {
      if (p.chain === NOT_VISUAL_CHAIN || !image.annotation.boxes.has(p.chain)) continue;
      const list = phrases.get(p.chain) ?? [];
      list.push(sentence.tokens.slice(p.start, p.end));
      phrases.set(p.chain, list);
    }
  }
  return [...phrases].map(([chain, list]) => ({
    filename: image.image.filename,
    chain,
    box: unionBox(image.annotation.boxes.get(chain)!),
    phrases: list,
  }));
}

/** Entity regions with their CNN codes. */
export interface EncodedRegions {
  readonly regions: readonly EntityRegion[];
  /** regions.length x dim, row-major, raw (not normalised). */
  readonly features: Float32Array;
}
