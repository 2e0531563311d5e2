import { join } from "node:path";
import { loadSplitFeatures } from "../../align/image-features.js";
import { AlignmentModel } from "../../align/model.js";
import { evaluateRetrieval } from "../../align/retrieval.js";
import { formatRetrieval, trainAlignment } from "../../align/train.js";
import { wordGrounding } from "../../align/word-grounding.js";
import { worldToDataset } from "../../world/world-file.js";
import type { DemoStage } from "../commands/demo.js";
import { alignmentProgress } from "../commands/train-align.js";
import { formatSeconds } from "../progress.js";

/**
 * A small model learns the world's 49 words in seconds; batches of 25 give it enough updates
 * from a few hundred images.
 */
export const DEMO_ALIGNMENT = {
  model: { embed: 100, hidden: 50, wordDim: 50 },
  train: { epochs: 10, batchSize: 25, lr: 3e-4, dropout: 0 },
} as const;

export const alignStage: DemoStage = {
  name: "align",
  summary: "train the BRNN alignment model; image-sentence retrieval and word-to-box accuracy",
  async run(state, log) {
    const { world, features } = state;
    if (!world || !features) throw new Error("the align stage needs the world and features stages");
    const dataset = worldToDataset(world.world);
    const splits = loadSplitFeatures(features, dataset, ["train", "val", "test"], 20);
    const out = join(state.options.out, "align");
    const result = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
      out,
      log,
      onProgress: alignmentProgress(),
      ...DEMO_ALIGNMENT,
    });
    const model = AlignmentModel.load(result.bestPath).model;
    state.alignment = model;
    const test = splits.get("test")!;
    const { scores: _, ...retrieval } = evaluateRetrieval(
      model,
      test.images,
      model.normalize(test.features),
    );
    log("");
    log(
      `trained in ${formatSeconds(result.wallSeconds)} (${result.sentencesPerSecond.toFixed(0)} sentences/s)`,
    );
    log(
      `test retrieval (${retrieval.images} images, ${retrieval.sentences} sentences): ${formatRetrieval(retrieval)}`,
    );
    log(
      `  chance: R@1 ${(100 / retrieval.images).toFixed(1)} for search, median rank about ${Math.round(retrieval.images / 2)}`,
    );
    const byName = new Map(world.world.images.map((im) => [im.filename, im]));
    const size = test.regions * test.dim;
    const grounding = wordGrounding(
      model,
      test.images.map((im) => byName.get(im.filename)!),
      (k) => test.features.subarray(k * size, (k + 1) * size),
    );
    log(
      `object words whose best region overlaps their object's true box (IoU >= 0.5): ` +
        `${grounding.hits}/${grounding.words} (${(100 * grounding.accuracy).toFixed(1)}%)`,
    );
    log(`model (best epoch on val): ${result.bestPath}`);
  },
};
