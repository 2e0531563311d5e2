import type { Params } from "../params.js";

/**
 * Clips every gradient entry to [-c, c] (the paper clips elementwise at 5), before the optimiser
 * step. Returns how many entries were clipped, worth logging: many means the step is too large.
 */
export function clipGradients(params: Params, c: number): number {
  if (!(c > 0)) throw new RangeError(`clipGradients: bound must be > 0, got ${c}`);
  let clipped = 0;
  for (const p of params.trainable()) {
    const g = p.tensor.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) {
      if (g[i] > c) {
        g[i] = c;
        clipped++;
      } else if (g[i] < -c) {
        g[i] = -c;
        clipped++;
      }
    }
  }
  return clipped;
}

/** The L2 norm of all gradients together, for progress logs. */
export function gradNorm(params: Params): number {
  let s = 0;
  for (const p of params.trainable()) {
    const g = p.tensor.grad;
    if (g !== null) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  }
  return Math.sqrt(s);
}
