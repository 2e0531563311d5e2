import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import type { Command } from "./command.js";
import { alignCommand } from "./commands/align.js";
import { dataCommand } from "./commands/data.js";
import { demoCommand } from "./commands/demo.js";
import { describeCommand } from "./commands/describe.js";
import { evalGenCommand } from "./commands/eval-gen.js";
import { evalGroundingCommand } from "./commands/eval-grounding.js";
import { evalRegionsCommand } from "./commands/eval-regions.js";
import { evalRetrievalCommand } from "./commands/eval-retrieval.js";
import { featuresCommand } from "./commands/features.js";
import { fitGroundingCommand } from "./commands/fit-grounding.js";
import { fuseAlignCommand } from "./commands/fuse-align.js";
import { indexCommand } from "./commands/index-images.js";
import { modelsCommand } from "./commands/models.js";
import { mrfGridCommand } from "./commands/mrf-grid.js";
import { regionThresholdCommand } from "./commands/region-threshold.js";
import { resultsCommand } from "./commands/results.js";
import { scoreCommand } from "./commands/score.js";
import { searchCommand } from "./commands/search.js";
import { serveCommand } from "./commands/serve.js";
import { showAlignmentCommand } from "./commands/show-alignment.js";
import { showRegionsCommand } from "./commands/show-regions.js";
import { trainAlignCommand } from "./commands/train-align.js";
import { trainGenCommand } from "./commands/train-gen.js";
import { workerCommand } from "./commands/worker.js";
import { closest } from "./flags.js";

/** The commands a user of a model bundle runs day to day; `imagesent --help` lists them first. */
const everyday: Command[] = [
  describeCommand,
  indexCommand,
  searchCommand,
  serveCommand,
  modelsCommand,
];

/** The paper's research pipeline, from a dataset to trained models and their evaluations, in order. */
const research: Command[] = [
  dataCommand,
  demoCommand,
  scoreCommand,
  featuresCommand,
  workerCommand,
  showRegionsCommand,
  trainAlignCommand,
  evalRetrievalCommand,
  evalGroundingCommand,
  fitGroundingCommand,
  fuseAlignCommand,
  alignCommand,
  showAlignmentCommand,
  mrfGridCommand,
  trainGenCommand,
  evalGenCommand,
  evalRegionsCommand,
  regionThresholdCommand,
  resultsCommand,
];

const commands: Command[] = [...everyday, ...research];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const list = (group: Command[]) => group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "imagesent: align phrases to image regions, retrieve images and sentences, describe images.",
    "",
    "usage: imagesent <command> [options]      (imagesent <command> --help for details)",
    "       imagesent --version",
    "",
    "commands:",
    ...list(everyday),
    "",
    "research pipeline (datasets, training, evaluation):",
    ...list(research),
  ].join("\n");
}

/** The version in imagesent's package.json. */
export function version(): string {
  return JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")).version;
}

/** `imagesent: unknown ...` for a first argument that names no command, with the nearest name. */
function unknownCommand(name: string): string {
  if (name.startsWith("-")) {
    return `imagesent: unknown flag ${name}; flags go after the command (imagesent <command> [options]); see imagesent --help`;
  }
  const near = closest(
    name,
    commands.map((c) => c.name),
  );
  return `imagesent: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ""}; see imagesent --help`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    console.log(version());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(unknownCommand(name));
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (err) {
    if (err instanceof InputError) {
      // A message may name the command (and its action) itself, as `models add: ...` does.
      const named = new RegExp(`^${name}( [a-z]+){0,2}: `).test(err.message);
      console.error(named ? `imagesent ${err.message}` : `imagesent ${name}: ${err.message}`);
      return 2;
    }
    if (process.env.IMAGESENT_DEBUG) throw err;
    const message = err instanceof Error ? err.message : String(err);
    console.error(
      `imagesent ${name}: internal error: ${message.split("\n")[0]} (IMAGESENT_DEBUG=1 shows where)`,
    );
    return 1;
  }
}
