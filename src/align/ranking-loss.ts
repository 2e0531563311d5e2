import {
  add,
  diag,
  hinge,
  maxOverRows,
  mul,
  reshape,
  scale,
  sub,
  sum,
  Tensor,
  transpose,
} from "../core/index.js";
import type { RankingLossKind } from "./config.js";

/**
 * The structured max-margin objective of section 3.1.3 over a batch whose image k and sentence k
 * match (S is images x sentences, square):
 *
 *   C = sum_k [ sum_l max(0, S_kl - S_kk + margin)     (rank the image's sentences)
 *             + sum_l max(0, S_lk - S_kk + margin) ]   (rank the sentence's images)
 *
 * with l != k, divided by the batch size so the learning rate does not depend on it. "hardest"
 * keeps only the largest term of each inner sum (VSE++'s hardest negative).
 */
export function rankingLoss(S: Tensor, margin: number, kind: RankingLossKind = "sum"): Tensor {
  const n = S.rows;
  if (S.cols !== n) throw new RangeError(`rankingLoss: scores ${S.describe()} are not square`);
  const matching = diag(S);
  const offDiagonal = new Tensor(new Float32Array(n * n).fill(1), [n, n]);
  for (let k = 0; k < n; k++) offDiagonal.data[k * n + k] = 0;
  // Row k: image k against every sentence; column k: sentence k against every image.
  const sentenceTerms = mul(hinge(sub(S, reshape(matching, [n, 1])), margin), offDiagonal);
  const imageTerms = mul(hinge(sub(S, matching), margin), offDiagonal);
  const total =
    kind === "sum"
      ? add(sum(sentenceTerms), sum(imageTerms))
      : add(sum(maxOverRows(transpose(sentenceTerms))), sum(maxOverRows(imageTerms)));
  return scale(total, 1 / n);
}
