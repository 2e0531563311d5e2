import { join } from "node:path";
import { parseArgs } from "node:util";
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
import { formatSeconds, Progress } from "../progress.js";
import { integerFlag, MAX_EPOCHS, realFlag } from "../training-flags.js";

const T = DEFAULT_TRAINING;
const USAGE = `usage: imagesent train-gen --dataset D --features STORE --out DIR [options]

Trains the multimodal RNN caption generator (section 3.2 of the paper) on train, validating
perplexity and CIDEr-D on val after every epoch. DIR/best.ckpt is the model with the best val
CIDEr-D so far; DIR/last.ckpt holds the optimiser and RNG too, and rerunning the same command
resumes from it.

  --mode M            fullframe (default): whole images (feature-store row 0) and their
                      sentences; region: regions and the snippets aligned to them (--snippets)
  --dataset D         dataset.json or Flickr8k folder
  --features STORE    feature store of the dataset's images (imagesent features)
  --snippets FILE     region-snippet JSONL from the MRF alignment (region mode)
  --out DIR           where checkpoints go
  --cell C            rnn (default, the paper's) or lstm
  --hidden N          hidden units (default ${DEFAULT_MODEL.hidden})
  --embed N           word-vector size (default ${DEFAULT_MODEL.embed})
  --dropout P         dropout on image code, word vectors and output layer (default ${DEFAULT_MODEL.dropout})
  --min-count N       keep words seen at least N times in train (default ${DEFAULT_MIN_COUNT})
  --epochs N          (default ${T.epochs})
  --batch N           sentences per update (default ${T.batchSize})
  --lr X              RMSprop learning rate (default ${T.lr})
  --rms-decay X       RMSprop cache decay (default ${T.rmsDecay})
  --weight-decay X    L2 on weight matrices (default ${T.weightDecay})
  --clip X            elementwise gradient clip (default ${T.clip})
  --warmup N          iterations of linear learning-rate warm-up (default ${T.warmup})
  --lr-decay X        learning-rate factor per epoch (default ${T.lrDecay})
  --eval-every N      validate every N iterations (default: once per epoch)
  --val-beam N        beam for the validation CIDEr-D (default ${T.valBeam})
  --val-captions N    val targets decoded for CIDEr-D (default: all)
  --max-minutes X     stop (checkpointed, resumable) after X minutes
  --limit N           at most N targets per split (quick runs)
  --restval           train on restval too
  --seed N            (default ${T.seed})`;

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
  summary: "train the multimodal RNN caption generator (full images or regions)",
  usage: USAGE,
  run(args) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: "string" as const }])),
          restval: { type: "boolean" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new InputError(`${(err as Error).message}\n\n${USAGE}`);
    }
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
      integerFlag(str(k), `--${k}`, min, max) ?? fallback;
    const real = (k: string, fallback: number, min = 0, max?: number) =>
      realFlag(str(k), `--${k}`, min, max) ?? fallback;
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
