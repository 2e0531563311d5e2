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

/** A flag's value as a positive integer; `flag` (e.g. "--limit") names it in the error. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`${flag}: expected a positive integer, got "${value}"`);
  }
  return n;
}
