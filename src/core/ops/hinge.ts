import { result } from "../autodiff.js";
import type { Tensor } from "../tensor.js";

/**
 * max(0, x + margin), elementwise: the hinge of a max-margin loss. For the paper's ranking loss,
 * x holds S_kl - S_kk and margin is 1. The gradient passes where the hinge is active.
 */
export function hinge(x: Tensor, margin = 0): Tensor {
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) {
    const v = xd[i] + margin;
    y[i] = v > 0 ? v : 0;
  }
  return result(y, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) if (xd[i] + margin > 0) gx[i] += g[i];
  });
}
