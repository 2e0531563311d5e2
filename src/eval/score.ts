import { InputError } from "../errors.js";
import { bleu } from "./bleu.js";
import { ciderD } from "./cider.js";
import type { ImageId } from "./coco-format.js";
import { meteor } from "./meteor/meteor.js";
import { ptbTokenize } from "./ptb-tokenizer.js";
import { rougeL } from "./rouge.js";
import type { TokenizedImage } from "./types.js";

/** Every coco-caption metric for one image or for a corpus. */
export interface CaptionMetrics {
  readonly bleu1: number;
  readonly bleu2: number;
  readonly bleu3: number;
  readonly bleu4: number;
  /** METEOR 1.5 without its paraphrase module (see METEOR_NAME). */
  readonly meteor: number;
  readonly rougeL: number;
  readonly ciderD: number;
}

export interface CaptionScores {
  readonly corpus: CaptionMetrics;
  readonly perImage: readonly ({ readonly imageId: ImageId } & CaptionMetrics)[];
}

/**
 * Scores candidate captions against references the way coco-caption's COCOEvalCap does, over
 * the images that have a candidate: PTB-tokenize everything, then BLEU-1..4, METEOR, ROUGE-L
 * and CIDEr-D. Every candidate's image must have at least one reference.
 */
export function scoreCaptions(
  references: ReadonlyMap<ImageId, readonly string[]>,
  candidates: ReadonlyMap<ImageId, string>,
): CaptionScores {
  if (candidates.size === 0) throw new InputError("no candidate captions to score");
  const ids = [...candidates.keys()];
  const images = ids.map((id): TokenizedImage => {
    const refs = references.get(id);
    if (!refs || refs.length === 0) {
      throw new InputError(`image ${id} has a candidate caption but no reference captions`);
    }
    return { candidate: ptbTokenize(candidates.get(id)!), references: refs.map(ptbTokenize) };
  });
  return scoreTokenized(ids, images);
}

/** All metrics over already-tokenized images; `ids[i]` names `images[i]` in the result. */
export function scoreTokenized(
  ids: readonly ImageId[],
  images: readonly TokenizedImage[],
): CaptionScores {
  const b = bleu(images, 4);
  const m = meteor(images);
  const r = rougeL(images);
  const c = ciderD(images);
  const [bleu1, bleu2, bleu3, bleu4] = b.scores;
  return {
    corpus: { bleu1, bleu2, bleu3, bleu4, meteor: m.score, rougeL: r.score, ciderD: c.score },
    perImage: ids.map((imageId, i) => ({
      imageId,
      bleu1: b.perImage[0][i],
      bleu2: b.perImage[1][i],
      bleu3: b.perImage[2][i],
      bleu4: b.perImage[3][i],
      meteor: m.perImage[i],
      rougeL: r.perImage[i],
      ciderD: c.perImage[i],
    })),
  };
}
