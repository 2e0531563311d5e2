import type { Rng } from "./rng.js";
import { shapeSize, Tensor } from "./tensor.js";

/** Parameter initialisers. Each returns a new tensor, drawing from `rng` so runs are reproducible. */

export function zeros(shape: readonly number[]): Tensor {
  return Tensor.zeros(shape);
}

/** Uniform in [-scale, scale]. */
export function uniform(shape: readonly number[], rng: Rng, scale: number): Tensor {
  const data = new Float32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * scale;
  return new Tensor(data, shape);
}

/** Normal with mean 0 and standard deviation `std`. */
export function normal(shape: readonly number[], rng: Rng, std: number): Tensor {
  const data = new Float32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
  return new Tensor(data, shape);
}

/**
 * Xavier/Glorot uniform for a [fanIn, fanOut] weight: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)),
 * which keeps activation variance roughly constant through a layer of x W products.
 */
export function xavier(shape: readonly number[], rng: Rng): Tensor {
  if (shape.length !== 2)
    throw new RangeError(`xavier: expected a 2-D [fanIn, fanOut] shape, got [${shape}]`);
  return uniform(shape, rng, Math.sqrt(6 / (shape[0] + shape[1])));
}
