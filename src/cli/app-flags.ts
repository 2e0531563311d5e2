import { parseArgs } from "node:util";
import { InputError } from "../errors.js";

/** Flag parsing shared by the app commands (describe, index, search). */

/** The bundle used when a command is given no --bundle: the cached bundle of this name. */
export const DEFAULT_BUNDLE = "default";

export interface AppFlags {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** String flags `strings` and boolean flags `booleans`; unknown flags are an InputError with the usage. */
export function parseAppFlags(
  args: string[],
  strings: readonly string[],
  booleans: readonly string[],
  usage: string,
): AppFlags {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: Object.fromEntries([
        ...strings.map((k) => [k, { type: "string" as const }]),
        ...booleans.map((k) => [k, { type: "boolean" as const }]),
      ]),
      allowPositionals: true,
      strict: true,
    });
    return { values: values as AppFlags["values"], positionals };
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** A string flag's value, or undefined when absent. */
export function stringFlag(flags: AppFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A positive integer flag, or `fallback` when absent. */
export function positiveIntFlag(flags: AppFlags, name: string, fallback: number): number {
  const v = stringFlag(flags, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`--${name}: expected a positive integer, got "${v}"`);
  }
  return n;
}
