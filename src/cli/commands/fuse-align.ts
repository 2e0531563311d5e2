import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { loadSplitFeatures } from "../../align/image-features.js";
import { AlignmentModel } from "../../align/model.js";
import { recallSum, splitSentences } from "../../align/retrieval.js";
import { AlignmentFusion, memberScores, tuneFusionWeights } from "../../align/score-fusion.js";
import { formatRetrieval } from "../../align/train.js";
import { SPLITS, type Split } from "../../data/dataset.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberListFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

const DEFAULT_GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1, 1.25, 1.5, 2];

const USAGE = renderHelp({
  usage: [
    "fuse-align --model CKPT --model CKPT2 [...] --dataset D --features STORE --out FUSION.json [--split val] [--grid LIST]",
  ],
  description: `Fuses alignment models into one scorer, S_kl = sum_m w_m S^m_kl, say the 20-region
    model and the whole-image one: the first keeps weight 1, each other gets the weight of the grid
    with the best val R@1+5+10 sum (scores are divided by their spread on val first, so weights
    compare). FUSION.json names the checkpoints (relative paths) and the weights; eval-retrieval
    and 'models bundle create --alignment' take it wherever they take a checkpoint, and a bundle
    made from it searches with all its models.`,
  flags: [
    {
      flag: "--model CKPT",
      text: "an alignment model (train-align's best.ckpt); two or more, the first leads",
    },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    { flag: "--features STORE", text: "the feature store of the dataset's images" },
    { flag: "--out FILE", text: "the fusion to write (JSON)" },
    { flag: "--split S", text: "the split weights are tuned on (never test)", default: "val" },
    {
      flag: "--grid LIST",
      text: "comma-separated relative weights tried, each >= 0",
      default: DEFAULT_GRID.join(","),
    },
  ],
  examples: [
    "fuse-align --model runs/flickr8k/align/best.ckpt --model runs/flickr8k/align-whole/best.ckpt --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/align-fused.json",
  ],
});

export const fuseAlignCommand: Command = {
  name: "fuse-align",
  usage: USAGE,
  run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        model: { type: "string", multiple: true },
        dataset: { type: "string" },
        features: { type: "string" },
        out: { type: "string" },
        split: { type: "string" },
        grid: { type: "string" },
      },
      USAGE,
    );
    const models = values.model as string[] | undefined;
    if (positionals.length > 0) {
      throw new InputError(`unexpected argument ${positionals[0]}\n\n${USAGE}`);
    }
    if (!models || models.length < 2 || !values.dataset || !values.features || !values.out) {
      throw new InputError(
        `two or more --model, and --dataset, --features and --out are required\n\n${USAGE}`,
      );
    }
    const split = (values.split ?? "val") as Split;
    if (!SPLITS.includes(split) || split === "test") {
      throw new InputError(`--split: expected train or val (weights are never tuned on test)`);
    }
    const grid =
      numberListFlag(values.grid as string | undefined, "--grid", { min: 0 }) ?? DEFAULT_GRID;
    const loaded = models.map((path) => ({ path, model: AlignmentModel.load(path).model }));
    const regions = Math.max(...loaded.map((m) => m.model.config.regions));
    const dataset = loadDataset(values.dataset as string);
    const store = FeatureStore.open(values.features as string);
    const data = loadSplitFeatures(store, dataset, [split], regions).get(split)!;
    if (data.missing.length > 0) {
      throw new InputError(
        `${values.features}: lacks ${data.missing.length} ${split} images (e.g. ${data.missing[0]})`,
      );
    }
    const { sentences, imageOf } = splitSentences(data.images);
    const matrices = loaded.map(({ path, model }) => {
      console.log(`scoring ${split} with ${path}`);
      return memberScores(model, data.features, data.images.length, regions, sentences);
    });
    const tuned = tuneFusionWeights(matrices, data.images.length, imageOf, grid);
    const fusion = new AlignmentFusion(
      loaded.map(({ path, model }, m) => ({
        model,
        checkpoint: path,
        weight: tuned.relative[m] / tuned.spreads[m],
      })),
      {
        split,
        relativeWeights: tuned.relative,
        scoreSpreads: tuned.spreads,
        result: tuned.result,
      },
    );
    loaded.forEach(({ path }, m) => {
      console.log(`  ${path}: relative weight ${tuned.relative[m]}`);
    });
    console.log(
      `fused on ${split}: ${formatRetrieval(tuned.result)} (R@1+5+10 sum ${recallSum(tuned.result).toFixed(1)})`,
    );
    mkdirSync(dirname(values.out as string), { recursive: true });
    fusion.save(values.out as string);
    console.log(`wrote ${values.out}`);
    return 0;
  },
};
