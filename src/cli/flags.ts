import { type ParseArgsConfig, parseArgs } from "node:util";
import { InputError } from "../errors.js";

/**
 * `node:util` parseArgs, strict and with positionals, where a bad flag is an InputError that
 * shows the command's usage.
 */
export function parseCommandArgs(
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  usage: string,
): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | string[] | boolean | undefined>,
      positionals,
    };
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** A flag's value as a positive integer, digits only; `flag` (e.g. "--limit") names it in the error. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`${flag}: expected a positive integer, got "${value}"`);
  }
  return n;
}

/**
 * A flag's value as a positive integer of at most `max`, for flags that size work or memory
 * (beam widths, result counts, threads): a value past `max` is refused, not clamped.
 */
export function boundedInt(value: string, flag: string, max: number): number {
  const n = positiveInt(value, flag);
  if (n > max) throw new InputError(`${flag}: expected at most ${max}, got "${value}"`);
  return n;
}

/**
 * A flag's value as a finite number >= `min`, written as a plain decimal (`0.25`, `-1`, `2e-3`):
 * not `Infinity`, `NaN`, hex or an empty string.
 */
export function finiteNumber(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (
    !/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(value) ||
    !Number.isFinite(n) ||
    n < min
  ) {
    throw new InputError(`${flag}: expected a number >= ${min}, got '${value}'`);
  }
  return n;
}
