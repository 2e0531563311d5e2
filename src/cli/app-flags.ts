import { DEFAULT_REGION_BEAM, type DescribeOptions } from "../app/describer.js";
import { InputError } from "../errors.js";
import { parseCommandArgs, positiveInt } from "./flags.js";

/** Flag parsing shared by the app commands (describe, index, search). */

/** The bundle used when a command is given no --bundle: the cached bundle of this name. */
export const DEFAULT_BUNDLE = "default";

export interface AppFlags {
  readonly values: Readonly<Record<string, string | string[] | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** String flags `strings` and boolean flags `booleans`; unknown flags are an InputError with the usage. */
export function parseAppFlags(
  args: string[],
  strings: readonly string[],
  booleans: readonly string[],
  usage: string,
): AppFlags {
  return parseCommandArgs(
    args,
    Object.fromEntries([
      ...strings.map((k) => [k, { type: "string" as const }]),
      ...booleans.map((k) => [k, { type: "boolean" as const }]),
    ]),
    usage,
  );
}

/** A string flag's value, or undefined when absent. */
export function stringFlag(flags: AppFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === "string" ? v : undefined;
}

/** A positive integer flag, or `fallback` when absent. */
export function positiveIntFlag(flags: AppFlags, name: string, fallback: number): number {
  const v = stringFlag(flags, name);
  return v === undefined ? fallback : positiveInt(v, `--${name}`);
}

/** The caption flags describe and serve share. */
export const CAPTION_FLAGS = ["beam", "rerank-weight", "region-beam"] as const;

/**
 * --beam, --rerank-weight and --region-beam as Describer options; the first two are left to the
 * bundle (its captionRerank) when absent.
 */
export function captionOptions(flags: AppFlags): DescribeOptions {
  const beam = stringFlag(flags, "beam");
  const weight = stringFlag(flags, "rerank-weight");
  const rerankWeight = weight === undefined ? undefined : Number(weight);
  if (rerankWeight !== undefined && (weight!.trim() === "" || !(rerankWeight >= 0))) {
    throw new InputError(`--rerank-weight: expected a number >= 0, got '${weight}'`);
  }
  return {
    ...(beam === undefined ? {} : { beam: positiveInt(beam, "--beam") }),
    ...(rerankWeight === undefined ? {} : { rerankWeight }),
    regionBeam: positiveIntFlag(flags, "region-beam", DEFAULT_REGION_BEAM),
  };
}
