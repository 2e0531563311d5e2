import { resolve } from "node:path";
import { AlignmentModel } from "../../align/model.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { alignToSnippets } from "../../mrf/align-split.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { positiveInt } from "../flags.js";
import { parseBeta, parseFlags, parseSplit, required } from "../mrf-flags.js";
import { Progress } from "../progress.js";

const USAGE = `usage: imagesent align --model CKPT --dataset D --features STORE --out SNIPPETS [options]

Aligns every sentence of a split to its image's regions with the chain MRF (section 3.1.4) and
writes the contiguous segments as the region-snippet dataset (JSONL, one snippet a line: file,
image and sentence ids, region row and box, tokens, [start, end), mean score; src/mrf/snippets.ts)
that the region-level generator trains on. The file is appended to as the run goes, with a marker
SNIPPETS.progress; rerunning the same command after a kill resumes where it stopped.

  --model CKPT     alignment model (imagesent train-align)
  --dataset D      dataset.json or Flickr8k folder
  --features STORE feature store of the dataset's images (imagesent features)
  --split S        split to align (default train)
  --out SNIPPETS   snippet file (created, or resumed)
  --beta B         the MRF's reward for neighbouring words sharing a region (default ${DEFAULT_BETA});
                   0 aligns each word alone, large values the whole sentence to one region
  --limit N        only the first N images of the split`;

export const alignCommand: Command = {
  name: "align",
  summary: "align each sentence's phrases to image regions (chain MRF) into a snippet dataset",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      ["model", "dataset", "features", "split", "out", "beta", "limit"],
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
    const { sentences } = alignToSnippets({
      scorer: model,
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
