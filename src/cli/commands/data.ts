import { describeSource, loadDataset, locateDataset } from "../../data/load.js";
import { computeDatasetStats, formatDatasetStats } from "../../data/stats.js";
import { DEFAULT_MIN_COUNT } from "../../data/vocabulary.js";
import { InputError } from "../../errors.js";
import type { Command } from "../command.js";
import { parseCommandArgs, positiveInt } from "../flags.js";
import { renderHelp } from "../help.js";

const usage = renderHelp({
  usage: ["data stats DATASET [--min-count N] [--json]"],
  description: `Prints images and sentences per split, tokens, mean sentence length, the share of
    words outside the vocabulary, and the vocabulary size (words seen at least N times in the train
    split).`,
  args: [
    {
      flag: "DATASET",
      text: `a Karpathy dataset.json, or a directory holding one dataset*.json or the Flickr8k
        files (Flickr8k.token.txt and Flickr_8k.{train,dev,test}Images.txt)`,
    },
  ],
  flags: [
    {
      flag: "--min-count N",
      text: "vocabulary threshold, as in the paper",
      default: DEFAULT_MIN_COUNT,
    },
    { flag: "--json", text: "print one JSON object instead of the table" },
  ],
  examples: ["data stats path/to/flickr8k", "data stats path/to/dataset_flickr8k.json --json"],
});

export const dataCommand: Command = {
  name: "data",
  usage,
  run(args) {
    const [sub, ...rest] = args;
    if (sub !== "stats") {
      throw new InputError(
        `${sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`}\n\n${usage}`,
      );
    }
    const { values, positionals } = parseCommandArgs(
      rest,
      { "min-count": { type: "string" }, json: { type: "boolean" } },
      usage,
    );
    if (positionals.length !== 1) {
      throw new InputError(`expected one DATASET path, got ${positionals.length}\n\n${usage}`);
    }
    const minCount =
      values["min-count"] === undefined
        ? DEFAULT_MIN_COUNT
        : positiveInt(values["min-count"] as string, "--min-count");
    const source = locateDataset(positionals[0]!);
    const stats = computeDatasetStats(loadDataset(source), { minCount });
    if (values.json) {
      console.log(JSON.stringify({ source, ...stats }));
    } else {
      console.log(`read ${describeSource(source)}\n`);
      console.log(formatDatasetStats(stats));
    }
    return 0;
  },
};
