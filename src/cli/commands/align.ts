import { resolve } from "node:path";
import { AlignmentModel } from "../../align/model.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { alignToSnippets } from "../../mrf/align-split.js";
import { fitGroundingKnowledge } from "../../mrf/grounding-knowledge.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberFlag, positiveInt } from "../flags.js";
import { renderHelp } from "../help.js";
import { parseBeta, parseFlags, parseSplit, required } from "../mrf-flags.js";
import { Progress } from "../progress.js";

const USAGE = renderHelp({
  usage: ["align --model CKPT --dataset D --features STORE --out SNIPPETS [options]"],
  description: `Aligns every sentence of a split to its image's regions with the chain MRF
    (section 3.1.4) and writes the contiguous segments as the region-snippet dataset (JSONL, one
    snippet a line: file, image and sentence ids, region row and box, tokens, [start, end), mean
    score; src/mrf/snippets.ts) that the region-level generator trains on. The file is appended to
    as the run goes, with a marker SNIPPETS.progress; rerunning the same command after a kill
    resumes where it stopped.`,
  flags: [
    { flag: "--model CKPT", text: "alignment model (imagesent train-align)" },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--features STORE",
      text: "feature store of the dataset's images (imagesent features)",
    },
    { flag: "--split S", text: "split to align", default: "train" },
    { flag: "--out SNIPPETS", text: "snippet file (created, or resumed)" },
    {
      flag: "--beta B",
      text: `the MRF's reward for neighbouring words sharing a region; 0 aligns each word alone,
        large values the whole sentence to one region`,
      default: DEFAULT_BETA,
    },
    {
      flag: "--phrases P",
      text: `mrf: the chain MRF's segments; noun: the sentence's noun phrases, each on the region
        the learned chooser gives it (docs/phrase-alignment.md), scored by its confidence`,
      default: "mrf",
    },
    {
      flag: "--min-confidence C",
      text: "with --phrases noun: leave out phrases less confident than C",
      default: 0,
    },
    { flag: "--limit N", text: "only the first N images of the split", default: "all" },
  ],
  examples: [
    "align --model runs/flickr8k/align/best.ckpt --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/snippets.jsonl",
  ],
});

export const alignCommand: Command = {
  name: "align",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      [
        "model",
        "dataset",
        "features",
        "split",
        "out",
        "beta",
        "phrases",
        "min-confidence",
        "limit",
      ],
      USAGE,
    );
    required(values, ["model", "dataset", "features", "out"], USAGE);
    if (positionals.length > 0)
      throw new InputError(`unexpected argument ${positionals[0]}\n\n${USAGE}`);
    const split = parseSplit(values.split ?? "train");
    const beta = parseBeta(values.beta);
    const limit =
      values.limit === undefined ? Number.POSITIVE_INFINITY : positiveInt(values.limit, "--limit");
    const { model } = AlignmentModel.load(values.model!);
    const dataset = loadDataset(values.dataset!);
    const store = FeatureStore.open(values.features!);
    const images = dataset.images.filter((im) => im.split === split).slice(0, limit);
    if (images.length === 0) throw new InputError(`${values.dataset}: no images in split ${split}`);
    let progress: Progress | undefined;
    const phrases = values.phrases ?? "mrf";
    if (phrases !== "mrf" && phrases !== "noun") {
      throw new InputError(`--phrases: expected mrf or noun, got ${JSON.stringify(phrases)}`);
    }
    if (phrases === "mrf" && values["min-confidence"] !== undefined) {
      throw new InputError("--min-confidence applies to --phrases noun only");
    }
    const minConfidence = numberFlag(values["min-confidence"] ?? "0", "--min-confidence", {
      min: 0,
    });
    const { sentences } = alignToSnippets({
      scorer: model,
      ...(phrases === "noun"
        ? {
            phrases: {
              knowledge: fitGroundingKnowledge(dataset.images, store, model.config.regions),
              minConfidence,
            },
          }
        : {}),
      images,
      store,
      out: values.out!,
      beta,
      settings: {
        model: resolve(values.model!),
        features: resolve(values.features!),
        dataset: resolve(values.dataset!),
        split,
      },
      onStart(done, total) {
        if (done > 0) console.error(`resuming: ${done} of ${total} sentences already aligned`);
        progress = new Progress({ label: "aligning", total, unit: "sentences" });
        progress.tick(done);
      },
      onSentence: (snippets) => progress?.tick(1, `${snippets} snippets`),
    });
    progress?.finish();
    console.log(`${values.out}: ${sentences} sentences aligned (beta ${beta})`);
    return 0;
  },
};
