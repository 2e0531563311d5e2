import {
  DEFAULT_ALIGNMENT_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  RANKING_LOSS_KINDS,
  type RankingLossKind,
} from "../../align/config.js";
import { loadSplitFeatures } from "../../align/image-features.js";
import { type AlignmentProgress, formatRetrieval, trainAlignment } from "../../align/train.js";
import { loadDataset } from "../../data/load.js";
import { DEFAULT_MIN_COUNT } from "../../data/vocabulary.js";
import { InputError } from "../../errors.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";
import { formatSeconds, Progress } from "../progress.js";
import { MAX_EPOCHS } from "../training-flags.js";

const USAGE = renderHelp({
  usage: ["train-align --dataset D --features STORE --out DIR [options]"],
  description: `Trains the alignment model of section 3.1 (region embedding, BRNN over the words,
    the score S_kl = sum_t max_i v_i . s_t and its bidirectional max-margin loss) on the train
    split, with image-sentence retrieval on the val split after every epoch. DIR gets best.ckpt
    (best val R@1+5+10 sum), last.ckpt (written every --checkpoint-every iterations: rerun the same
    command after a kill to resume) and summary.json (per-epoch history, wall time, sentences/s).`,
  flags: [
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--features STORE",
      text: "feature store of the dataset's images (imagesent features)",
    },
    { flag: "--out DIR", text: "run folder (resumed when it holds last.ckpt)" },
    {
      flag: "--regions N",
      text: "regions per image: 20, or 1 for whole images only",
      default: DEFAULT_ALIGNMENT_CONFIG.regions,
    },
    {
      flag: "--init CKPT",
      text: `start from a trained model's weights (its shape and vocabulary; a fresh optimiser),
        e.g. to fine-tune with --loss hardest`,
    },
    {
      flag: "--embed H",
      text: "multimodal embedding size h",
      default: DEFAULT_ALIGNMENT_CONFIG.embed,
    },
    { flag: "--hidden N", text: "BRNN hidden size", default: DEFAULT_ALIGNMENT_CONFIG.hidden },
    { flag: "--word-dim N", text: "word vector size", default: DEFAULT_ALIGNMENT_CONFIG.wordDim },
    { flag: "--freeze-words", text: "keep the (random) word vectors fixed" },
    {
      flag: "--min-count N",
      text: "vocabulary: words seen this often in train",
      default: DEFAULT_MIN_COUNT,
    },
    {
      flag: "--epochs N",
      text: `training epochs, at most ${MAX_EPOCHS}; may be raised when resuming`,
      default: DEFAULT_TRAIN_CONFIG.epochs,
    },
    {
      flag: "--batch N",
      text: "image-sentence pairs per batch, at least 2",
      default: DEFAULT_TRAIN_CONFIG.batchSize,
    },
    { flag: "--lr X", text: "SGD learning rate", default: DEFAULT_TRAIN_CONFIG.lr },
    {
      flag: "--lr-decay X",
      text: "learning rate factor per epoch, up to 1",
      default: DEFAULT_TRAIN_CONFIG.lrDecay,
    },
    {
      flag: "--warmup N",
      text: "iterations of linear learning-rate warmup",
      default: DEFAULT_TRAIN_CONFIG.warmup,
    },
    {
      flag: "--momentum X",
      text: "SGD momentum, 0 to 0.999",
      default: DEFAULT_TRAIN_CONFIG.momentum,
    },
    {
      flag: "--weight-decay X",
      text: "L2 on weight matrices",
      default: DEFAULT_TRAIN_CONFIG.weightDecay,
    },
    {
      flag: "--dropout P",
      text: "on the CNN codes, word vectors and BRNN output, 0 to 0.95",
      default: DEFAULT_TRAIN_CONFIG.dropout,
    },
    { flag: "--clip X", text: "elementwise gradient clip", default: DEFAULT_TRAIN_CONFIG.clip },
    { flag: "--margin X", text: "ranking margin", default: DEFAULT_TRAIN_CONFIG.margin },
    {
      flag: "--loss sum|hardest",
      text: "the paper's sum over negatives, or VSE++'s hardest negative",
      default: DEFAULT_TRAIN_CONFIG.loss,
    },
    {
      flag: "--checkpoint-every N",
      text: "iterations between resumable checkpoints",
      default: DEFAULT_TRAIN_CONFIG.checkpointEvery,
    },
    { flag: "--seed S", text: "random seed", default: DEFAULT_TRAIN_CONFIG.seed },
    {
      flag: "--max-minutes M",
      text: "start no epoch that would end after M minutes of wall time",
      default: "no limit",
    },
  ],
  examples: [
    "train-align --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/align",
    "train-align --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/align-whole --regions 1",
  ],
});

/** Draws trainAlignment's progress as one Progress line per epoch (on stderr). */
export function alignmentProgress(): (event: AlignmentProgress) => void {
  let progress: Progress | null = null;
  return (event) => {
    if (event.kind === "epoch-start") {
      progress = new Progress({
        label: `epoch ${event.epoch}/${event.epochs}`,
        total: event.sentences,
        unit: "sentences",
      });
      progress.tick(event.done);
    } else if (event.kind === "batch") {
      progress?.tick(event.sentences, event.status);
    } else {
      progress?.finish();
      progress = null;
    }
  };
}

export const trainAlignCommand: Command = {
  name: "train-align",
  usage: USAGE,
  run(args) {
    const str = { type: "string" } as const;
    const { values } = parseCommandArgs(
      args,
      {
        dataset: str,
        features: str,
        out: str,
        regions: str,
        embed: str,
        hidden: str,
        "word-dim": str,
        "freeze-words": { type: "boolean" },
        init: str,
        "min-count": str,
        epochs: str,
        batch: str,
        lr: str,
        "lr-decay": str,
        momentum: str,
        warmup: str,
        "weight-decay": str,
        dropout: str,
        clip: str,
        margin: str,
        loss: str,
        "checkpoint-every": str,
        seed: str,
        "max-minutes": str,
      },
      USAGE,
      { positionals: false },
    );
    const { dataset: datasetPath, features, out } = values as Record<string, string | undefined>;
    if (!datasetPath || !features || !out) {
      throw new InputError(`--dataset, --features and --out are required\n\n${USAGE}`);
    }
    const int = (flag: string, min = 1, max?: number) =>
      numberFlag(values[flag] as string | undefined, `--${flag}`, { integer: true, min, max });
    const num = (flag: string, min: number, max?: number) =>
      numberFlag(values[flag] as string | undefined, `--${flag}`, { min, max });
    const loss = values.loss as string | undefined;
    if (loss !== undefined && !RANKING_LOSS_KINDS.includes(loss as RankingLossKind)) {
      throw new InputError(`--loss: expected ${RANKING_LOSS_KINDS.join(" or ")}, got '${loss}'`);
    }
    const regions = int("regions") ?? DEFAULT_ALIGNMENT_CONFIG.regions;
    // Every flag is checked before any data is read.
    const options = {
      out,
      minCount: int("min-count"),
      ...(values.init ? { init: values.init as string } : {}),
      maxSeconds: values["max-minutes"] === undefined ? undefined : num("max-minutes", 0)! * 60,
      model: {
        regions,
        embed: int("embed"),
        hidden: int("hidden"),
        wordDim: int("word-dim"),
        trainWordVectors: values["freeze-words"] ? false : undefined,
      },
      train: {
        epochs: int("epochs", 1, MAX_EPOCHS),
        batchSize: int("batch", 2),
        lr: num("lr", 1e-12),
        lrDecay: num("lr-decay", 1e-12, 1),
        momentum: num("momentum", 0, 0.999),
        warmup: int("warmup", 0),
        weightDecay: num("weight-decay", 0),
        dropout: num("dropout", 0, 0.95),
        clip: num("clip", 1e-12),
        margin: num("margin", 0),
        loss: loss as RankingLossKind | undefined,
        checkpointEvery: int("checkpoint-every"),
        seed: int("seed", 0),
      },
    };
    const dataset = loadDataset(datasetPath);
    const store = FeatureStore.open(features);
    const log = (line: string) => console.log(line);
    const splits = loadSplitFeatures(store, dataset, ["train", "val"], regions);
    const train = splits.get("train")!;
    const val = splits.get("val")!;
    for (const s of [train, val]) {
      if (s.missing.length > 0) {
        log(
          `warning: ${s.missing.length} images are not in ${features} (e.g. ${s.missing[0]}); left out`,
        );
      }
    }
    if (train.images.length === 0 || val.images.length < 2) {
      throw new InputError(
        `${features}: needs features of train images and of at least 2 val images`,
      );
    }
    const result = trainAlignment(dataset, train, val, {
      ...options,
      log,
      onProgress: alignmentProgress(),
    });
    log(
      `trained in ${formatSeconds(result.wallSeconds)} wall (${formatSeconds(result.trainSeconds)} of updates, ` +
        `${result.sentencesPerSecond.toFixed(0)} sentences/s)`,
    );
    if (result.best)
      log(`best: epoch ${result.best.epoch}, val ${formatRetrieval(result.best.val)}`);
    log(`model: ${result.bestPath}`);
    return 0;
  },
};
