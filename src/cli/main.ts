import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import type { Command } from "./command.js";
import { closest } from "./flags.js";

/**
 * A command as `imagesent --help` lists it. Its module is imported only when it runs: importing
 * every command's dependencies up front (ONNX, LanceDB, the web server) was most of the start-up
 * of a one-second `imagesent search`. The summary, `imagesent --help`'s line for it, lives only
 * here for that reason.
 */
interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** The commands a user of a model bundle runs day to day; `imagesent --help` lists them first. */
const everyday: CommandEntry[] = [
  {
    name: "describe",
    summary: "caption images and their regions with a model bundle (text, JSON or an HTML page)",
    load: async () => (await import("./commands/describe.js")).describeCommand,
  },
  {
    name: "index",
    summary: "index a folder of images (and sentences) for search",
    load: async () => (await import("./commands/index-images.js")).indexCommand,
  },
  {
    name: "search",
    summary: "find indexed images for a sentence, or sentences for an image",
    load: async () => (await import("./commands/search.js")).searchCommand,
  },
  {
    name: "serve",
    summary: "a local web app: describe a dropped image, search indexed images with a sentence",
    load: async () => (await import("./commands/serve.js")).serveCommand,
  },
  {
    name: "models",
    summary: "list, add, fetch (sha256-checked) and remove cached ONNX models",
    load: async () => (await import("./commands/models.js")).modelsCommand,
  },
];

/** The paper's research pipeline, from a dataset to trained models and their evaluations, in order. */
const research: CommandEntry[] = [
  {
    name: "data",
    summary: "inspect a dataset: imagesent data stats DATASET",
    load: async () => (await import("./commands/data.js")).dataCommand,
  },
  {
    name: "demo",
    summary: "generate a synthetic world and run the system on it (no downloads)",
    load: async () => (await import("./commands/demo.js")).demoCommand,
  },
  {
    name: "score",
    summary: "score captions with BLEU, METEOR, ROUGE-L and CIDEr-D (coco-caption compatible)",
    load: async () => (await import("./commands/score.js")).scoreCommand,
  },
  {
    name: "features",
    summary: "encode images as 20 region feature vectors (detector + CNN) into a feature store",
    load: async () => (await import("./commands/features.js")).featuresCommand,
  },
  {
    name: "worker",
    summary: "run queued feature jobs (imagesent features/index --queue) on this machine",
    load: async () => (await import("./commands/worker.js")).workerCommand,
  },
  {
    name: "show-regions",
    summary: "draw each image's 20 regions (detections, fallback boxes) as SVG",
    load: async () => (await import("./commands/show-regions.js")).showRegionsCommand,
  },
  {
    name: "train-align",
    summary: "train the region-word alignment model (BRNN + ranking loss) with val retrieval",
    load: async () => (await import("./commands/train-align.js")).trainAlignCommand,
  },
  {
    name: "eval-retrieval",
    summary: "image annotation and image search R@1/5/10 and median rank of alignment models",
    load: async () => (await import("./commands/eval-retrieval.js")).evalRetrievalCommand,
  },
  {
    name: "eval-grounding",
    summary: "phrase grounding accuracy on Flickr30k Entities of an alignment model and baselines",
    load: async () => (await import("./commands/eval-grounding.js")).evalGroundingCommand,
  },
  {
    name: "fit-grounding",
    summary: "learn phrase grounding's word-class table from train captions and detector labels",
    load: async () => (await import("./commands/fit-grounding.js")).fitGroundingCommand,
  },
  {
    name: "fit-consensus",
    summary: "fit the region phrases' consensus with the snippets of the nearest train regions",
    load: async () => (await import("./commands/fit-consensus.js")).fitConsensusCommand,
  },
  {
    name: "fuse-align",
    summary: "fuse alignment models (regions + whole image) with weights tuned on val",
    load: async () => (await import("./commands/fuse-align.js")).fuseAlignCommand,
  },
  {
    name: "align",
    summary: "align each sentence's phrases to image regions (chain MRF) into a snippet dataset",
    load: async () => (await import("./commands/align.js")).alignCommand,
  },
  {
    name: "show-alignment",
    summary: "draw phrase-to-region alignments as an HTML page (the paper's Figure 5)",
    load: async () => (await import("./commands/show-alignment.js")).showAlignmentCommand,
  },
  {
    name: "mrf-grid",
    summary: "phrase-to-box accuracy of the chain MRF for a grid of beta on a synthetic world",
    load: async () => (await import("./commands/mrf-grid.js")).mrfGridCommand,
  },
  {
    name: "train-gen",
    summary: "train the multimodal RNN caption generator (full images or regions)",
    load: async () => (await import("./commands/train-gen.js")).trainGenCommand,
  },
  {
    name: "eval-gen",
    summary: "score a caption generator against the paper's Table 2 (and nearest neighbour)",
    load: async () => (await import("./commands/eval-gen.js")).evalGenCommand,
  },
  {
    name: "eval-regions",
    summary: "region descriptions on Flickr30k Entities: the paper's Table 3",
    load: async () => (await import("./commands/eval-regions.js")).evalRegionsCommand,
  },
  {
    name: "region-threshold",
    summary: "choose on val the confidence below which describe leaves a region's phrase out",
    load: async () => (await import("./commands/region-threshold.js")).regionThresholdCommand,
  },
  {
    name: "results",
    summary: "assemble docs/results.md from the sections the evaluation commands write",
    load: async () => (await import("./commands/results.js")).resultsCommand,
  },
];

const commands: CommandEntry[] = [...everyday, ...research];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const list = (group: CommandEntry[]) =>
    group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
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
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    console.error(unknownCommand(name));
    return 2;
  }
  try {
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(command.usage);
      return 0;
    }
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
