import { float16Values, toFloat16 } from "../core/float16.js";
import type { ErrorClass } from "../json-fields.js";
import { JsonFields } from "../json-fields.js";
import { base64Of, decodedArray } from "./packed-word-table.js";

/**
 * Which of an image's regions looks like what a word names, learned from image-sentence pairs
 * alone: a linear probe from the CNN code of a whole image to the words its captions say, applied
 * to each region's code. The alignment model's word-region scores come from a ranking loss over
 * whole sentences and say little about which region a word names (docs/phrase-alignment.md); a
 * probe fitted on whole images fires most on the crop that shows the word's thing, because the
 * crop shows it larger than the whole image does.
 */

/**
 * For each of `words`, a weight vector over the `dim` CNN code values, as fp16 bits:
 * weights[j * words + k] (fromFloat16 gives the value). Kept at fp16 so that a grounding file
 * reads without decoding its ~2 million weights.
 */
export interface WordProbe {
  readonly dim: number;
  readonly words: readonly string[];
  readonly weights: Uint16Array;
  /** Word -> its column k. */
  readonly index: ReadonlyMap<string, number>;
}

function wordProbe(dim: number, words: readonly string[], weights: Uint16Array): WordProbe {
  return { dim, words, weights, index: new Map(words.map((w, k) => [w, k])) };
}

/** A word gets a probe when the captions of at least this many train images say it. */
export const PROBE_MIN_IMAGES = 10;

/**
 * The ridge penalty as a share of the mean of diag(XᵀX); chosen on Flickr30k Entities val
 * (0.01, 0.03, 0.1 and 1 tried; docs/phrase-alignment.md).
 */
export const PROBE_RIDGE = 0.01;

/**
 * Ridge regression from centred codes to word indicators, all words at once:
 *   W = (X_cᵀX_c + λI)⁻¹ X_cᵀ Y,   λ = PROBE_RIDGE · tr(X_cᵀX_c) / dim
 * with X_c the images' codes minus their mean (rows), Y_nk = 1 when image n's captions say word k
 * (the intercept and Y's mean drop out: only differences between an image's regions are used).
 * Solved by Cholesky factorisation of the dim x dim system.
 */
export function fitWordProbe(
  images: readonly {
    readonly code: Float32Array;
    readonly captions: readonly (readonly string[])[];
  }[],
  dim: number,
  minImages = PROBE_MIN_IMAGES,
  ridge = PROBE_RIDGE,
): WordProbe {
  const said = images.map((im) => new Set(im.captions.flat()));
  const counts = new Map<string, number>();
  for (const words of said) for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts].filter(([, n]) => n >= minImages).map(([w]) => w);
  const index = new Map(words.map((w, k) => [w, k]));
  const V = words.length;
  if (images.length === 0 || V === 0) return wordProbe(dim, [], new Uint16Array(0));
  const mean = new Float64Array(dim);
  for (const { code } of images) for (let j = 0; j < dim; j++) mean[j] += code[j] / images.length;
  const A = new Float64Array(dim * dim);
  const B = new Float64Array(dim * V);
  const x = new Float64Array(dim);
  images.forEach(({ code }, n) => {
    for (let j = 0; j < dim; j++) x[j] = code[j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const v = x[a];
      if (v === 0) continue;
      for (let b = a; b < dim; b++) A[a * dim + b] += v * x[b];
    }
    for (const w of said[n]) {
      const k = index.get(w);
      if (k !== undefined) for (let j = 0; j < dim; j++) B[j * V + k] += x[j];
    }
  });
  let trace = 0;
  for (let a = 0; a < dim; a++) trace += A[a * dim + a];
  const lambda = (ridge * trace) / dim || ridge;
  for (let a = 0; a < dim; a++) {
    A[a * dim + a] += lambda;
    for (let b = 0; b < a; b++) A[a * dim + b] = A[b * dim + a];
  }
  choleskySolve(A, B, dim, V);
  return wordProbe(dim, words, Uint16Array.from(B, toFloat16));
}

/**
 * Solves A X = B in place (B becomes X; B is dim x columns, row-major) for a symmetric positive
 * definite A (overwritten by its Cholesky factor L, A = L Lᵀ): L Z = B forward, then Lᵀ X = Z back.
 */
export function choleskySolve(
  A: Float64Array,
  B: Float64Array,
  dim: number,
  columns: number,
): void {
  for (let j = 0; j < dim; j++) {
    let d = A[j * dim + j];
    for (let k = 0; k < j; k++) d -= A[j * dim + k] ** 2;
    if (!(d > 0))
      throw new RangeError(`choleskySolve: the matrix is not positive definite (row ${j})`);
    d = Math.sqrt(d);
    A[j * dim + j] = d;
    for (let i = j + 1; i < dim; i++) {
      let v = A[i * dim + j];
      for (let k = 0; k < j; k++) v -= A[i * dim + k] * A[j * dim + k];
      A[i * dim + j] = v / d;
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < i; k++) {
      const l = A[i * dim + k];
      if (l !== 0) for (let c = 0; c < columns; c++) B[i * columns + c] -= l * B[k * columns + c];
    }
    for (let c = 0; c < columns; c++) B[i * columns + c] /= A[i * dim + i];
  }
  for (let i = dim - 1; i >= 0; i--) {
    for (let k = i + 1; k < dim; k++) {
      const l = A[k * dim + i];
      if (l !== 0) for (let c = 0; c < columns; c++) B[i * columns + c] -= l * B[k * columns + c];
    }
    for (let c = 0; c < columns; c++) B[i * columns + c] /= A[i * dim + i];
  }
}

/**
 * The probe of a phrase's last word on each of `regions` regions, p_i = Σ_j codes[i, j] W[j, k]
 * with `codes` their CNN codes (regions x dim, row-major); null when the probe has no such word.
 */
export function probeScores(
  probe: WordProbe,
  codes: Float32Array,
  regions: number,
  words: readonly string[],
): Float64Array | null {
  const k = probe.index.get(words[words.length - 1]);
  if (k === undefined) return null;
  const { dim } = probe;
  const V = probe.words.length;
  const halves = float16Values();
  const column = new Float64Array(dim);
  for (let j = 0; j < dim; j++) column[j] = halves[probe.weights[j * V + k]];
  const out = new Float64Array(regions);
  for (let i = 0; i < regions; i++) {
    let v = 0;
    for (let j = 0; j < dim; j++) v += codes[i * dim + j] * column[j];
    out[i] = v;
  }
  return out;
}

/** A probe as a grounding file stores it: {"dim", "words", "weights": B64(fp16, dim x words)}. */
export function packWordProbe(probe: WordProbe): { dim: number; words: string[]; weights: string } {
  return {
    dim: probe.dim,
    words: [...probe.words],
    weights: base64Of(probe.weights),
  };
}

/** Reads packWordProbe's output, checked whole; errors name `where` and the field. */
export function unpackWordProbe(
  value: unknown,
  where: string,
  options: { path?: string; error?: ErrorClass } = {},
): WordProbe {
  const r = JsonFields.of(value, where, options);
  const dim = r.number("dim", { integer: true, min: 1 });
  const words = r.strings("words", { want: "a list of words" });
  const packed = decodedArray(r, "weights", Uint16Array);
  if (packed.length !== dim * words.length) {
    throw r.errorAt("weights", `${packed.length} weights for ${dim} x ${words.length}`);
  }
  // fp16 with every exponent bit set is infinite or NaN.
  const bad = packed.findIndex((h) => (h & 0x7c00) === 0x7c00);
  if (bad >= 0) throw r.errorAt("weights", `weight ${bad} is not finite`);
  if (new Set(words).size !== words.length) r.fail("words", "a list of distinct words");
  return wordProbe(dim, words, packed);
}
