import { result } from "../autodiff.js";
import { take } from "../buffer-pool.js";
import type { Rng } from "../rng.js";
import type { Tensor } from "../tensor.js";

/**
 * Inverted dropout: while training, each value is zeroed with probability p and the survivors are
 * scaled by 1 / (1 - p), so the expected activation is unchanged and inference needs no rescaling.
 * When not training (or p = 0) it returns x itself. The mask is drawn from `rng`, so a seeded run
 * (and a resumed one) drops the same units.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const keep = 1 / (1 - p);
  const mask = take(x.size);
  const out = new Float32Array(x.size);
  const xd = x.data;
  rng.fillBernoulli(mask, p, keep);
  for (let i = 0; i < mask.length; i++) out[i] = xd[i] * mask[i];
  return result(
    out,
    x.shape,
    [x],
    (g) => {
      const gx = x.gradBuffer();
      for (let i = 0; i < gx.length; i++) gx[i] += g[i] * mask[i];
    },
    [mask],
  );
}
