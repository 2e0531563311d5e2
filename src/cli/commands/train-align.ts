import { parseArgs } from "node:util";
import {
  DEFAULT_ALIGNMENT_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  RANKING_LOSS_KINDS,
  type RankingLossKind,
} from "../../align/config.js";
import { loadSplitFeatures } from "../../align/image-features.js";
import { type AlignmentProgress, formatRetrieval, trainAlignment } from "../../align/train.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { formatSeconds, Progress } from "../progress.js";
import { integerFlag, MAX_EPOCHS, realFlag } from "../training-flags.js";

const USAGE = `usage: imagesent train-align --dataset D --features STORE --out DIR [options]

Trains the alignment model of section 3.1 (region embedding, BRNN over the words, the score
S_kl = sum_t max_i v_i . s_t and its bidirectional max-margin loss) on the train split, with
image-sentence retrieval on the val split after every epoch. DIR gets best.ckpt (best val
R@1+5+10 sum), last.ckpt (written every --checkpoint-every iterations: rerun the same command
after a kill to resume) and summary.json (per-epoch history, wall time, sentences/s).

  --dataset D            dataset.json or Flickr8k folder
  --features STORE       feature store of the dataset's images (imagesent features)
  --out DIR              run folder (resumed when it holds last.ckpt)
  --regions N            regions per image: 20 (default) or 1 for whole images only
  --init CKPT            start from a trained model's weights (its shape and vocabulary; a
                         fresh optimiser), e.g. to fine-tune with --loss hardest
  --embed H              multimodal embedding size h (default ${DEFAULT_ALIGNMENT_CONFIG.embed})
  --hidden N             BRNN hidden size (default ${DEFAULT_ALIGNMENT_CONFIG.hidden})
  --word-dim N           word vector size (default ${DEFAULT_ALIGNMENT_CONFIG.wordDim})
  --freeze-words         keep the (random) word vectors fixed
  --min-count N          vocabulary: words seen this often in train (default 5)
  --epochs N             (default ${DEFAULT_TRAIN_CONFIG.epochs}); may be raised when resuming
  --batch N              image-sentence pairs per batch (default ${DEFAULT_TRAIN_CONFIG.batchSize})
  --lr X                 SGD learning rate (default ${DEFAULT_TRAIN_CONFIG.lr})
  --lr-decay X           learning rate factor per epoch (default ${DEFAULT_TRAIN_CONFIG.lrDecay})
  --warmup N             iterations of linear learning-rate warmup (default ${DEFAULT_TRAIN_CONFIG.warmup})
  --momentum X           (default ${DEFAULT_TRAIN_CONFIG.momentum})
  --weight-decay X       L2 on weight matrices (default ${DEFAULT_TRAIN_CONFIG.weightDecay})
  --dropout P            on the CNN codes, word vectors and BRNN output (default ${DEFAULT_TRAIN_CONFIG.dropout})
  --clip X               elementwise gradient clip (default ${DEFAULT_TRAIN_CONFIG.clip})
  --margin X             ranking margin (default ${DEFAULT_TRAIN_CONFIG.margin})
  --loss sum|hardest     the paper's sum over negatives (default) or VSE++'s hardest negative
  --checkpoint-every N   iterations between resumable checkpoints (default ${DEFAULT_TRAIN_CONFIG.checkpointEvery})
  --seed S               (default ${DEFAULT_TRAIN_CONFIG.seed})
  --max-minutes M        start no epoch that would end after M minutes of wall time`;

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
  summary: "train the region-word alignment model (BRNN + ranking loss) with val retrieval",
  usage: USAGE,
  run(args) {
    let values: Record<string, string | boolean | undefined>;
    const str = { type: "string" } as const;
    try {
      ({ values } = parseArgs({
        args,
        options: {
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
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new InputError(`${(err as Error).message}\n\n${USAGE}`);
    }
    const { dataset: datasetPath, features, out } = values as Record<string, string | undefined>;
    if (!datasetPath || !features || !out) {
      throw new InputError(`--dataset, --features and --out are required\n\n${USAGE}`);
    }
    const int = (flag: string, min = 1, max?: number) =>
      integerFlag(values[flag] as string | undefined, `--${flag}`, min, max);
    const num = (flag: string, min: number, max?: number) =>
      realFlag(values[flag] as string | undefined, `--${flag}`, min, max);
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
