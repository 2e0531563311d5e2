import { runCli } from "./cli-run.js";

/**
 * For every command: the arguments that come before its flags (a subcommand, a path the parser
 * never opens) and one of its own flags that takes a value. Every flag error is raised while
 * parsing, before any file is read, so tests can run each command with bad flags.
 */
export const COMMANDS: Readonly<Record<string, { before: string[]; flag: string }>> = {
  describe: { before: ["a.jpg"], flag: "--region-beam" },
  index: { before: ["photos"], flag: "--sentences" },
  search: { before: ["idx", "a dog"], flag: "--sentences" },
  serve: { before: [], flag: "--bundle" },
  models: { before: ["list"], flag: "--sha256" },
  data: { before: ["stats", "x.json"], flag: "--min-count" },
  demo: { before: [], flag: "--images" },
  score: { before: [], flag: "--cands" },
  features: { before: [], flag: "--detector-model" },
  "show-regions": { before: ["a.jpg"], flag: "--detector-model" },
  "train-align": { before: [], flag: "--checkpoint-every" },
  "eval-retrieval": { before: [], flag: "--markdown" },
  "eval-grounding": { before: [], flag: "--entities" },
  "fit-grounding": { before: [], flag: "--features" },
  "fit-consensus": { before: [], flag: "--snippets" },
  "fuse-align": { before: [], flag: "--features" },
  align: { before: [], flag: "--features" },
  "show-alignment": { before: [], flag: "--min-score" },
  "mrf-grid": { before: [], flag: "--markdown" },
  "train-gen": { before: [], flag: "--val-captions" },
  "eval-gen": { before: [], flag: "--rerank-weight" },
  "eval-regions": { before: [], flag: "--region-beam" },
  "region-threshold": { before: [], flag: "--precision" },
  results: { before: [], flag: "--sections" },
  worker: { before: [], flag: "--stall-timeout" },
};

/** Where a command's errors point for help: "imagesent data stats", "imagesent search". */
export const helpOf = (name: string): string =>
  name === "data" ? "imagesent data stats" : `imagesent ${name}`;

/** The commands `imagesent --help` lists, in its order. */
export async function listedCommands(): Promise<string[]> {
  const r = await runCli(["--help"]);
  return [...r.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
}
