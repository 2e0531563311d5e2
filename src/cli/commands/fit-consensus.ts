import { loadDataset } from "../../data/load.js";
import { buildVocabulary, DEFAULT_MIN_COUNT } from "../../data/vocabulary.js";
import { InputError } from "../../errors.js";
import { loadCaptionData } from "../../generate/caption-data.js";
import { DEFAULT_CONSENSUS_DIMS, SnippetConsensus } from "../../generate/snippet-consensus.js";
import { readSnippets } from "../../mrf/snippets.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

const USAGE = renderHelp({
  usage: ["fit-consensus --dataset D --features STORE --snippets FILE --out FILE [--dims N]"],
  description: `Fits the region phrases' snippet consensus (docs/generator.md, "Consensus with
    the nearest train regions"): each train region that has snippets (imagesent align --phrases
    noun), its CNN code in a few principal directions and its snippets. The file goes into a
    bundle (models bundle create --region-consensus), where describe ranks each region's phrases
    by how well they agree with what was said of the train regions nearest it; eval-regions
    measures it. Only the train split's snippets are read: no region annotation.`,
  flags: [
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--features STORE",
      text: "the feature store the snippets' regions are in (the region generator's)",
    },
    {
      flag: "--snippets FILE",
      text: "snippets JSONL (imagesent align); other splits' are skipped",
    },
    { flag: "--out FILE", text: "the consensus file, written atomically" },
    {
      flag: "--dims N",
      text: "principal directions regions are compared in",
      default: DEFAULT_CONSENSUS_DIMS,
    },
  ],
  examples: [
    "fit-consensus --dataset path/to/flickr8k --features features/flickr8k-proposals --snippets runs/flickr8k/phrases.jsonl --out runs/flickr8k/region-consensus.ckpt",
  ],
});

export const fitConsensusCommand: Command = {
  name: "fit-consensus",
  usage: USAGE,
  run(args) {
    const values = parseCommandArgs(
      args,
      {
        dataset: { type: "string" },
        features: { type: "string" },
        snippets: { type: "string" },
        out: { type: "string" },
        dims: { type: "string" },
      },
      USAGE,
      { positionals: false },
    ).values as {
      dataset?: string;
      features?: string;
      snippets?: string;
      out?: string;
      dims?: string;
    };
    if (!values.dataset || !values.features || !values.snippets || !values.out) {
      throw new InputError(`--dataset, --features, --snippets and --out are required\n\n${USAGE}`);
    }
    const dims =
      numberFlag(values.dims, "--dims", { integer: true, min: 1 }) ?? DEFAULT_CONSENSUS_DIMS;
    const dataset = loadDataset(values.dataset);
    const store = FeatureStore.open(values.features);
    const data = loadCaptionData(
      dataset,
      store,
      buildVocabulary(dataset, { minCount: DEFAULT_MIN_COUNT }),
      { mode: "region", snippets: readSnippets(values.snippets), featureSplits: ["train"] },
    );
    const train = data.splits.train;
    if (train.targets.length === 0) {
      throw new InputError(
        `${values.snippets}: no snippet on a train image of ${values.dataset} that ${values.features} holds`,
      );
    }
    const consensus = SnippetConsensus.fit(train, data.dim, dims);
    consensus.save(values.out);
    const snippets = consensus.snippets.reduce((n, s) => n + s.length, 0);
    console.log(
      `${values.out}: ${consensus.regions} train regions, ${snippets} snippets, compared in ${consensus.projection.dims} principal directions`,
    );
    return 0;
  },
};
