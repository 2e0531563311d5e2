import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSplitFeatures } from "../../src/align/image-features.js";
import { trainAlignment } from "../../src/align/train.js";
import { writeBundle } from "../../src/app/model-bundle.js";
import { PIXEL_STATS_SETUP } from "../../src/app/vision-setup.js";
import { encodeWorldFeatures } from "../../src/cli/demo-stages/features.js";
import { buildVocabulary } from "../../src/data/vocabulary.js";
import { loadCaptionData, normalizeCaptionData } from "../../src/generate/caption-data.js";
import { trainGenerator } from "../../src/generate/train.js";
import { type GeneratedWorld, generateWorld } from "../../src/world/generate.js";
import { worldToDataset } from "../../src/world/world-file.js";

/** A synthetic world with small trained models and a bundle of them. */
export interface TrainedWorld {
  readonly world: GeneratedWorld;
  readonly alignment: string;
  readonly generator: string;
  readonly bundleDir: string;
}

/**
 * Generates a world of `images` images in `dir`, trains a small alignment model for
 * `alignEpochs` epochs and a small generator, and writes a bundle whose region
 * generator is the full-frame one (enough to exercise the region captions' plumbing).
 */
export async function trainedWorld(
  dir: string,
  options: { images?: number; alignEpochs?: number } = {},
): Promise<TrainedWorld> {
  const world = await generateWorld(join(dir, "world"), { images: options.images ?? 80, seed: 3 });
  const store = await encodeWorldFeatures(world, join(dir, "features"));
  const dataset = worldToDataset(world.world);
  const splits = loadSplitFeatures(store, dataset, ["train", "val"], 20);
  const align = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    out: join(dir, "align"),
    model: { embed: 48, hidden: 32, wordDim: 24 },
    train: { epochs: options.alignEpochs ?? 1, batchSize: 10, lr: 3e-4, dropout: 0 },
  });
  const vocabulary = buildVocabulary(dataset);
  const { data, normalizer } = normalizeCaptionData(
    loadCaptionData(dataset, store, vocabulary, { mode: "fullframe" }),
  );
  const gen = trainGenerator({
    data,
    mode: "fullframe",
    vocabulary,
    normalizer,
    model: { cell: "rnn", hidden: 32, embed: 16, dropout: 0 },
    training: { epochs: 20, batchSize: 20, lr: 1e-2, warmup: 5, lrDecay: 1, valCaptions: 1 },
    out: join(dir, "generator"),
  });
  const bundleDir = join(dir, "bundle");
  writeBundle(bundleDir, {
    alignment: align.bestPath,
    generator: gen.bestPath,
    regionGenerator: gen.bestPath,
    vision: PIXEL_STATS_SETUP,
  });
  return { world, alignment: align.bestPath, generator: gen.bestPath, bundleDir };
}

/** Makes the index at `dir` one written before cluster summaries: their file and field gone. */
export function withoutClusterSummaries(dir: string): void {
  rmSync(join(dir, "cluster-summary.bin"));
  const manifest = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  delete manifest.summaryClusters;
  writeFileSync(join(dir, "index.json"), JSON.stringify(manifest));
}

/** Makes the index at `dir` one written before fine sketches: their files and manifest field gone. */
export function withoutFineSketches(dir: string): void {
  rmSync(join(dir, "fine-sketch.bin"));
  rmSync(join(dir, "fine-sketch-projection.bin"));
  const manifest = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  delete manifest.fineSketchDims;
  writeFileSync(join(dir, "index.json"), JSON.stringify(manifest));
}
