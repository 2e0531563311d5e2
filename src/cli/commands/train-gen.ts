import { join } from "node:path";
import { loadDataset } from "../../data/load.js";
import { buildVocabulary, DEFAULT_MIN_COUNT } from "../../data/vocabulary.js";
import { InputError } from "../../errors.js";
import {
  CAPTION_MODES,
  type CaptionMode,
  loadCaptionData,
  normalizeCaptionData,
} from "../../generate/caption-data.js";
import { CELL_KINDS, type CellKind, DEFAULT_MODEL } from "../../generate/caption-model.js";
import { DEFAULT_TRAINING, type TrainingOptions, trainGenerator } from "../../generate/train.js";
import { readSnippets } from "../../mrf/snippets.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";
import { formatSeconds, Progress } from "../progress.js";
import { MAX_EPOCHS } from "../training-flags.js";

const T = DEFAULT_TRAINING;
const USAGE = renderHelp({
  usage: ["train-gen --dataset D --features STORE --out DIR [options]"],
  description: `Trains the multimodal RNN caption generator (section 3.2 of the paper) on train,
    validating perplexity and CIDEr-D on val after every epoch. DIR/best.ckpt is the model with the
    best val CIDEr-D so far; DIR/last.ckpt holds the optimiser and RNG too, and rerunning the same
    command resumes from it.`,
  flags: [
    {
      flag: "--mode M",
      text: `fullframe: whole images (feature-store row 0) and their sentences; region: regions
        and the snippets aligned to them (--snippets)`,
      default: "fullframe",
    },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--features STORE",
      text: "feature store of the dataset's images (imagesent features)",
    },
    { flag: "--snippets FILE", text: "region-snippet JSONL from the MRF alignment (region mode)" },
    { flag: "--out DIR", text: "where checkpoints go" },
    { flag: "--cell C", text: "rnn (the paper's) or lstm", default: DEFAULT_MODEL.cell },
    { flag: "--hidden N", text: "hidden units", default: DEFAULT_MODEL.hidden },
    { flag: "--embed N", text: "word-vector size", default: DEFAULT_MODEL.embed },
    {
      flag: "--dropout P",
      text: "dropout on image code, word vectors and output layer, 0 to 0.99",
      default: DEFAULT_MODEL.dropout,
    },
    {
      flag: "--min-count N",
      text: "keep words seen at least N times in train",
      default: DEFAULT_MIN_COUNT,
    },
    { flag: "--epochs N", text: `training epochs, at most ${MAX_EPOCHS}`, default: T.epochs },
    { flag: "--batch N", text: "sentences per update", default: T.batchSize },
    { flag: "--lr X", text: "RMSprop learning rate", default: T.lr },
    { flag: "--rms-decay X", text: "RMSprop cache decay, below 1", default: T.rmsDecay },
    { flag: "--weight-decay X", text: "L2 on weight matrices", default: T.weightDecay },
    { flag: "--clip X", text: "elementwise gradient clip", default: T.clip },
    { flag: "--warmup N", text: "iterations of linear learning-rate warm-up", default: T.warmup },
    { flag: "--lr-decay X", text: "learning-rate factor per epoch, up to 1", default: T.lrDecay },
    { flag: "--eval-every N", text: "validate every N iterations", default: "once per epoch" },
    { flag: "--val-beam N", text: "beam for the validation CIDEr-D", default: T.valBeam },
    { flag: "--val-captions N", text: "val targets decoded for CIDEr-D", default: "all" },
    {
      flag: "--max-minutes X",
      text: "stop (checkpointed, resumable) after X minutes",
      default: "no limit",
    },
    { flag: "--limit N", text: "at most N targets per split (quick runs)", default: "all" },
    { flag: "--restval", text: "train on restval too" },
    { flag: "--seed N", text: "random seed", default: T.seed },
  ],
  examples: [
    "train-gen --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/gen",
    "train-gen --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/gen-lstm --cell lstm",
  ],
});

const STRING_FLAGS = [
  "mode",
  "dataset",
  "features",
  "snippets",
  "out",
  "cell",
  "hidden",
  "embed",
  "dropout",
  "min-count",
  "epochs",
  "batch",
  "lr",
  "rms-decay",
  "weight-decay",
  "clip",
  "warmup",
  "lr-decay",
  "eval-every",
  "val-beam",
  "val-captions",
  "max-minutes",
  "limit",
  "seed",
] as const;

export const trainGenCommand: Command = {
  name: "train-gen",
  usage: USAGE,
  run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: "string" as const }])),
        restval: { type: "boolean" },
      },
      USAGE,
      { positionals: false },
    );
    const str = (k: string) => values[k] as string | undefined;
    if (!str("dataset") || !str("features") || !str("out")) {
      throw new InputError(`--dataset, --features and --out are required\n\n${USAGE}`);
    }
    const mode = (str("mode") ?? "fullframe") as CaptionMode;
    if (!CAPTION_MODES.includes(mode)) {
      throw new InputError(`--mode: expected ${CAPTION_MODES.join(" or ")}, got '${mode}'`);
    }
    const cell = (str("cell") ?? DEFAULT_MODEL.cell) as CellKind;
    if (!CELL_KINDS.includes(cell)) {
      throw new InputError(`--cell: expected ${CELL_KINDS.join(" or ")}, got '${cell}'`);
    }
    if (mode === "region" && !str("snippets"))
      throw new InputError("--mode region needs --snippets");
    const int = (k: string, fallback: number, min = 1, max?: number) =>
      numberFlag(str(k), `--${k}`, { integer: true, min, max }) ?? fallback;
    const real = (k: string, fallback: number, min = 0, max?: number) =>
      numberFlag(str(k), `--${k}`, { min, max }) ?? fallback;
    const training: TrainingOptions = {
      batchSize: int("batch", T.batchSize),
      lr: real("lr", T.lr, 1e-12),
      rmsDecay: real("rms-decay", T.rmsDecay, 0, 0.999999),
      weightDecay: real("weight-decay", T.weightDecay),
      clip: real("clip", T.clip, 1e-12),
      warmup: int("warmup", T.warmup),
      lrDecay: real("lr-decay", T.lrDecay, 1e-6, 1),
      epochs: int("epochs", T.epochs, 1, MAX_EPOCHS),
      evalEvery: int("eval-every", T.evalEvery, 0),
      valBeam: int("val-beam", T.valBeam),
      valCaptions: int("val-captions", T.valCaptions, 0),
      maxLength: T.maxLength,
      maxMinutes: real("max-minutes", T.maxMinutes),
      seed: int("seed", T.seed, 0),
    };
    const limit = str("limit") === undefined ? undefined : int("limit", 0);
    const model = {
      cell,
      hidden: int("hidden", DEFAULT_MODEL.hidden),
      embed: int("embed", DEFAULT_MODEL.embed),
      dropout: real("dropout", DEFAULT_MODEL.dropout, 0, 0.99),
    };
    const minCount = int("min-count", DEFAULT_MIN_COUNT);

    const started = Date.now();
    const dataset = loadDataset(str("dataset")!);
    const vocabulary = buildVocabulary(dataset, { minCount });
    const store = FeatureStore.open(str("features")!);
    const snippets = mode === "region" ? readSnippets(str("snippets")!) : undefined;
    const raw = loadCaptionData(dataset, store, vocabulary, {
      mode,
      snippets,
      useRestval: values.restval === true,
      limit: limit === undefined ? undefined : { train: limit, val: limit, test: limit },
    });
    const { data, normalizer } = normalizeCaptionData(raw);
    const { train, val } = data.splits;
    console.error(
      `train-gen: ${mode}, ${cell}; vocabulary ${vocabulary.wordCount} words; ` +
        `train ${train.targets.length} targets / ${train.sentences.length} sentences, ` +
        `val ${val.targets.length} / ${val.sentences.length}; features ${data.dim}-d ` +
        `(loaded in ${formatSeconds((Date.now() - started) / 1000)})`,
    );
    const perEpoch = train.sentences.length;
    const progress = new Progress({
      label: "train-gen",
      total: perEpoch * training.epochs,
      unit: "sentences",
    });
    const result = trainGenerator({
      data,
      mode,
      vocabulary,
      normalizer,
      model,
      training,
      out: str("out")!,
      onIteration: (n, status) => progress.tick(n, status),
      log: (line) => console.error(`\ntrain-gen: ${line}`),
    });
    progress.finish();
    const s = result.speed;
    console.error(
      `train-gen: ${s.sentences} sentences in ${formatSeconds(s.wallSeconds)} wall: ` +
        `${(s.sentences / s.seconds).toFixed(0)} sentences/s, ${(s.tokens / s.seconds).toFixed(0)} tokens/s while training`,
    );
    if (result.best) {
      console.error(
        `train-gen: best val CIDEr-D ${(100 * result.best.cider).toFixed(1)} (perplexity ` +
          `${result.best.perplexity.toFixed(2)}) at epoch ${result.best.epoch.toFixed(2)}: ${result.bestPath}`,
      );
    }
    console.log(join(str("out")!, "best.ckpt"));
    return 0;
  },
};
