import { mean } from "./mean.js";
import { countNgrams, forEachNgram, ngramOrder } from "./ngrams.js";
import type { MetricScore, TokenizedImage } from "./types.js";

export interface CiderOptions {
  /** Longest n-gram (coco-caption: 4). */
  readonly maxN?: number;
  /** Width of the Gaussian length penalty (coco-caption: 6). */
  readonly sigma?: number;
  /**
   * Document frequencies counted over a fixed corpus instead of the evaluated images' references
   * (cider.ts's documentFrequencies): what a reranker uses, so that a candidate scores the same
   * however many others are scored beside it.
   */
  readonly documentFrequency?: DocumentFrequency;
}

/** How many documents of a corpus contain each n-gram, and how many documents it has. */
export interface DocumentFrequency {
  readonly counts: ReadonlyMap<string, number>;
  readonly documents: number;
}

/**
 * The document frequencies of a corpus whose documents are each a set of sentences (an image's
 * references), n-grams up to maxN: what ciderD counts over the evaluated images.
 */
export function documentFrequencies(
  documents: readonly (readonly (readonly string[])[])[],
  maxN = 4,
): DocumentFrequency {
  const counts = new Map<string, number>();
  for (const sentences of documents) {
    const seen = new Set<string>();
    for (const s of sentences) forEachNgram(s, maxN, (gram) => seen.add(gram));
    for (const gram of seen) counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return { counts, documents: documents.length };
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
 * and the corpus score the mean over images. With options.documentFrequency, df and N are that
 * corpus's instead.
 */
export function ciderD(images: readonly TokenizedImage[], options: CiderOptions = {}): MetricScore {
  const maxN = options.maxN ?? 4;
  const df =
    options.documentFrequency ??
    documentFrequencies(
      images.map((img) => img.references),
      maxN,
    );
  const similarity = ciderSimilarity(df, maxN, options.sigma ?? 6);
  const perImage = images.map((img) =>
    similarity.score(
      similarity.vector(img.candidate),
      img.references.map((r) => similarity.vector(r)),
    ),
  );
  return { score: mean(perImage), perImage };
}

/**
 * Each of `candidates` scored by CIDEr-D against the same `references`, with the document
 * frequencies of a fixed corpus: ciderD's per-image score, the references' tf·idf vectors
 * computed once for all the candidates (what reranking a beam against one set of snippets needs).
 */
export function ciderDAgainst(
  candidates: readonly (readonly string[])[],
  references: readonly (readonly string[])[],
  documentFrequency: DocumentFrequency,
  options: Omit<CiderOptions, "documentFrequency"> = {},
): number[] {
  const similarity = ciderSimilarity(documentFrequency, options.maxN ?? 4, options.sigma ?? 6);
  const refs = references.map((r) => similarity.vector(r));
  return candidates.map((c) => similarity.score(similarity.vector(c), refs));
}

/** The tf·idf vectors and the score of the comment above ciderD, for one corpus's df. */
function ciderSimilarity(df: DocumentFrequency, maxN: number, sigma: number) {
  const logN = Math.log(df.documents);
  const vector = (tokens: readonly string[]): TfIdf => {
    const vec = Array.from({ length: maxN }, () => new Map<string, number>());
    const norm = new Array<number>(maxN).fill(0);
    let length = 0;
    for (const [gram, tf] of countNgrams(tokens, maxN)) {
      const n = ngramOrder(gram) - 1;
      const weight = tf * (logN - Math.log(Math.max(1, df.counts.get(gram) ?? 0)));
      vec[n].set(gram, weight);
      norm[n] += weight * weight;
      // The original counts bigrams here (its `n == 1` is the bigram index), not words.
      if (n === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };
  const score = (hyp: TfIdf, refs: readonly TfIdf[]): number => {
    const sums = new Array<number>(maxN).fill(0);
    for (const ref of refs) {
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
    return refs.length === 0 ? 0 : (mean(sums) / refs.length) * 10;
  };
  return { vector, score };
}
