import { isAbsolute, relative } from "node:path";
import type { AlignmentModel } from "../../align/model.js";
import { computeDatasetStats, formatDatasetStats } from "../../data/stats.js";
import type { FeatureStore } from "../../vision/feature-store.js";
import { DEFAULT_WORLD_OPTIONS, type GeneratedWorld, generateWorld } from "../../world/generate.js";
import { worldToDataset } from "../../world/world-file.js";
import type { Command } from "../command.js";
import { alignStage } from "../demo-stages/align.js";
import { describeStage } from "../demo-stages/describe.js";
import { featuresStage } from "../demo-stages/features.js";
import { generateStage } from "../demo-stages/generate.js";
import { mrfStage } from "../demo-stages/mrf.js";
import { numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";
import { formatSeconds, Progress } from "../progress.js";

const DEFAULT_OUT = "runs/demo";

/** World seeds are 32-bit (the world's RNG state). */
const MAX_SEED = 0xffffffff;

const usage = renderHelp({
  usage: ["demo [--out DIR] [--images N] [--seed S]"],
  description: `Runs the whole system on a synthetic world it generates itself, with no
    downloads: coloured shapes on plain, shaded, striped or noisy backgrounds, five sentences per
    image, and the true box of every object and the words that name it.`,
  flags: [
    { flag: "--out DIR", text: "where everything is written", default: DEFAULT_OUT },
    { flag: "--images N", text: "images in the world", default: DEFAULT_WORLD_OPTIONS.images },
    {
      flag: "--seed S",
      text: `world seed, 0 to ${MAX_SEED}; the same seed gives the same files`,
      default: DEFAULT_WORLD_OPTIONS.seed,
    },
  ],
  tables: [
    {
      heading: "writes",
      rows: [
        { flag: "DIR/world/images/*.jpg", text: "the rendered images (224x224)" },
        {
          flag: "DIR/world/dataset.json",
          text: "images, sentences and splits in Karpathy's dataset.json layout",
        },
        {
          flag: "DIR/world/world.json",
          text: "ground truth: object boxes and attributes, each word's object (docs/synthetic-world.md)",
        },
        {
          flag: "DIR/bundle/",
          text: "the trained models as a bundle for describe and search (docs/bundle.md)",
        },
        { flag: "DIR/index/", text: "a search index of the test images" },
        { flag: "DIR/describe.html", text: "test images described, and a sentence's search hits" },
      ],
    },
  ],
  examples: ["demo", "demo --out runs/small-demo --images 200 --seed 7"],
});

export interface DemoOptions {
  readonly out: string;
  readonly images: number;
  readonly seed: number;
}

/** What the stages hand on to each other. */
export interface DemoState {
  readonly options: DemoOptions;
  world?: GeneratedWorld;
  /** The world's region features (the features stage). */
  features?: FeatureStore;
  /** The trained alignment model (the align stage). */
  alignment?: AlignmentModel;
  /** The train split's region snippets, the chain MRF's segments (the mrf stage). */
  snippets?: string;
}

/** One step of the demo; the stages run in order, each printing what it made. */
export interface DemoStage {
  readonly name: string;
  readonly summary: string;
  run(state: DemoState, log: (line: string) => void): Promise<void>;
}

const worldStage: DemoStage = {
  name: "world",
  summary: "generate the synthetic world",
  async run(state, log) {
    const { out, images, seed } = state.options;
    const progress = new Progress({ label: "rendering", total: images, unit: "images" });
    const world = await generateWorld(`${out}/world`, { images, seed }, () => progress.tick());
    progress.finish();
    state.world = world;
    log("");
    log(formatDatasetStats(computeDatasetStats(worldToDataset(world.world))));
    const objects = world.world.images.reduce((n, image) => n + image.objects.length, 0);
    log(`objects: ${objects} (${(objects / Math.max(1, images)).toFixed(2)} per image)`);
    log("");
    log(`images:       ${display(world.imagesDir)}`);
    log(`dataset:      ${display(world.datasetPath)}`);
    log(`ground truth: ${display(world.worldPath)}`);
  },
};

/** The demo's stages in order; each later issue appends its own. */
export const DEMO_STAGES: DemoStage[] = [
  worldStage,
  featuresStage,
  alignStage,
  mrfStage,
  generateStage,
  describeStage,
];

export const demoCommand: Command = {
  name: "demo",
  usage,
  async run(args) {
    const options = parseDemoArgs(args);
    const log = (line: string) => console.log(line);
    const state: DemoState = { options };
    const start = Date.now();
    for (const [i, stage] of DEMO_STAGES.entries()) {
      log(`[${i + 1}/${DEMO_STAGES.length}] ${stage.name}: ${stage.summary}`);
      const stageStart = Date.now();
      await stage.run(state, log);
      log(`(${stage.name} took ${formatSeconds((Date.now() - stageStart) / 1000)})`);
      log("");
    }
    log(`demo finished in ${formatSeconds((Date.now() - start) / 1000)}`);
    return 0;
  },
};

/** A path as the user would type it: relative below the working directory, else absolute. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

export function parseDemoArgs(args: string[]): DemoOptions {
  const values = parseCommandArgs(
    args,
    { out: { type: "string" }, images: { type: "string" }, seed: { type: "string" } },
    usage,
    { positionals: false },
  ).values as { out?: string; images?: string; seed?: string };
  return {
    out: values.out ?? DEFAULT_OUT,
    images:
      numberFlag(values.images, "--images", { integer: true, min: 1 }) ??
      DEFAULT_WORLD_OPTIONS.images,
    seed:
      numberFlag(values.seed, "--seed", { integer: true, min: 0, max: MAX_SEED }) ??
      DEFAULT_WORLD_OPTIONS.seed,
  };
}
