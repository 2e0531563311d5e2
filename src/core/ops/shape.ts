import type { Tensor } from "../tensor.js";

/** Rows and columns of a tensor an op reads as a matrix; `what` names it in the error. */
export function matrix(op: string, what: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) {
    throw new RangeError(`${op}: ${what} must be 2-D, got ${t.describe()}`);
  }
  return [t.shape[0], t.shape[1]];
}

/** The error an op throws when two operands' shapes do not fit together. */
export function shapeMismatch(op: string, a: Tensor, b: Tensor, why: string): RangeError {
  return new RangeError(`${op}: shapes ${a.describe()} and ${b.describe()} ${why}`);
}
