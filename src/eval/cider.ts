import { mean } from "./mean.js";
import { countNgrams, ngramOrder } from "./ngrams.js";
import type { MetricScore, TokenizedImage } from "./types.js";

export interface CiderOptions {
  /** Longest n-gram (coco-caption: 4). */
  readonly maxN?: number;
  /** Width of the Gaussian length penalty (coco-caption: 6). */
  readonly sigma?: number;
}

interface TfIdf {
  /** Per n-gram order, n-gram key → tf·idf weight. */
  readonly vec: Map<string, number>[];
  readonly norm: number[];
  readonly length: number;
}

/**
 * CIDEr-D as pycocoevalcap/cider/cider_scorer.py computes it (coco-caption reports it as
 * "CIDEr"). Document frequencies come from the references of the evaluated images:
 *   df(g) = number of images whose references contain g,  idf(g) = log(N) − log(max(1, df(g)))
 * with N the number of images. For each image and each reference, per n-gram order n:
 *   sim_n = Σ_g min(h_g, r_g)·r_g / (‖h‖·‖r‖) · exp(−(ℓ_h − ℓ_r)² / (2σ²))
 * where h, r are tf·idf vectors (the hypothesis weights clipped by the reference's) and ℓ counts
 * bigrams, as the original code does. The image's score is 10 · mean_n(Σ_refs sim_n) / #refs,
 * and the corpus score the mean over images.
 */
export function ciderD(images: readonly TokenizedImage[], options: CiderOptions = {}): MetricScore {
  const maxN = options.maxN ?? 4;
  const sigma = options.sigma ?? 6;
  const refCounts = images.map((img) => img.references.map((r) => countNgrams(r, maxN)));

  const documentFrequency = new Map<string, number>();
  for (const refs of refCounts) {
    const seen = new Set<string>();
    for (const counts of refs) for (const gram of counts.keys()) seen.add(gram);
    for (const gram of seen) documentFrequency.set(gram, (documentFrequency.get(gram) ?? 0) + 1);
  }
  const logN = Math.log(images.length);

  const toTfIdf = (counts: Map<string, number>): TfIdf => {
    const vec = Array.from({ length: maxN }, () => new Map<string, number>());
    const norm = new Array<number>(maxN).fill(0);
    let length = 0;
    for (const [gram, tf] of counts) {
      const n = ngramOrder(gram) - 1;
      const weight = tf * (logN - Math.log(Math.max(1, documentFrequency.get(gram) ?? 0)));
      vec[n].set(gram, weight);
      norm[n] += weight * weight;
      // The original counts bigrams here (its `n == 1` is the bigram index), not words.
      if (n === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };

  const perImage = images.map((img, i) => {
    const hyp = toTfIdf(countNgrams(img.candidate, maxN));
    const sums = new Array<number>(maxN).fill(0);
    for (const counts of refCounts[i]) {
      const ref = toTfIdf(counts);
      const delta = hyp.length - ref.length;
      const penalty = Math.exp(-(delta * delta) / (2 * sigma * sigma));
      for (let n = 0; n < maxN; n++) {
        let dot = 0;
        for (const [gram, h] of hyp.vec[n]) {
          const r = ref.vec[n].get(gram) ?? 0;
          dot += Math.min(h, r) * r;
        }
        if (hyp.norm[n] !== 0 && ref.norm[n] !== 0) dot /= hyp.norm[n] * ref.norm[n];
        sums[n] += dot * penalty;
      }
    }
    return (mean(sums) / refCounts[i].length) * 10;
  });
  return { score: mean(perImage), perImage };
}
