import assert from "node:assert/strict";
import { test } from "node:test";
import { add, addScalar, mul, scale, sub } from "../../../src/core/ops/elementwise.js";
import { Tensor } from "../../../src/core/tensor.js";
import { assertClose, assertGradients, input } from "./support.js";

const shapes: [string, number[], number[], number[]][] = [
  ["same shape", [3, 4], [3, 4], [3, 4]],
  ["row vector [n]", [3, 4], [4], [3, 4]],
  ["row [1, n]", [3, 4], [1, 4], [3, 4]],
  ["column [r, 1]", [3, 4], [3, 1], [3, 4]],
  ["scalar []", [3, 4], [], [3, 4]],
  ["row on the left", [4], [3, 4], [3, 4]],
  ["column times row", [3, 1], [1, 4], [3, 4]],
  ["1-D pair", [5], [5], [5]],
];

for (const [what, sa, sb, so] of shapes) {
  test(`add, sub, mul with ${what}: values and gradients`, () => {
    const a = input(sa, 1);
    const b = input(sb, 2);
    const cols = so[so.length - 1];
    const at = (t: Tensor, r: number, c: number) =>
      t.data[(t.rows === 1 ? 0 : r) * t.cols + (t.cols === 1 ? 0 : c)];
    const expected = { add: [] as number[], sub: [] as number[], mul: [] as number[] };
    const rows = so.length === 2 ? so[0] : 1;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        expected.add.push(at(a, r, c) + at(b, r, c));
        expected.sub.push(at(a, r, c) - at(b, r, c));
        expected.mul.push(at(a, r, c) * at(b, r, c));
      }
    }
    for (const [name, op] of [
      ["add", add],
      ["sub", sub],
      ["mul", mul],
    ] as const) {
      const y = op(a, b);
      assert.deepEqual(y.shape, so, name);
      assertClose(y.data, expected[name]);
      assertGradients(() => op(a, b), { a, b });
    }
  });
}

test("broadcasting rejects incompatible shapes, naming the op and both shapes", () => {
  assert.throws(
    () => add(Tensor.zeros([3, 4]), Tensor.zeros([2, 4])),
    /add: shapes \[3,4\] and \[2,4\]/,
  );
  assert.throws(
    () => mul(Tensor.zeros([3, 4]), Tensor.zeros([3])),
    /mul: shapes \[3,4\] and \[3\]/,
  );
  assert.throws(
    () => sub(Tensor.zeros([2, 2, 2]), Tensor.zeros([2])),
    /sub: shapes \[2,2,2\] and \[2\]/,
  );
});

test("scale and addScalar", () => {
  const x = input([2, 3], 3);
  assertClose(
    scale(x, -2.5).data,
    Array.from(x.data, (v) => -2.5 * v),
  );
  assertClose(
    addScalar(x, 1).data,
    Array.from(x.data, (v) => v + 1),
  );
  assertGradients(() => scale(x, -2.5), { x });
  assertGradients(() => addScalar(x, 1), { x });
});
