import { InputError } from "../errors.js";
import type { Params } from "./params.js";

/**
 * Training blew up: a loss, weight or validation score became NaN or infinite. The user's settings
 * (usually the learning rate) caused it, so it is an InputError: the CLI prints its one line and
 * exits 2, and nothing diverged is kept as the best model.
 */
export class TrainingDivergedError extends InputError {
  override readonly name: string = "TrainingDivergedError";
}

/** A value that is not a finite number, where it was found, and how many such values there are. */
export interface NonFinite {
  /** Where: a parameter's name, or whatever the caller named the values. */
  readonly name: string;
  readonly value: number;
  readonly count: number;
  readonly of: number;
}

/** The first of `values` that is NaN or infinite, with their count; null when all are finite. */
export function nonFiniteIn(name: string, values: ArrayLike<number>): NonFinite | null {
  let first = -1;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? null : { name, value: values[first], count, of: values.length };
}

/** The first parameter holding a NaN or infinite value; null when every weight is finite. */
export function nonFiniteParam(params: Params): NonFinite | null {
  for (const p of params.all()) {
    const found = nonFiniteIn(p.name, p.tensor.data);
    if (found) return found;
  }
  return null;
}

/** "parameter W holds NaN (12 of 40 values are not finite)". */
export function describeNonFinite(what: string, n: NonFinite): string {
  return `${what} ${n.name} holds ${n.value} (${n.count} of ${n.of} values are not finite)`;
}
