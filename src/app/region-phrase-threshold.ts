import { type EntityImage, scaleEntityBox } from "../data/flickr30k-entities.js";
import type { AlignmentRerank } from "../generate/alignment-rerank.js";
import { entityRegions } from "../generate/entity-regions.js";
import type { LoadedGenerator } from "../generate/load-generator.js";
import { decodeRegionPhrases, FUNCTION_WORDS } from "../generate/region-phrases.js";
import type { ConsensusRerank } from "../generate/snippet-consensus.js";
import { classOfPhrase } from "../mrf/phrase-classes.js";
import { iou } from "../vision/boxes.js";
import type { StoredImage } from "../vision/feature-store.js";
import type { RegionSource } from "../vision/image.js";
import { contradictsLabel } from "./region-phrase-filter.js";

/**
 * Choosing describe's confidence threshold on val (`imagesent region-threshold`): the region
 * generator phrases every region of the val images as describe does (the regions of a feature
 * store, made by the bundle's vision setup), and each phrase on a region that matches an
 * annotated Flickr30k Entities box (IoU >= MATCH_IOU) is judged against that entity's phrases.
 * The threshold is the confidence below which such phrases are more often wrong than right.
 */

/** A region matches an annotated entity when their boxes overlap this much (the grounding protocol's IoU). */
export const MATCH_IOU = 0.5;

/** One val region's phrase and how it fared. */
export interface PhraseSample {
  readonly filename: string;
  /** The region's index in the store (1.. : the whole image is not phrased). */
  readonly region: number;
  readonly source: RegionSource;
  readonly label?: string;
  readonly score?: number;
  readonly phrase: string;
  readonly confidence: number;
  /** It names another class than the region's confident detection (never shown, not judged). */
  readonly contradicts: boolean;
  /** The phrases of the entity the region matches; absent when it matches none. */
  readonly references?: readonly string[];
  /** Whether the phrase agrees with them (phraseAgrees); absent when there are none. */
  readonly agrees?: boolean;
}

const FUNCTION = new Set(FUNCTION_WORDS);

/** A word and its regular singulars (shirts -> shirt, puppies -> puppy). */
function forms(word: string): string[] {
  const out = [word];
  if (word.endsWith("ies")) out.push(`${word.slice(0, -3)}y`);
  if (word.endsWith("es")) out.push(word.slice(0, -2));
  if (word.endsWith("s")) out.push(word.slice(0, -1));
  return out;
}

/**
 * Whether a phrase says what people said of the entity: a word of it other than a function word
 * is in one of the entity's phrases (singular or plural), or it names the class one of them
 * names ("a man" for "a young boy": both a person). Lenient on purpose: it asks whether the
 * phrase is about the right thing, not whether it is worded as people word it (BLEU does that).
 */
export function phraseAgrees(
  words: readonly string[],
  references: readonly (readonly string[])[],
): boolean {
  const said = new Set(references.flat().flatMap(forms));
  if (words.some((w) => !FUNCTION.has(w) && forms(w).some((f) => said.has(f)))) return true;
  const named = classOfPhrase(words);
  return named !== undefined && references.some((r) => classOfPhrase(r) === named);
}

/**
 * The phrase of every region (but the whole image) of each stored image, judged against the
 * entities of its annotation; `entities` maps a file name to its annotation (images without one
 * are phrased, with no references).
 */
export function phraseSamples(
  generator: LoadedGenerator,
  images: Iterable<StoredImage>,
  entities: ReadonlyMap<string, EntityImage>,
  options: {
    readonly beam: number;
    readonly labelScore: number;
    /** describe's reranking of each region's beam, when the bundle has one. */
    readonly rerank?: AlignmentRerank;
    /** ... and its snippet consensus, when the bundle has one. */
    readonly consensus?: ConsensusRerank;
  },
): PhraseSample[] {
  const dim = generator.model.config.featureDim;
  const out: PhraseSample[] = [];
  for (const image of images) {
    const annotated = entities.get(image.filename);
    const targets = annotated
      ? entityRegions(annotated).map((r) => ({
          phrases: r.phrases,
          box: scaleEntityBox(r.box, annotated.annotation, image.width, image.height),
        }))
      : [];
    const phrases = decodeRegionPhrases(generator, image.features.subarray(dim), {
      beam: options.beam,
      ...(options.rerank ? { rerank: options.rerank } : {}),
      ...(options.consensus ? { consensus: options.consensus } : {}),
    });
    phrases.forEach((p, i) => {
      if (!p) return;
      const region = image.regions[i + 1];
      let best: (typeof targets)[number] | undefined;
      let bestIou = MATCH_IOU;
      for (const t of targets) {
        const o = iou(region.box, t.box);
        if (o >= bestIou) [best, bestIou] = [t, o];
      }
      const contradicts = contradictsLabel(p.words, region, options.labelScore);
      out.push({
        filename: image.filename,
        region: i + 1,
        source: region.source,
        ...(region.label !== undefined ? { label: region.label, score: region.score } : {}),
        phrase: p.words.join(" "),
        confidence: p.confidence,
        contradicts,
        ...(best
          ? {
              references: best.phrases.map((r) => r.join(" ")),
              ...(contradicts ? {} : { agrees: phraseAgrees(p.words, best.phrases) }),
            }
          : {}),
      });
    });
  }
  return out;
}

/** One step of the fitted agreement curve: confidences [from, to] agree at this rate. */
export interface AgreementStep {
  readonly from: number;
  readonly to: number;
  readonly phrases: number;
  readonly agreement: number;
}

export interface ThresholdChoice {
  /**
   * The lowest confidence at which judged phrases agree at least `precision` of the time (on the
   * monotone fit); undefined when no confidence reaches it.
   */
  readonly minConfidence: number | undefined;
  readonly precision: number;
  /** P(agrees | confidence), fitted non-decreasing in confidence (pool-adjacent-violators). */
  readonly curve: readonly AgreementStep[];
}

/**
 * The threshold from judged phrases: agreement as a non-decreasing function of confidence
 * (isotonic regression, so that one lucky bin does not set it), and the lowest confidence where
 * it reaches `precision` (0.5: below it, phrases are mostly wrong).
 */
export function chooseMinConfidence(
  judged: readonly { readonly confidence: number; readonly agrees: boolean }[],
  precision = 0.5,
): ThresholdChoice {
  const sorted = [...judged].sort((a, b) => a.confidence - b.confidence);
  const blocks: { from: number; to: number; n: number; sum: number }[] = [];
  for (const s of sorted) {
    blocks.push({ from: s.confidence, to: s.confidence, n: 1, sum: s.agrees ? 1 : 0 });
    // Equal confidences are one block; a block below a better one is pooled with it.
    for (;;) {
      const k = blocks.length;
      if (k < 2) break;
      const [a, b] = [blocks[k - 2], blocks[k - 1]];
      if (a.to !== b.from && a.sum / a.n < b.sum / b.n) break;
      blocks.splice(k - 2, 2, { from: a.from, to: b.to, n: a.n + b.n, sum: a.sum + b.sum });
    }
  }
  const curve = blocks.map((b) => ({
    from: b.from,
    to: b.to,
    phrases: b.n,
    agreement: b.sum / b.n,
  }));
  return {
    minConfidence: curve.find((c) => c.agreement >= precision)?.from,
    precision,
    curve,
  };
}
