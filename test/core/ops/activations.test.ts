import { test } from "node:test";
import { relu, sigmoid, tanh } from "../../../src/core/ops/activations.js";
import { hinge } from "../../../src/core/ops/hinge.js";
import { assertClose, assertGradients, input } from "./support.js";

test("relu, tanh, sigmoid: values and gradients", () => {
  const x = input([4, 5], 1, 0.05);
  assertClose(
    relu(x).data,
    Array.from(x.data, (v) => Math.max(0, v)),
  );
  assertClose(tanh(x).data, Array.from(x.data, Math.tanh));
  assertClose(
    sigmoid(x).data,
    Array.from(x.data, (v) => 1 / (1 + Math.exp(-v))),
  );
  assertGradients(() => relu(x), { x });
  assertGradients(() => tanh(x), { x });
  assertGradients(() => sigmoid(x), { x });
});

test("hinge is max(0, x + margin), with gradient only where active", () => {
  const x = input([3, 6], 2, 0.05);
  assertClose(
    hinge(x).data,
    Array.from(x.data, (v) => Math.max(0, v)),
  );
  // Shifted so that no value lands within the step of the kink at -margin.
  const shifted = input([3, 6], 3, 0.05);
  assertClose(
    hinge(shifted, 1).data,
    Array.from(shifted.data, (v) => Math.max(0, v + 1)),
  );
  assertGradients(() => hinge(x), { x });
  assertGradients(() => hinge(x, 0.5), { x }, { eps: 1e-3 });
});
