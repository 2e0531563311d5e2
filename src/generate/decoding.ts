import type { Rng } from "../core/rng.js";
import { BOUNDARY } from "../data/vocabulary.js";
import type { Stepper } from "./caption-model.js";

/**
 * Caption decoding, written once over a `Stepper` (any model, any cell): greedy, sampling with a
 * temperature, and beam search with optional length normalisation. Every decoder starts from
 * START (the boundary token) and stops at END (the same token) or after `maxLength` words.
 */

export const DEFAULT_MAX_LENGTH = 20;
export const DEFAULT_BEAM = 7;
/**
 * The length normalisation beamSearch, describe and eval-gen use unless told otherwise, chosen on Flickr8k
 * val at beam 7 (docs/generator.md): 0 ranks by logProb, which favours short generic captions;
 * larger values trade BLEU for METEOR.
 */
export const DEFAULT_LENGTH_NORMALIZATION = 0.7;

export interface Caption {
  /** Word indices, boundary tokens excluded. */
  readonly words: number[];
  /** Sum of the log-probabilities of the words (and of END when finished). */
  readonly logProb: number;
  /** False when it was cut at maxLength without predicting END. */
  readonly finished: boolean;
}

export interface GreedyOptions {
  /** Longest caption in words (default 20). */
  readonly maxLength?: number;
  /**
   * Words a caption may not end on, such as the function words of a region phrase
   * (region-phrases.ts): when set, END is never the first token (no empty caption) nor follows one
   * of them, and none of them is the maxLength-th word, so a caption cut at maxLength ends on
   * another word too. The scores stay the model's own: a forbidden token is left out, the others
   * are not renormalised. The vocabulary needs a word outside the set.
   */
  readonly nonFinal?: ReadonlySet<number>;
}

/** The most likely word at every step. */
export function greedy(stepper: Stepper, opts: GreedyOptions = {}): Caption {
  return walk(stepper, opts, (row) => argmax(row));
}

export interface SampleOptions extends GreedyOptions {
  readonly rng: Rng;
  /** Divides the logits: < 1 sharpens towards greedy, > 1 flattens (default 1). */
  readonly temperature?: number;
}

/** A word drawn from softmax(logits / temperature) at every step. */
export function sample(stepper: Stepper, opts: SampleOptions): Caption {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const weights = new Float64Array(stepper.vocabSize);
  return walk(stepper, opts, (row) => {
    let max = Number.NEGATIVE_INFINITY;
    for (const lp of row) max = Math.max(max, lp);
    let total = 0;
    for (let j = 0; j < row.length; j++) {
      weights[j] = Math.exp((row[j] - max) / temperature);
      total += weights[j];
    }
    let u = opts.rng.uniform() * total;
    for (let j = 0; j < row.length; j++) {
      u -= weights[j];
      if (u < 0) return j;
    }
    return row.length - 1;
  });
}

/**
 * One hypothesis at a time, the next word chosen by `pick` from its log-probabilities (the
 * tokens `opts.nonFinal` forbids there set to -Infinity).
 */
function walk(stepper: Stepper, opts: GreedyOptions, pick: (row: Float32Array) => number): Caption {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  const scratch = opts.nonFinal ? new Float32Array(stepper.vocabSize) : undefined;
  const words: number[] = [];
  let logProb = 0;
  let { logProbs, next } = stepper.step(null, Int32Array.of(BOUNDARY));
  for (;;) {
    const w = pick(allowedOnly(logProbs, words, maxLength, opts.nonFinal, scratch));
    logProb += logProbs[w];
    if (w === BOUNDARY) return { words, logProb, finished: true };
    words.push(w);
    if (words.length >= maxLength) return { words, logProb, finished: false };
    ({ logProbs, next } = stepper.step(next, Int32Array.of(w)));
  }
}

export interface BeamOptions extends GreedyOptions {
  /** Hypotheses kept (the paper: 7). Beam 1 is greedy decoding. */
  readonly beam?: number;
  /**
   * Length normalisation exponent alpha: hypotheses are ranked by logProb / length^alpha, with
   * length the predicted tokens (END included). Default DEFAULT_LENGTH_NORMALIZATION, the
   * setting describe and eval-gen use; 0 ranks by logProb (the paper's decoding), which favours
   * short generic captions as the beam widens.
   */
  readonly lengthNormalization?: number;
}

/**
 * What beam search ranks captions by: logProb / length^alpha, with length the predicted tokens
 * (END included); alpha 0 is the logProb itself.
 */
export function rankScore(caption: Caption, alpha: number): number {
  if (alpha === 0) return caption.logProb;
  return caption.logProb / (caption.words.length + (caption.finished ? 1 : 0)) ** alpha;
}

interface Hypothesis extends Caption {
  /** Row of this hypothesis' state in the current state matrix (live hypotheses only). */
  readonly row: number;
}

/**
 * Beam search as in neuraltalk: at every step each live hypothesis proposes its `beam` best next
 * words, finished hypotheses compete unchanged, and the `beam` best of all of them survive. It
 * ends when every survivor is finished; the best is returned first.
 */
export function beamSearch(stepper: Stepper, opts: BeamOptions = {}): Caption[] {
  return batchedBeamSearch([stepper], opts)[0];
}

/**
 * Beam search for many images at once, such as the 19 regions of one photo: every step
 * advances the live hypotheses of all of them in one call of the model, so the output layer's
 * weights are read once per step instead of once per region and hypothesis (one 57-row step
 * costs about as much as three 1-row steps at the paper's sizes). Each image's search is
 * beamSearch's: the same candidates in the same order, the same ranking
 * and stopping rule, so it finds the same captions (test/generate/batched-beam-search.test.ts checks).
 *
 * It relies on the Stepper contract that the image enters only at the first step (prev = null):
 * after that a hypothesis is its state and last word, whichever image it came from, so one
 * stepper advances them all. Returns each image's captions, best first.
 */
export function batchedBeamSearch(
  steppers: readonly Stepper[],
  opts: BeamOptions = {},
): Caption[][] {
  const beam = opts.beam ?? DEFAULT_BEAM;
  const alpha = opts.lengthNormalization ?? DEFAULT_LENGTH_NORMALIZATION;
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (!Number.isInteger(beam) || beam < 1) throw new RangeError(`beam must be >= 1, got ${beam}`);
  if (steppers.length === 0) return [];
  const score = (h: Caption) => rankScore(h, alpha);
  const S = steppers[0].stateSize;
  const V = steppers[0].vocabSize;
  const scratch = opts.nonFinal ? new Float32Array(V) : undefined;

  // The first step is each image's own: that is where its features enter.
  const firsts = steppers.map((s) => s.step(null, Int32Array.of(BOUNDARY)));
  let logProbs: Float32Array = new Float32Array(steppers.length * V);
  let states: Float32Array = new Float32Array(steppers.length * S);
  firsts.forEach((f, k) => {
    logProbs.set(f.logProbs, k * V);
    states.set(f.next, k * S);
  });
  const hyps: Hypothesis[][] = steppers.map((_, k) => [
    { words: [], logProb: 0, finished: false, row: k },
  ]);
  const results: Caption[][] = new Array(steppers.length);
  const best = new Int32Array(beam);
  for (;;) {
    const parents: number[] = [];
    const tokens: number[] = [];
    hyps.forEach((current, k) => {
      if (results[k]) return;
      const candidates: (Hypothesis & { parent: number })[] = [];
      for (const h of current) {
        if (h.finished || h.words.length >= maxLength) {
          candidates.push({ ...h, parent: -1 });
          continue;
        }
        const row = allowedOnly(
          logProbs.subarray(h.row * V, (h.row + 1) * V),
          h.words,
          maxLength,
          opts.nonFinal,
          scratch,
        );
        const n = topK(row, beam, best);
        for (let i = 0; i < n; i++) {
          const w = best[i];
          if (row[w] === Number.NEGATIVE_INFINITY) break;
          const ended = w === BOUNDARY;
          candidates.push({
            words: ended ? h.words : [...h.words, w],
            logProb: h.logProb + row[w],
            finished: ended,
            row: -1,
            parent: h.row,
          });
        }
      }
      // Stable sort: ties keep the order words were proposed in, as in beamSearch.
      candidates.sort((a, b) => score(b) - score(a));
      const kept = candidates.slice(0, beam);
      if (kept.every((h) => h.finished || h.words.length >= maxLength)) {
        results[k] = kept.map(({ words, logProb, finished }) => ({ words, logProb, finished }));
        return;
      }
      hyps[k] = kept.map((h) => {
        if (h.finished || h.words.length >= maxLength) return { ...h, row: -1 };
        parents.push(h.parent);
        tokens.push(h.words[h.words.length - 1]);
        return { ...h, row: parents.length - 1 };
      });
    });
    if (parents.length === 0) return results;
    const prev = new Float32Array(parents.length * S);
    parents.forEach((p, i) => {
      prev.set(states.subarray(p * S, (p + 1) * S), i * S);
    });
    ({ logProbs, next: states } = steppers[0].step(prev, Int32Array.from(tokens)));
  }
}

/**
 * `row` with the tokens `nonFinal` forbids after `words` set to -Infinity (copied into
 * `scratch`), or `row` itself when nothing is forbidden there: END at length 0 or after a
 * non-final word, a non-final word as the maxLength-th.
 */
function allowedOnly(
  row: Float32Array,
  words: readonly number[],
  maxLength: number,
  nonFinal: ReadonlySet<number> | undefined,
  scratch: Float32Array | undefined,
): Float32Array {
  if (!nonFinal || !scratch) return row;
  const noEnd = words.length === 0 || nonFinal.has(words[words.length - 1]);
  const last = words.length + 1 === maxLength;
  if (!noEnd && !last) return row;
  scratch.set(row);
  if (noEnd) scratch[BOUNDARY] = Number.NEGATIVE_INFINITY;
  if (last) for (const w of nonFinal) scratch[w] = Number.NEGATIVE_INFINITY;
  return scratch;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

/** The indices of the k largest values, largest first (ties: lower index first); returns k. */
function topK(row: Float32Array, k: number, out: Int32Array): number {
  let n = 0;
  for (let j = 0; j < row.length; j++) {
    const v = row[j];
    if (n === k && v <= row[out[n - 1]]) continue;
    let i = n < k ? n++ : n - 1;
    while (i > 0 && v > row[out[i - 1]]) {
      out[i] = out[i - 1];
      i--;
    }
    out[i] = j;
  }
  return n;
}
