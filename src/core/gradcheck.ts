import { backward, clearTape, noGrad } from "./autodiff.js";
import { Params } from "./params.js";
import { Rng } from "./rng.js";
import type { Tensor } from "./tensor.js";

export interface GradcheckOptions {
  /**
   * Finite-difference step. Default 1e-2: with float32 values, a smaller step lets rounding in the
   * forward pass dominate (measured: worst error 1e-2 at 1e-3, 1e-3 at 1e-2 on a softmax loss).
   */
  eps?: number;
  /** Largest acceptable relative error. Default 1e-2. */
  tolerance?: number;
  /**
   * Gradients smaller than this are compared absolutely: relative error is
   * |a - n| / max(|a|, |n|, floor), so float32 noise on a near-zero gradient does not fail.
   * Default 1e-2.
   */
  floor?: number;
  /** Entries checked per parameter, sampled at random (all when it has fewer). Default 64. */
  maxPerParam?: number;
  /** Seed for the projection and the sampled entries. Default 1. */
  seed?: number;
}

export interface GradcheckEntry {
  name: string;
  index: number;
  analytic: number;
  numeric: number;
  relError: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** The entry with the largest relative error (null when nothing was checked). */
  worst: GradcheckEntry | null;
  checked: number;
}

/**
 * Compares backprop gradients with central differences, as neuraltalk's solver did. `f` builds
 * the computation from the parameters and returns any tensor y; the checked loss is
 * L = sum_i r_i y_i for a fixed random r, summed in float64 from y's float32 values so that the
 * loss itself adds no float32 rounding (a scalar y is checked as is). The step actually taken is
 * fround(x + eps) - fround(x - eps), not 2 eps, since float32 cannot hold x + eps exactly.
 *
 * A scalar loss is rounded to float32, which adds about 3e-6 |loss| of noise to each numeric
 * gradient at eps = 1e-2; to check a large loss tightly, return the tensor before its final sum.
 * Inputs must sit away from kinks (relu at 0, ties in a max) by more than eps, and `f` must be
 * deterministic (give dropout a freshly seeded Rng inside it). The analytic gradients are left in
 * the parameters' grad buffers.
 */
export function gradcheck(
  f: () => Tensor,
  params: Params | Record<string, Tensor>,
  opts: GradcheckOptions = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const tolerance = opts.tolerance ?? 1e-2;
  const floor = opts.floor ?? 1e-2;
  const maxPerParam = opts.maxPerParam ?? 64;
  const rng = new Rng(opts.seed ?? 1);
  const named: [string, Tensor][] =
    params instanceof Params
      ? params.trainable().map((p) => [p.name, p.tensor])
      : Object.entries(params).filter(([, t]) => t.requiresGrad);

  clearTape();
  for (const [, t] of named) t.zeroGrad();
  const y = f();
  const r = new Float32Array(y.size);
  if (y.size === 1) r[0] = 1;
  else for (let i = 0; i < r.length; i++) r[i] = rng.uniform() * 2 - 1;
  backward(y, r);
  const loss = () => {
    const out = noGrad(f).data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += r[i] * out[i];
    return s;
  };

  let worst: GradcheckEntry | null = null;
  let checked = 0;
  for (const [name, t] of named) {
    const analytic = t.grad ?? new Float32Array(t.size);
    for (const index of sample(t.size, maxPerParam, rng)) {
      const x = t.data[index];
      t.data[index] = x + eps;
      const xp = t.data[index];
      const lp = loss();
      t.data[index] = x - eps;
      const xm = t.data[index];
      const lm = loss();
      t.data[index] = x;
      const numeric = (lp - lm) / (xp - xm);
      const a = analytic[index];
      const relError = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), floor);
      checked++;
      if (worst === null || relError > worst.relError || Number.isNaN(relError)) {
        worst = { name, index, analytic: a, numeric, relError };
      }
    }
  }
  return { ok: worst === null || worst.relError <= tolerance, worst, checked };
}

/** Describes a result in one line, e.g. for a failing test. */
export function formatGradcheck(res: GradcheckResult): string {
  const w = res.worst;
  if (w === null) return "gradcheck: nothing checked";
  return (
    `gradcheck: ${res.ok ? "ok" : "FAILED"}, ${res.checked} entries, worst relative error ` +
    `${w.relError.toExponential(2)} at ${w.name}[${w.index}] ` +
    `(analytic ${w.analytic.toPrecision(6)}, numeric ${w.numeric.toPrecision(6)})`
  );
}

function sample(size: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  if (size <= max) return all;
  return rng.shuffle(all).slice(0, max);
}
