import { InputError } from "../errors.js";

/** More epochs than any run needs: a larger --epochs is a typo, not a plan. */
export const MAX_EPOCHS = 10_000;

/**
 * An integer flag's value, written in decimal digits ("10", not "1e1" or "10.0"), within
 * [min, max]; undefined when the flag is not given. `flag` (e.g. "--epochs") names it in errors.
 */
export function integerFlag(
  value: string | undefined,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError(`${flag}: expected an integer in [${min}, ${max}], got '${value}'`);
  }
  return n;
}

/**
 * A real flag's value, written as a decimal number ("3e-4", "0.5"; not NaN, Infinity or hex),
 * within [min, max]; undefined when the flag is not given.
 */
export function realFlag(
  value: string | undefined,
  flag: string,
  min: number,
  max = Number.MAX_VALUE,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ||
    !Number.isFinite(n) ||
    n < min ||
    n > max
  ) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new InputError(`${flag}: expected a number ${range}, got '${value}'`);
  }
  return n;
}
