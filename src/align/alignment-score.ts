import { matmul, maxOfProducts, sumSegments, type Tensor } from "../core/index.js";

/**
 * The word-region scores v_i . s_t: regions x words, one entry per region and word. The MRF of
 * section 3.1.4 takes them as its unary terms.
 */
export function wordRegionScores(v: Tensor, s: Tensor): Tensor {
  return matmul(v, s, { transB: true });
}

/**
 * The image-sentence score of section 3.1.3 for every image k and sentence l at once:
 *
 *   S_kl = sum_{t in g_l} max_{i in g_k} v_i . s_t
 *
 * each word aligned to its best region of the image. `v` stacks the regions of `images` images
 * (the same count each), `s` the words of the sentences one after another, `lengths` their word
 * counts. Returns [images, sentences]. The regions x words matrix itself is not kept: its max
 * per image comes from one fused op, whose backward touches only each word's winning region.
 */
export function imageSentenceScores(
  v: Tensor,
  s: Tensor,
  images: number,
  lengths: readonly number[],
): Tensor {
  return sumSegments(maxOfProducts(v, s, images), lengths);
}
