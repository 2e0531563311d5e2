import { InputError } from "../errors.js";

/**
 * The chain MRF of section 3.1.4: each word j of a sentence takes one region a_j, and the
 * alignment maximises
 *
 *   E(a) = Σ_j v_{a_j}·s_j  +  β Σ_j 1[a_j = a_{j+1}]
 *
 * The unary term is the alignment model's region-word score; β rewards neighbouring words for
 * sharing a region, trading single-word alignments (β = 0: each word's argmax) against one region
 * for the whole sentence (large β).
 */

/** Region-by-word scores v_i·s_t, row-major: `scores[i * words + t]`. */
export interface ScoreMatrix {
  readonly scores: Float32Array;
  readonly regions: number;
  readonly words: number;
}

export interface ChainAlignment {
  /** Region of each word. */
  readonly assignment: Int32Array;
  /** E(assignment). */
  readonly energy: number;
}

export function checkScoreMatrix(m: ScoreMatrix): void {
  if (!Number.isInteger(m.regions) || m.regions < 1) {
    throw new InputError(`score matrix: expected at least one region, got ${m.regions}`);
  }
  if (!Number.isInteger(m.words) || m.words < 0) {
    throw new InputError(`score matrix: expected a word count >= 0, got ${m.words}`);
  }
  if (m.scores.length !== m.regions * m.words) {
    throw new InputError(
      `score matrix: ${m.scores.length} scores for ${m.regions} regions x ${m.words} words`,
    );
  }
}

function checkBeta(beta: number): void {
  if (!Number.isFinite(beta)) throw new InputError(`beta: expected a finite number, got ${beta}`);
}

/** E(a) for a given assignment. */
export function chainEnergy(m: ScoreMatrix, assignment: ArrayLike<number>, beta: number): number {
  let e = 0;
  for (let j = 0; j < m.words; j++) {
    e += m.scores[assignment[j] * m.words + j];
    if (j > 0 && assignment[j] === assignment[j - 1]) e += beta;
  }
  return e;
}

/**
 * The exact maximiser of E by dynamic programming (Viterbi), O(words x regions): because the
 * pairwise term only asks "same region or not", the best predecessor of region r is either r
 * itself (gaining β) or the best other region, found from the top two of the previous column.
 * Ties go to the lowest region index, so β = 0 gives exactly the first-index per-word argmax.
 */
export function alignChain(m: ScoreMatrix, beta: number): ChainAlignment {
  checkScoreMatrix(m);
  checkBeta(beta);
  const { regions: R, words: W, scores } = m;
  const assignment = new Int32Array(W);
  if (W === 0) return { assignment, energy: 0 };
  // best[r]: the highest E over words 0..j with word j on region r; back[j * R + r]: word j-1's region.
  let best = new Float64Array(R);
  let next = new Float64Array(R);
  const back = new Int32Array(W * R);
  for (let r = 0; r < R; r++) best[r] = scores[r * W];
  for (let j = 1; j < W; j++) {
    let top1 = 0;
    for (let r = 1; r < R; r++) if (best[r] > best[top1]) top1 = r;
    let top2 = -1;
    for (let r = 0; r < R; r++) {
      if (r !== top1 && (top2 < 0 || best[r] > best[top2])) top2 = r;
    }
    for (let r = 0; r < R; r++) {
      const other = r !== top1 ? top1 : top2;
      const stay = best[r] + beta;
      let prev = r;
      let value = stay;
      if (other >= 0) {
        const otherValue = best[other];
        if (otherValue > stay || (otherValue === stay && other < r)) {
          prev = other;
          value = otherValue;
        }
      }
      next[r] = value + scores[r * W + j];
      back[j * R + r] = prev;
    }
    [best, next] = [next, best];
  }
  let last = 0;
  for (let r = 1; r < R; r++) if (best[r] > best[last]) last = r;
  assignment[W - 1] = last;
  for (let j = W - 1; j > 0; j--) assignment[j - 1] = back[j * R + assignment[j]];
  return { assignment, energy: best[last] };
}

/** Each word's highest-scoring region (lowest index on ties): the alignment before smoothing. */
export function wordArgmax(m: ScoreMatrix): Int32Array {
  checkScoreMatrix(m);
  const out = new Int32Array(m.words);
  for (let j = 0; j < m.words; j++) {
    let bestR = 0;
    for (let r = 1; r < m.regions; r++) {
      if (m.scores[r * m.words + j] > m.scores[bestR * m.words + j]) bestR = r;
    }
    out[j] = bestR;
  }
  return out;
}

/**
 * The maximiser of E by trying all regions^words assignments; for tests of `alignChain` on short
 * sentences. Refuses more than a million assignments.
 */
export function alignChainBruteForce(m: ScoreMatrix, beta: number): ChainAlignment {
  checkScoreMatrix(m);
  checkBeta(beta);
  const { regions: R, words: W } = m;
  if (R ** W > 1e6) throw new Error(`brute force: ${R}^${W} assignments is too many`);
  const current = new Int32Array(W);
  let bestAssignment = new Int32Array(W);
  let bestEnergy = W === 0 ? 0 : Number.NEGATIVE_INFINITY;
  for (;;) {
    const e = chainEnergy(m, current, beta);
    if (e > bestEnergy) {
      bestEnergy = e;
      bestAssignment = current.slice();
    }
    let j = W - 1;
    while (j >= 0 && current[j] === R - 1) current[j--] = 0;
    if (j < 0) break;
    current[j]++;
  }
  return { assignment: bestAssignment, energy: bestEnergy };
}
