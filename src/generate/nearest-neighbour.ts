import { kernels } from "../core/kernels/index.js";
import { ciderD } from "../eval/cider.js";
import type { CaptionSplit } from "./caption-data.js";

/**
 * The paper's baseline: caption each target with a caption of the closest training target by
 * CNN-code distance (cosine, on normalised codes). Of the neighbour's several captions it takes
 * the consensus one, the caption with the highest CIDEr-D against the neighbour's others, rather
 * than an arbitrary first.
 */
export function nearestNeighbourCaptions(
  train: CaptionSplit,
  query: CaptionSplit,
  dim: number,
): { captions: string[][]; neighbours: Int32Array } {
  const neighbours = nearestRows(query.features, train.features, dim);
  const refsOf = (i: number) => train.targets[neighbours[i]].references;
  const most = Math.max(0, ...query.targets.map((_, i) => refsOf(i).length));
  const bestScore = new Float64Array(query.targets.length).fill(Number.NEGATIVE_INFINITY);
  const choice = new Int32Array(query.targets.length);
  for (let k = 0; k < most; k++) {
    const rows = query.targets.map((_, i) => i).filter((i) => refsOf(i).length > Math.max(k, 1));
    if (rows.length === 0) continue;
    const scores = ciderD(
      rows.map((i) => ({
        candidate: refsOf(i)[k],
        references: refsOf(i).filter((_, j) => j !== k),
      })),
    ).perImage;
    rows.forEach((i, r) => {
      if (scores[r] > bestScore[i]) {
        bestScore[i] = scores[r];
        choice[i] = k;
      }
    });
  }
  return {
    captions: query.targets.map((_, i) => [...refsOf(i)[choice[i]]]),
    neighbours,
  };
}

/** For each row of `queries`, the row of `keys` with the highest cosine similarity. */
export function nearestRows(queries: Float32Array, keys: Float32Array, dim: number): Int32Array {
  const nq = queries.length / dim;
  const nk = keys.length / dim;
  const unit = (m: Float32Array, n: number) => {
    const out = new Float32Array(m.length);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += m[r * dim + j] ** 2;
      const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let j = 0; j < dim; j++) out[r * dim + j] = m[r * dim + j] * inv;
    }
    return out;
  };
  const q = unit(queries, nq);
  const k = unit(keys, nk);
  const out = new Int32Array(nq);
  const chunk = 256;
  const sims = new Float32Array(chunk * nk);
  for (let r0 = 0; r0 < nq; r0 += chunk) {
    const rows = Math.min(chunk, nq - r0);
    kernels().sgemm(false, true, rows, nk, dim, 1, q.subarray(r0 * dim), dim, k, dim, 0, sims, nk);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < nk; c++) if (sims[r * nk + c] > sims[r * nk + best]) best = c;
      out[r0 + r] = best;
    }
  }
  return out;
}
