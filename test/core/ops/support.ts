import assert from "node:assert/strict";
import { formatGradcheck, type GradcheckOptions, gradcheck } from "../../../src/core/gradcheck.js";
import { Rng } from "../../../src/core/rng.js";
import { shapeSize, Tensor } from "../../../src/core/tensor.js";

/**
 * A tensor requiring gradients with values uniform in [-1, 1], pushed at least `gap` away from 0
 * so that kinks at 0 (relu, hinge) are out of the finite-difference step's reach.
 */
export function input(shape: number[], seed: number, gap = 0): Tensor {
  const rng = new Rng(seed);
  const data = new Float32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) {
    const u = rng.uniform() * 2 - 1;
    data[i] = u >= 0 ? gap + u : u - gap;
  }
  return new Tensor(data, shape, { requiresGrad: true });
}

/** Asserts that backprop through `f` matches central differences for every input. */
export function assertGradients(
  f: () => Tensor,
  inputs: Record<string, Tensor>,
  opts: GradcheckOptions = {},
): void {
  const res = gradcheck(f, inputs, opts);
  assert.ok(res.checked > 0, "gradcheck checked nothing");
  assert.ok(res.ok, formatGradcheck(res));
}

/** Asserts two arrays agree to within `tol` elementwise. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) {
  assert.equal(actual.length, expected.length, "lengths differ");
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `index ${i}: ${actual[i]} vs expected ${expected[i]}`,
    );
  }
}
