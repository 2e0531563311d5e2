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
}

/** The most likely word at every step. */
export function greedy(stepper: Stepper, opts: GreedyOptions = {}): Caption {
  return walk(stepper, opts.maxLength ?? DEFAULT_MAX_LENGTH, (row) => argmax(row));
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
  return walk(stepper, opts.maxLength ?? DEFAULT_MAX_LENGTH, (row) => {
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

/** One hypothesis at a time, the next word chosen by `pick` from its log-probabilities. */
function walk(stepper: Stepper, maxLength: number, pick: (row: Float32Array) => number): Caption {
  const words: number[] = [];
  let logProb = 0;
  let { logProbs, next } = stepper.step(null, Int32Array.of(BOUNDARY));
  for (;;) {
    const w = pick(logProbs);
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
   * length the predicted tokens (END included). 0 (default) ranks by logProb, which favours
   * short generic captions as the beam widens.
   */
  readonly lengthNormalization?: number;
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
  const beam = opts.beam ?? DEFAULT_BEAM;
  const alpha = opts.lengthNormalization ?? 0;
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (!Number.isInteger(beam) || beam < 1) throw new RangeError(`beam must be >= 1, got ${beam}`);
  const score = (h: Caption) =>
    alpha === 0 ? h.logProb : h.logProb / (h.words.length + (h.finished ? 1 : 0)) ** alpha;
  const S = stepper.stateSize;
  const V = stepper.vocabSize;

  let hyps: Hypothesis[] = [{ words: [], logProb: 0, finished: false, row: 0 }];
  let step = stepper.step(null, Int32Array.of(BOUNDARY));
  const best = new Int32Array(beam);
  for (;;) {
    const candidates: (Hypothesis & { parent: number })[] = [];
    for (const h of hyps) {
      if (h.finished || h.words.length >= maxLength) {
        candidates.push({ ...h, finished: h.finished, parent: -1 });
        continue;
      }
      const row = step.logProbs.subarray(h.row * V, (h.row + 1) * V);
      const k = topK(row, beam, best);
      for (let i = 0; i < k; i++) {
        const w = best[i];
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
    // Stable sort: ties keep the order words were proposed in, so beam 1 matches greedy.
    candidates.sort((a, b) => score(b) - score(a));
    const kept = candidates.slice(0, beam);
    const live = kept.filter((h) => !h.finished && h.words.length < maxLength);
    if (live.length === 0) {
      return kept.map(({ words, logProb, finished }) => ({ words, logProb, finished }));
    }
    const prev = new Float32Array(live.length * S);
    const tokens = new Int32Array(live.length);
    hyps = kept.map((h) => {
      if (h.finished || h.words.length >= maxLength) return { ...h, row: -1 };
      const row = live.indexOf(h);
      prev.set(step.next.subarray(h.parent * S, (h.parent + 1) * S), row * S);
      tokens[row] = h.words[h.words.length - 1];
      return { ...h, row };
    });
    step = stepper.step(prev, tokens);
  }
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
