import { isAbsolute, relative } from "node:path";
import { parseArgs } from "node:util";
import type { AlignmentModel } from "../../align/model.js";
import { computeDatasetStats, formatDatasetStats } from "../../data/stats.js";
import { InputError } from "../../errors.js";
import type { FeatureStore } from "../../vision/feature-store.js";
import { DEFAULT_WORLD_OPTIONS, type GeneratedWorld, generateWorld } from "../../world/generate.js";
import { worldToDataset } from "../../world/world-file.js";
import type { Command } from "../command.js";
import { alignStage } from "../demo-stages/align.js";
import { describeStage } from "../demo-stages/describe.js";
import { featuresStage } from "../demo-stages/features.js";
import { generateStage } from "../demo-stages/generate.js";
import { mrfStage } from "../demo-stages/mrf.js";
import { formatSeconds, Progress } from "../progress.js";

const DEFAULT_OUT = "runs/demo";

const usage = `usage: imagesent demo [--out DIR] [--images N] [--seed S]

Runs the whole system on a synthetic world it generates itself, with no downloads: coloured
shapes on plain, shaded, striped or noisy backgrounds, five sentences per image, and the true box
of every object and the words that name it.

options:
  --out DIR     where everything is written (default ${DEFAULT_OUT})
  --images N    images in the world (default ${DEFAULT_WORLD_OPTIONS.images})
  --seed S      world seed (default ${DEFAULT_WORLD_OPTIONS.seed}); the same seed gives the same files

writes:
  DIR/world/images/*.jpg     the rendered images (224x224)
  DIR/world/dataset.json     images, sentences and splits in Karpathy's dataset.json layout
  DIR/world/world.json       ground truth: object boxes and attributes, each word's object
                             (docs/synthetic-world.md)
  DIR/bundle/                the trained models as a bundle for describe and search
                             (docs/bundle.md)
  DIR/index/                 a search index of the test images
  DIR/describe.html          test images described, and a sentence's search hits`;

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
  summary: "generate a synthetic world and run the system on it (no downloads)",
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
  let values: { out?: string; images?: string; seed?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { out: { type: "string" }, images: { type: "string" }, seed: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return {
    out: values.out ?? DEFAULT_OUT,
    images: integerFlag("--images", values.images, DEFAULT_WORLD_OPTIONS.images, 1),
    seed: integerFlag("--seed", values.seed, DEFAULT_WORLD_OPTIONS.seed, 0),
  };
}

function integerFlag(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > 0xffffffff) {
    throw new InputError(`${flag}: expected an integer >= ${min}, got "${value}"`);
  }
  return n;
}
