import { createHash } from "node:crypto";
import type { AlignmentModel } from "../align/model.js";
import type { AlignmentFusion } from "../align/score-fusion.js";
import { firstRegions } from "../align/score-fusion.js";
import { kernels, noGrad, Tensor } from "../core/index.js";

/** One search model as the index sees it: how many regions it reads and its weight in S_kl. */
export interface SearchMember {
  readonly model: AlignmentModel;
  readonly weight: number;
  /** Regions of each image it reads: min(its config's, the stored count). */
  readonly regions: number;
}

/** A query's vectors for one member: `rows` vectors of the member's embedding size. */
export interface MemberQuery {
  readonly rows: number;
  readonly vectors: Float32Array;
}

/**
 * The bundle's search models between the CNN codes and the index: each member's region vectors
 * v (section 3.1.1), the word vectors s_t of a sentence, and the fused score of images against
 * a sentence.
 */
export class RegionEmbedder {
  readonly members: readonly SearchMember[];

  constructor(
    fusion: AlignmentFusion,
    /** Regions stored per image. */
    readonly regions: number,
  ) {
    // A member weighted 0 is left out, as AlignmentFusion.scoreEmbedded does.
    this.members = fusion.members
      .filter((m) => m.weight !== 0)
      .map((m) => ({
        model: m.model,
        weight: m.weight,
        regions: Math.min(m.model.config.regions, regions),
      }));
  }

  get featureDim(): number {
    return this.members[0].model.config.featureDim;
  }

  /**
   * What the stored vectors depend on: each member's region embedding (Wm, bm), its feature
   * normaliser, the regions it reads and its weight. Two bundles with the same fingerprint give
   * the same index, whatever their word models; any other is refused by the index.
   */
  fingerprint(): string {
    const h = createHash("sha256");
    for (const m of this.members) {
      h.update(`${m.weight} ${m.regions} ${m.model.config.embed} ${m.model.config.featureDim};`);
      for (const a of [
        m.model.Wm.data,
        m.model.bm.data,
        m.model.normalizer.mean,
        m.model.normalizer.invStd,
      ]) {
        h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      }
    }
    return h.digest("hex").slice(0, 32);
  }

  /** Each member's v for raw CNN codes of `images` images x this.regions regions. */
  embed(features: Float32Array, images: number): Float32Array[] {
    return this.members.map((m) => {
      const { featureDim } = m.model.config;
      const own = firstRegions(features, images, this.regions, m.regions, featureDim);
      return noGrad(
        () =>
          m.model.embedRegions(new Tensor(m.model.normalize(own), [images * m.regions, featureDim]))
            .data,
      );
    });
  }

  /**
   * A sentence's word vectors s_t for each member (its own vocabulary's words of `tokens`), and
   * which tokens each member knows.
   */
  words(tokens: readonly string[]): { queries: MemberQuery[]; known: boolean[][] } {
    const known = this.members.map((m) =>
      tokens.map((t) => m.model.vocabulary.encode([t]).length === 1),
    );
    const queries = this.members.map((m) => {
      const ids = m.model.encode(tokens);
      if (ids.length === 0) return { rows: 0, vectors: new Float32Array(0) };
      return { rows: ids.length, vectors: noGrad(() => m.model.embedWords([ids]).data) };
    });
    return { queries, known };
  }

  /**
   * The fused score sum_m w_m sum_t max_i v^m_i . q^m_t of each of `images` images against a
   * query, from each member's region vectors (images x member regions x embed), each row times
   * its entry of `scales` where given (ImageIndex.vectors' unscaled rows).
   */
  score(
    vs: readonly Float32Array[],
    images: number,
    queries: readonly MemberQuery[],
    scales?: readonly Float32Array[],
  ): Float32Array {
    return this.scoreEach(vs, images, [queries], scales)[0];
  }

  /**
   * `score` for several queries at once: one product of all their words with the rows a member,
   * so that the rows are read once, not once a query.
   */
  scoreEach(
    vs: readonly Float32Array[],
    images: number,
    queryList: readonly (readonly MemberQuery[])[],
    scales?: readonly Float32Array[],
  ): Float32Array[] {
    const S = queryList.map(() => new Float32Array(images));
    this.members.forEach((m, i) => {
      const T = queryList.reduce((n, q) => n + q[i].rows, 0);
      if (T === 0) return;
      const e = m.model.config.embed;
      const words = new Float32Array(T * e);
      let at = 0;
      for (const q of queryList) {
        words.set(q[i].vectors.subarray(0, q[i].rows * e), at * e);
        at += q[i].rows;
      }
      const rows = images * m.regions;
      // Words x rows rather than rows x words: the native sgemm is faster with the long side last.
      const dots = new Float32Array(rows * T);
      kernels().sgemm(false, true, T, rows, e, 1, words, e, vs[i], e, 0, dots, rows);
      const scale = scales?.[i];
      if (scale) {
        for (let t = 0; t < T; t++)
          for (let row = 0; row < rows; row++) dots[t * rows + row] *= scale[row];
      }
      let first = 0;
      queryList.forEach((q, n) => {
        for (let k = 0; k < images; k++) {
          let sum = 0;
          for (let t = first; t < first + q[i].rows; t++) {
            let best = Number.NEGATIVE_INFINITY;
            for (let r = 0; r < m.regions; r++)
              best = Math.max(best, dots[t * rows + k * m.regions + r]);
            sum += best;
          }
          S[n][k] += m.weight * sum;
        }
        first += q[i].rows;
      });
    });
    return S;
  }
}
