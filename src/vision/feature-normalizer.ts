import { type ErrorClass, JsonFields } from "../json-fields.js";

/**
 * Per-dimension standardisation of CNN features, (x - mean) / std, with statistics from the train
 * split. CNN codes are dense and all positive; fed raw, they drove neuraltalk's image projection
 * strongly negative within 40 iterations and silenced its ReLUs. Saved inside checkpoints so a
 * model always sees features normalised the way it was trained.
 */
export class FeatureNormalizer {
  private constructor(
    readonly mean: Float32Array,
    readonly invStd: Float32Array,
  ) {}

  get dim(): number {
    return this.mean.length;
  }

  /**
   * Statistics over the rows of every matrix in `batches` (each rows x dim, row-major). `minStd`
   * keeps constant dimensions from blowing up.
   */
  static fit(batches: Iterable<Float32Array>, dim: number, minStd = 1e-3): FeatureNormalizer {
    const sum = new Float64Array(dim);
    const sumSq = new Float64Array(dim);
    let rows = 0;
    for (const m of batches) {
      if (m.length % dim !== 0) {
        throw new RangeError(
          `FeatureNormalizer.fit: ${m.length} values is not a multiple of ${dim}`,
        );
      }
      for (let off = 0; off < m.length; off += dim) {
        for (let j = 0; j < dim; j++) {
          const x = m[off + j];
          sum[j] += x;
          sumSq[j] += x * x;
        }
        rows++;
      }
    }
    if (rows === 0) throw new RangeError("FeatureNormalizer.fit: no feature rows");
    const mean = new Float32Array(dim);
    const invStd = new Float32Array(dim);
    for (let j = 0; j < dim; j++) {
      const mu = sum[j] / rows;
      const variance = Math.max(sumSq[j] / rows - mu * mu, 0);
      mean[j] = mu;
      invStd[j] = 1 / Math.max(Math.sqrt(variance), minStd);
    }
    return new FeatureNormalizer(mean, invStd);
  }

  /** Normalises a rows x dim matrix into a new array. */
  apply(features: Float32Array): Float32Array {
    const dim = this.dim;
    if (features.length % dim !== 0) {
      throw new RangeError(
        `FeatureNormalizer.apply: ${features.length} values is not a multiple of ${dim}`,
      );
    }
    const out = new Float32Array(features.length);
    for (let off = 0; off < features.length; off += dim) {
      for (let j = 0; j < dim; j++)
        out[off + j] = (features[off + j] - this.mean[j]) * this.invStd[j];
    }
    return out;
  }

  toJSON(): { mean: number[]; invStd: number[] } {
    return { mean: Array.from(this.mean), invStd: Array.from(this.invStd) };
  }

  /**
   * Reads `toJSON()` output; errors name `where` (the file) and the field's path in it (e.g.
   * "model.ckpt: meta.normalizer.invStd").
   */
  static fromJSON(
    value: unknown,
    where = "normalizer",
    options: { path?: string; error?: ErrorClass } = {},
  ): FeatureNormalizer {
    const r = JsonFields.of(value, where, options);
    const mean = r.numbers("mean", {}, { minLength: 1 });
    const invStd = r.numbers(
      "invStd",
      {},
      { length: mean.length, want: `a list of ${mean.length} finite numbers (one per mean)` },
    );
    return new FeatureNormalizer(Float32Array.from(mean), Float32Array.from(invStd));
  }
}
