import { result } from "../autodiff.js";
import type { Tensor } from "../tensor.js";

/**
 * Pointwise nonlinearities. Each backward reads the saved output y rather than the input:
 * relu' = [y > 0], tanh' = 1 - y^2, sigmoid' = y (1 - y).
 */
export function relu(x: Tensor): Tensor {
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) y[i] = xd[i] > 0 ? xd[i] : 0;
  return result(y, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) if (y[i] > 0) gx[i] += g[i];
  });
}

export function tanh(x: Tensor): Tensor {
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) y[i] = Math.tanh(xd[i]);
  return result(y, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += g[i] * (1 - y[i] * y[i]);
  });
}

export function sigmoid(x: Tensor): Tensor {
  const xd = x.data;
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-xd[i]));
  return result(y, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += g[i] * y[i] * (1 - y[i]);
  });
}
