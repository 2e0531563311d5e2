import { readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { DEFAULT_REGION_BEAM, type DescribeOptions } from "../app/describer.js";
import { MAX_BEAM, PACKAGED_BUNDLES, PACKAGED_DEFAULT } from "../app/model-bundle.js";
import { DEFAULT_BEAM } from "../generate/decoding.js";
import { boundedInt, finiteNumber, parseCommandArgs, positiveInt } from "./flags.js";
import type { FlagHelp } from "./help.js";

/** Flag parsing shared by the app commands (describe, index, search, serve). */

/**
 * The bundle used when a command is given no --bundle: the cached bundle of this name, else the
 * packaged PACKAGED_DEFAULT (BundleCache.resolve).
 */
export const DEFAULT_BUNDLE = "default";

/** What --bundle defaults to, as the usage texts say it. */
export const DEFAULT_BUNDLE_HELP = `the bundle cached as '${DEFAULT_BUNDLE}', else the packaged '${PACKAGED_DEFAULT}'`;

/**
 * The bundle a command loaded, for people to read: a packaged bundle by its name and
 * "(packaged)", a cached one by its name, a folder as given.
 */
export function bundleLabel(requested: string, dir: string): string {
  if (dirname(resolve(dir)) === resolve(PACKAGED_BUNDLES)) return `${basename(dir)} (packaged)`;
  return requested;
}

/** Image files by name, as describe and index take them from a folder. */
const IMAGE_FILE = /\.(jpe?g|png|webp|tiff?|gif|avif)$/i;

/** The image files directly in folder `dir`, by file name. */
export function imageFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE_FILE.test(f))
    .sort()
    .map((f) => join(dir, f));
}

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

/** A positive integer flag of at most `max`, or `fallback` when absent. */
export function boundedIntFlag(
  flags: AppFlags,
  name: string,
  fallback: number,
  max: number,
): number {
  const v = stringFlag(flags, name);
  return v === undefined ? fallback : boundedInt(v, `--${name}`, max);
}

/** The most onnxruntime threads per model run a --threads flag may ask for: more only contend for the same cores. */
export const MAX_THREADS = 64;

/** The caption flags describe and serve share. */
export const CAPTION_FLAGS = ["beam", "rerank-weight", "region-beam"] as const;

/** CAPTION_FLAGS' rows of the describe and serve help pages. */
export const CAPTION_FLAG_HELP: readonly FlagHelp[] = [
  {
    flag: "--beam N",
    text: `beam width of the whole-image caption, at most ${MAX_BEAM} (with reranking, the
      bundle's rerank beam)`,
    default: DEFAULT_BEAM,
  },
  {
    flag: "--rerank-weight W",
    text: `rerank the caption's beam with the bundle's alignment model(s) at this weight (0
      turns it off)`,
    default: "the bundle's captionRerank, docs/bundle.md",
  },
  {
    flag: "--region-beam N",
    text: `beam width of each region's phrase, at most ${MAX_BEAM}`,
    default: `the bundle's regionRerank beam, else ${DEFAULT_REGION_BEAM}`,
  },
];

/**
 * --beam, --rerank-weight and --region-beam as Describer options, each left to the bundle (its
 * captionRerank and regionRerank) when absent.
 */
export function captionOptions(flags: AppFlags): DescribeOptions {
  const beam = stringFlag(flags, "beam");
  const weight = stringFlag(flags, "rerank-weight");
  const regionBeam = stringFlag(flags, "region-beam");
  return {
    ...(beam === undefined ? {} : { beam: boundedInt(beam, "--beam", MAX_BEAM) }),
    ...(weight === undefined ? {} : { rerankWeight: finiteNumber(weight, "--rerank-weight", 0) }),
    ...(regionBeam === undefined
      ? {}
      : { regionBeam: boundedInt(regionBeam, "--region-beam", MAX_BEAM) }),
  };
}
