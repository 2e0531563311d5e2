import { InputError } from "../errors.js";
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
import { fuseAlignCommand } from "./commands/fuse-align.js";
import { indexCommand } from "./commands/index-images.js";
import { modelsCommand } from "./commands/models.js";
import { mrfGridCommand } from "./commands/mrf-grid.js";
import { resultsCommand } from "./commands/results.js";
import { scoreCommand } from "./commands/score.js";
import { searchCommand } from "./commands/search.js";
import { serveCommand } from "./commands/serve.js";
import { showAlignmentCommand } from "./commands/show-alignment.js";
import { showRegionsCommand } from "./commands/show-regions.js";
import { trainAlignCommand } from "./commands/train-align.js";
import { trainGenCommand } from "./commands/train-gen.js";

/** Every CLI command, one module each; `imagesent --help` lists them in this order. */
const commands: Command[] = [
  dataCommand,
  demoCommand,
  scoreCommand,
  featuresCommand,
  modelsCommand,
  showRegionsCommand,
  trainAlignCommand,
  evalRetrievalCommand,
  evalGroundingCommand,
  fuseAlignCommand,
  alignCommand,
  showAlignmentCommand,
  mrfGridCommand,
  trainGenCommand,
  evalGenCommand,
  evalRegionsCommand,
  resultsCommand,
  describeCommand,
  indexCommand,
  searchCommand,
  serveCommand,
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "imagesent: align phrases to image regions, retrieve images and sentences, describe images.",
    "",
    "usage: imagesent <command> [options]      (imagesent <command> --help for details)",
    "",
    "commands:",
    ...lines,
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`imagesent: unknown command '${name}'\n\n${help()}`);
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
      console.error(`imagesent ${name}: ${err.message}`);
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
