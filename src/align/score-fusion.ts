import { dirname, relative, resolve } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { noGrad, Tensor } from "../core/index.js";
import { InputError } from "../errors.js";
import { JsonFields, readJsonFile } from "../json-fields.js";
import { AlignmentModel } from "./model.js";
import { type RetrievalResult, recallSum, retrievalMetrics, scoreEmbedded } from "./retrieval.js";

/**
 * Several alignment models scoring together: S_kl = sum_m weight_m S^m_kl. The models read the
 * same CNN codes, each its first `regions` regions (the whole image is region 0), so a
 * 20-region model and a whole-image model fuse into a scorer that sees both the best-matching
 * region of every word and the image as a whole, as the global term of Karpathy et al.'s fragment
 * embeddings (NIPS 2014) did. The weights are tuned on val (`tuneFusionWeights`).
 */
export interface FusionMember {
  readonly model: AlignmentModel;
  /** Where the checkpoint is, for the saved fusion. */
  readonly checkpoint: string;
  /** The factor S^m is multiplied by: the tuned relative weight over the spread of S^m on val. */
  readonly weight: number;
}

export const ALIGNMENT_FUSION_FORMAT = "imagesent-alignment-fusion";

/** How the weights were chosen, saved with the fusion for the record. */
export interface FusionTuning {
  readonly split: string;
  /** The relative weight of each member (the first is 1) and the spread of its val scores. */
  readonly relativeWeights: readonly number[];
  readonly scoreSpreads: readonly number[];
  readonly result: RetrievalResult;
}

export class AlignmentFusion {
  constructor(
    readonly members: readonly FusionMember[],
    readonly tuning: FusionTuning | null = null,
  ) {
    if (members.length === 0) throw new RangeError("AlignmentFusion: no members");
    const dim = members[0].model.config.featureDim;
    for (const m of members) {
      if (m.model.config.featureDim !== dim) {
        throw new InputError(
          `${m.checkpoint}: takes ${m.model.config.featureDim}-d CNN codes, ${members[0].checkpoint} takes ${dim}-d`,
        );
      }
    }
  }

  /** One model alone, weight 1: scores exactly as the model does. */
  static ofCheckpoint(path: string): AlignmentFusion {
    return new AlignmentFusion([
      { model: AlignmentModel.load(path).model, checkpoint: path, weight: 1 },
    ]);
  }

  /** Regions per image the members need between them (the most any member reads). */
  get regions(): number {
    return Math.max(...this.members.map((m) => m.model.config.regions));
  }

  /**
   * Each member's region vectors v for raw CNN codes, images x `stored` regions x featureDim:
   * a member reads the first min(its regions, stored) regions of each image, normalised as in its
   * training. Computed once, they score any number of sentences (`scoreEmbedded`).
   */
  embedImages(features: Float32Array, images: number, stored: number): Tensor[] {
    return this.members.map((m) => embedMember(m.model, features, images, stored));
  }

  /** S_kl of images embedded by `embedImages` against tokenised sentences. */
  scoreEmbedded(
    vs: readonly Tensor[],
    images: number,
    sentences: readonly (readonly string[])[],
  ): Float32Array {
    const S = new Float32Array(images * sentences.length);
    this.members.forEach((m, i) => {
      // A member weighted 0 is left out, so its NaN scores (0 x NaN) do not spoil the sum.
      if (m.weight === 0) return;
      const encoded = sentences.map((tokens) => m.model.encode(tokens));
      const Sm = scoreEmbedded(m.model, vs[i], images, encoded);
      for (let j = 0; j < S.length; j++) S[j] += m.weight * Sm[j];
    });
    return S;
  }

  /**
   * S_kl of every image against every tokenised sentence. `features` are raw CNN codes, images x
   * `this.regions` x featureDim.
   */
  scores(
    features: Float32Array,
    images: number,
    sentences: readonly (readonly string[])[],
  ): Float32Array {
    return this.scoreEmbedded(this.embedImages(features, images, this.regions), images, sentences);
  }

  /** Writes the fusion as JSON, member checkpoints as paths relative to the file. */
  save(path: string): void {
    const base = dirname(resolve(path));
    const json = {
      format: ALIGNMENT_FUSION_FORMAT,
      version: 1,
      members: this.members.map((m) => ({
        checkpoint: relative(base, resolve(m.checkpoint)),
        weight: m.weight,
      })),
      tuning: this.tuning,
    };
    writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
  }

  static load(path: string): AlignmentFusion {
    const r = JsonFields.of(readJsonFile(path), path);
    r.oneOf("format", [ALIGNMENT_FUSION_FORMAT]);
    const base = dirname(resolve(path));
    const members = r.objects("members", { minLength: 1 }).map((m) => {
      const file = resolve(base, m.string("checkpoint", { want: "a checkpoint path" }));
      const weight = m.number("weight");
      return { model: AlignmentModel.load(file).model, checkpoint: file, weight };
    });
    const json = r.fields;
    // The tuning record is informative only: kept when it has the fields reports read.
    const t = json.tuning as Partial<FusionTuning> | null | undefined;
    const tuning =
      t && typeof t.split === "string" && Array.isArray(t.relativeWeights)
        ? (t as FusionTuning)
        : null;
    return new AlignmentFusion(members, tuning);
  }
}

/** A path names a fusion (JSON) rather than a checkpoint. */
export function isFusionPath(path: string): boolean {
  return path.endsWith(".json");
}

/** A member's region vectors v: its first min(regions, stored) regions, normalised. */
function embedMember(
  model: AlignmentModel,
  features: Float32Array,
  images: number,
  stored: number,
): Tensor {
  const { featureDim } = model.config;
  const regions = Math.min(model.config.regions, stored);
  const own = firstRegions(features, images, stored, regions, featureDim);
  return noGrad(() =>
    model.embedRegions(new Tensor(model.normalize(own), [images * regions, featureDim])),
  );
}

/** One member's S_kl alone (as a fusion reads it), for tuning the weights. */
export function memberScores(
  model: AlignmentModel,
  features: Float32Array,
  images: number,
  stored: number,
  sentences: readonly (readonly string[])[],
): Float32Array {
  const v = embedMember(model, features, images, stored);
  return scoreEmbedded(
    model,
    v,
    images,
    sentences.map((tokens) => model.encode(tokens)),
  );
}

/** The first `keep` of `stored` regions of each image (the same array when keep = stored). */
export function firstRegions(
  features: Float32Array,
  images: number,
  stored: number,
  keep: number,
  dim: number,
): Float32Array {
  if (features.length !== images * stored * dim) {
    throw new RangeError(
      `firstRegions: ${features.length} values for ${images} images x ${stored} regions x ${dim}`,
    );
  }
  if (keep > stored) throw new RangeError(`firstRegions: ${keep} regions of ${stored}`);
  if (keep === stored) return features;
  const out = new Float32Array(images * keep * dim);
  for (let k = 0; k < images; k++) {
    out.set(features.subarray(k * stored * dim, (k * stored + keep) * dim), k * keep * dim);
  }
  return out;
}

/**
 * The standard deviation of a score matrix's finite scores: the scale one member's scores move
 * on. 1 where they do not move (constant, or none finite), so that dividing by it leaves them.
 */
export function scoreSpread(S: Float32Array): number {
  let n = 0;
  let mean = 0;
  for (const x of S) {
    if (Number.isFinite(x)) {
      mean += x;
      n++;
    }
  }
  mean /= n;
  let v = 0;
  for (const x of S) if (Number.isFinite(x)) v += (x - mean) * (x - mean);
  const spread = Math.sqrt(v / n);
  return spread > 0 ? spread : 1;
}

/**
 * Chooses each member's weight on a validation split's score matrices (same images and
 * sentences, `imageOf` as in retrievalMetrics). Scores are first divided by their spread so the
 * weights compare; the first member keeps weight 1 and each other member in turn takes the value
 * of `grid` that gives the largest R@1+5+10 sum of both directions, the others held.
 */
export function tuneFusionWeights(
  matrices: readonly Float32Array[],
  images: number,
  imageOf: Int32Array,
  grid: readonly number[],
): { relative: number[]; spreads: number[]; result: RetrievalResult } {
  const spreads = matrices.map(scoreSpread);
  const relative: number[] = matrices.map((_, m) => (m === 0 ? 1 : 0));
  const fuse = (w: readonly number[]) => {
    const S = new Float32Array(matrices[0].length);
    matrices.forEach((M, m) => {
      if (w[m] === 0) return;
      const f = w[m] / spreads[m];
      for (let i = 0; i < S.length; i++) S[i] += f * M[i];
    });
    return retrievalMetrics(S, images, imageOf);
  };
  let result = fuse(relative);
  for (let m = 1; m < matrices.length; m++) {
    for (const w of grid) {
      const trial = relative.map((x, i) => (i === m ? w : x));
      const r = fuse(trial);
      if (recallSum(r) > recallSum(result)) {
        result = r;
        relative[m] = w;
      }
    }
  }
  return { relative, spreads, result };
}
