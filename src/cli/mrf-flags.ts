import { SPLITS, type Split } from "../data/dataset.js";
import { InputError } from "../errors.js";
import { DEFAULT_BETA } from "../mrf/phrase-alignment.js";
import { numberFlag, parseCommandArgs } from "./flags.js";

/** Flag parsing shared by the phrase-alignment commands (align, show-alignment, mrf-grid). */

export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly positionals: readonly string[];
}

/** String flags `names`; unknown flags are an InputError that shows the usage. */
export function parseFlags(args: string[], names: readonly string[], usage: string): ParsedFlags {
  const options = Object.fromEntries(names.map((k) => [k, { type: "string" as const }]));
  const { values, positionals } = parseCommandArgs(args, options, usage);
  return { values: values as Record<string, string | undefined>, positionals };
}

/** Throws an InputError (with the usage) naming the first of `names` not given. */
export function required(
  values: ParsedFlags["values"],
  names: readonly string[],
  usage: string,
): void {
  for (const key of names) {
    if (!values[key]) throw new InputError(`--${key} is required\n\n${usage}`);
  }
}

export function parseSplit(value: string): Split {
  if (!SPLITS.includes(value as Split)) {
    throw new InputError(`--split: expected one of ${SPLITS.join(", ")}, got "${value}"`);
  }
  return value as Split;
}

/** --beta's value (the chain MRF's beta, >= 0), or DEFAULT_BETA when absent. */
export function parseBeta(value: string | undefined): number {
  return numberFlag(value, "--beta", { min: 0 }) ?? DEFAULT_BETA;
}
