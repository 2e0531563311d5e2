import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import {
  describeNonFinite,
  nonFiniteIn,
  nonFiniteParam,
  TrainingDivergedError,
} from "../core/divergence.js";
import { backward, give, Rng, Sgd, Tensor, take } from "../core/index.js";
import type { Dataset } from "../data/dataset.js";
import { buildVocabulary } from "../data/vocabulary.js";
import { InputError } from "../errors.js";
import { FeatureNormalizer } from "../vision/feature-normalizer.js";
import { epochBatches, type Pair } from "./batches.js";
import {
  type AlignmentConfig,
  DEFAULT_ALIGNMENT_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  type TrainConfig,
} from "./config.js";
import type { SplitFeatures } from "./image-features.js";
import { AlignmentModel } from "./model.js";
import { rankingLoss } from "./ranking-loss.js";
import { evaluateRetrieval, type RetrievalResult, recallSum } from "./retrieval.js";

/** The model's shape as a user chooses it; the rest comes from the data. */
export type ModelShape = Pick<
  AlignmentConfig,
  "regions" | "embed" | "hidden" | "wordDim" | "trainWordVectors"
>;

export interface TrainAlignmentOptions {
  /** Folder for last.ckpt (resumable) and best.ckpt (best validation recall sum). */
  readonly out: string;
  readonly model?: Partial<ModelShape>;
  readonly train?: Partial<TrainConfig>;
  /** Vocabulary: words seen at least this often in the train split (paper: 5). */
  readonly minCount?: number;
  readonly log?: (line: string) => void;
  /** Told of each epoch's start and each batch, e.g. to draw a progress line (the CLI does). */
  readonly onProgress?: (event: AlignmentProgress) => void;
  /**
   * Wall-clock budget for the run in seconds (resumed parts included): no epoch is started that
   * would, at the pace of the epochs so far, end after it.
   */
  readonly maxSeconds?: number;
  /**
   * A trained alignment checkpoint to start from instead of random weights (its shape,
   * vocabulary and feature normaliser are kept; the optimiser starts afresh): fine-tuning, e.g.
   * with the hardest-negative loss after the summed one.
   */
  readonly init?: string;
}

/** What training reports as it runs, in order: per epoch a start, its batches, an end. */
export type AlignmentProgress =
  | {
      readonly kind: "epoch-start";
      /** 1-based. */
      readonly epoch: number;
      readonly epochs: number;
      /** Sentences in the epoch, and those already done (a resumed epoch). */
      readonly sentences: number;
      readonly done: number;
    }
  | {
      readonly kind: "batch";
      /** Sentences in this batch; `status` has the smoothed loss and speed. */
      readonly sentences: number;
      readonly status: string;
    }
  /** The epoch's updates are done; its validation follows. */
  | { readonly kind: "epoch-end" };

/** One epoch's record, kept in the checkpoints. */
export interface EpochRecord {
  readonly epoch: number;
  readonly lr: number;
  /** Mean batch loss over the epoch. */
  readonly loss: number;
  readonly val: RetrievalResult;
  readonly recallSum: number;
  /** Seconds spent on the epoch's updates (validation excluded). */
  readonly trainSeconds: number;
}

export interface TrainAlignmentResult {
  readonly model: AlignmentModel;
  readonly bestPath: string;
  readonly best: EpochRecord | null;
  readonly history: readonly EpochRecord[];
  /** Seconds of updates over the whole run, resumed parts included. */
  readonly trainSeconds: number;
  /** Wall seconds of the whole run (updates, validation, checkpoints), resumed parts included. */
  readonly wallSeconds: number;
  readonly sentencesPerSecond: number;
}

type EpochSoFar = "epochLossSum" | "epochLossCount" | "epochSeconds";

interface RunState {
  epoch: number;
  batch: number;
  /** The current epoch's batch losses so far (summed, counted) and seconds of updates. */
  epochLossSum: number;
  epochLossCount: number;
  epochSeconds: number;
  history: EpochRecord[];
  bestRecallSum: number;
  trainSeconds: number;
  wallSeconds: number;
  sentences: number;
  train: TrainConfig;
}

/**
 * Trains the alignment model (section 3.1.3): SGD with momentum over batches of image-sentence
 * pairs, dropout, elementwise gradient clipping and weight decay; retrieval on the validation
 * split after every epoch, the best model kept as best.ckpt. Every `checkpointEvery` iterations
 * the whole state (weights, momentum, dropout RNG, position in the epoch) goes to last.ckpt, and
 * a run started with the same `out` continues from there, drawing the same batches and dropout
 * masks as an uninterrupted run would.
 */
export function trainAlignment(
  dataset: Dataset,
  train: SplitFeatures,
  val: SplitFeatures,
  options: TrainAlignmentOptions,
): TrainAlignmentResult {
  const log = options.log ?? (() => {});
  const lastPath = join(options.out, "last.ckpt");
  const bestPath = join(options.out, "best.ckpt");
  const runStart = Date.now();

  let model: AlignmentModel;
  let state: RunState;
  const rng = new Rng(0);
  let optimizer: Sgd;
  if (existsSync(lastPath)) {
    const loaded = AlignmentModel.load(lastPath);
    model = loaded.model;
    // Runs saved before the epoch's loss was kept resume with it counted from here.
    const saved = loaded.checkpoint.meta.run as Partial<RunState> & Omit<RunState, EpochSoFar>;
    state = { epochLossSum: 0, epochLossCount: 0, epochSeconds: 0, ...saved };
    if (options.train?.epochs !== undefined)
      state.train = { ...state.train, epochs: options.train.epochs };
    optimizer = makeOptimizer(state.train);
    loaded.checkpoint.restore({ params: model.params, optimizer, rng });
    log(
      `resuming ${lastPath}: epoch ${state.epoch + 1}, batch ${state.batch} (its settings are kept)`,
    );
  } else {
    const trainConfig = { ...DEFAULT_TRAIN_CONFIG, ...defined(options.train) };
    if (options.init) {
      model = AlignmentModel.load(options.init).model;
      log(`starting from ${options.init} (its shape, vocabulary and normaliser)`);
    } else {
      const shape = { ...DEFAULT_ALIGNMENT_CONFIG, ...defined(options.model) };
      const vocabulary = buildVocabulary(dataset, { minCount: options.minCount ?? 5 });
      const normalizer = FeatureNormalizer.fit([train.features], train.dim);
      model = new AlignmentModel(
        { ...shape, featureDim: train.dim, vocabSize: vocabulary.size },
        vocabulary,
        normalizer,
        trainConfig.seed,
      );
    }
    rng.setState(new Rng(trainConfig.seed + 1).state());
    optimizer = makeOptimizer(trainConfig);
    state = {
      epoch: 0,
      batch: 0,
      epochLossSum: 0,
      epochLossCount: 0,
      epochSeconds: 0,
      history: [],
      bestRecallSum: Number.NEGATIVE_INFINITY,
      trainSeconds: 0,
      wallSeconds: 0,
      sentences: 0,
      train: trainConfig,
    };
  }
  // Made only once the run's model is in hand, so a refused --init leaves no folder behind.
  mkdirSync(options.out, { recursive: true });
  const config = model.config;
  const cfg = state.train;
  if (train.regions !== config.regions || train.dim !== config.featureDim) {
    throw new InputError(
      `features have ${train.regions} regions of ${train.dim} values; the model expects ` +
        `${config.regions} of ${config.featureDim}`,
    );
  }
  log(
    `model: ${config.regions} regions of ${config.featureDim}-d CNN codes, embedding ${config.embed}, ` +
      `BRNN hidden ${config.hidden}, words ${config.wordDim}-d (${config.vocabSize} in vocabulary), ` +
      `${model.params.count()} parameters`,
  );
  log(
    `training: ${train.images.length} images, ${val.images.length} validation images; ` +
      `lr ${cfg.lr}, momentum ${cfg.momentum}, weight decay ${cfg.weightDecay}, dropout ${cfg.dropout}, ` +
      `${cfg.loss} loss, batches of ${cfg.batchSize}`,
  );

  const trainFeatures = model.normalize(train.features);
  const valFeatures = model.normalize(val.features);
  const sentencesOf = train.images.map((image) =>
    image.sentences.map((s) => model.encode(s.tokens)).filter((x) => x.length > 0),
  );
  const block = config.regions * config.featureDim;
  const drop = cfg.dropout > 0 ? { p: cfg.dropout, rng } : null;
  const save = () => {
    state.wallSeconds += (Date.now() - segmentStart) / 1000;
    segmentStart = Date.now();
    model.save(lastPath, { optimizer, rng, step: optimizer.steps, meta: { run: state } });
  };
  let segmentStart = runStart;

  while (state.epoch < cfg.epochs) {
    const elapsed = state.wallSeconds + (Date.now() - segmentStart) / 1000;
    const perEpoch = state.epoch > 0 ? elapsed / state.epoch : 0;
    if (
      options.maxSeconds !== undefined &&
      state.batch === 0 &&
      elapsed + perEpoch > options.maxSeconds
    ) {
      log(
        `stopping after ${state.epoch} epochs: another would pass the ${options.maxSeconds} s budget`,
      );
      break;
    }
    const batches = epochBatches(
      sentencesOf,
      cfg.batchSize,
      new Rng(cfg.seed * 7919 + state.epoch),
    );
    const epochLr = cfg.lr * cfg.lrDecay ** state.epoch;
    const total = batches.reduce((n, b) => n + b.length, 0);
    options.onProgress?.({
      kind: "epoch-start",
      epoch: state.epoch + 1,
      epochs: cfg.epochs,
      sentences: total,
      done: batches.slice(0, state.batch).reduce((n, b) => n + b.length, 0),
    });
    let recent = 0;
    let recentCount = 0;
    while (state.batch < batches.length) {
      const batch = batches[state.batch];
      optimizer.lr = epochLr * Math.min(1, (optimizer.steps + 1) / Math.max(1, cfg.warmup ?? 0));
      const t0 = performance.now();
      const loss = alignmentStep(model, batch, trainFeatures, block, drop, cfg, optimizer);
      const seconds = (performance.now() - t0) / 1000;
      const where = `epoch ${state.epoch + 1}, batch ${state.batch + 1} (iteration ${optimizer.steps})`;
      if (!Number.isFinite(loss)) throw diverged(where, `the loss is ${loss}`, cfg);
      const weight = nonFiniteParam(model.params);
      if (weight) throw diverged(where, describeNonFinite("parameter", weight), cfg);
      state.epochSeconds += seconds;
      state.trainSeconds += seconds;
      state.sentences += batch.length;
      state.epochLossSum += loss;
      state.epochLossCount++;
      recent = recentCount++ === 0 ? loss : 0.9 * recent + 0.1 * loss;
      state.batch++;
      options.onProgress?.({
        kind: "batch",
        sentences: batch.length,
        status: `loss ${recent.toFixed(2)} (${(state.sentences / state.trainSeconds).toFixed(0)} sentences/s training)`,
      });
      if (optimizer.steps % cfg.checkpointEvery === 0 && state.batch < batches.length) save();
    }
    options.onProgress?.({ kind: "epoch-end" });
    const result = evaluateRetrieval(model, val.images, valFeatures);
    const { scores, ...valResult } = result;
    const badScore = nonFiniteIn("S_kl", scores);
    if (badScore) {
      throw diverged(
        `epoch ${state.epoch + 1} (validation)`,
        `${badScore.count} of ${badScore.of} image-sentence scores are not finite`,
        cfg,
      );
    }
    const record: EpochRecord = {
      epoch: state.epoch + 1,
      lr: epochLr,
      loss: state.epochLossCount > 0 ? state.epochLossSum / state.epochLossCount : Number.NaN,
      val: valResult,
      recallSum: recallSum(valResult),
      trainSeconds: state.epochSeconds,
    };
    state.history.push(record);
    log(`epoch ${record.epoch}: loss ${record.loss.toFixed(3)}, val ${formatRetrieval(valResult)}`);
    if (record.recallSum > state.bestRecallSum) {
      state.bestRecallSum = record.recallSum;
      model.save(bestPath, {
        step: optimizer.steps,
        meta: { epoch: record.epoch, val: valResult },
      });
      log(`  best so far (R@1+5+10 sum ${record.recallSum.toFixed(1)}): ${bestPath}`);
    }
    state.epoch++;
    state.batch = 0;
    state.epochLossSum = 0;
    state.epochLossCount = 0;
    state.epochSeconds = 0;
    save();
    writeSummary(options.out, model, state, options.init);
  }
  state.wallSeconds += (Date.now() - segmentStart) / 1000;
  const best = state.history.reduce<EpochRecord | null>(
    (b, r) => (b === null || r.recallSum > b.recallSum ? r : b),
    null,
  );
  return {
    model,
    bestPath,
    best,
    history: state.history,
    trainSeconds: state.trainSeconds,
    wallSeconds: state.wallSeconds,
    sentencesPerSecond: state.trainSeconds > 0 ? state.sentences / state.trainSeconds : 0,
  };
}

/** The error that stops a run whose loss, weights or scores stopped being finite. */
function diverged(where: string, what: string, cfg: TrainConfig): TrainingDivergedError {
  return new TrainingDivergedError(
    `training diverged at ${where}: ${what}; lower --lr (it is ${cfg.lr}); nothing diverged was saved`,
  );
}

/** summary.json: the run's history and speed, for reports (eval-retrieval --markdown reads it). */
function writeSummary(
  out: string,
  model: AlignmentModel,
  state: RunState,
  init: string | undefined,
): void {
  const best = state.history.reduce<EpochRecord | null>(
    (b, r) => (b === null || r.recallSum > b.recallSum ? r : b),
    null,
  );
  const summary = {
    model: model.config,
    // The checkpoint the run started from (--init), so reports can count its training too.
    init: init === undefined ? null : resolve(init),
    train: state.train,
    epochs: state.epoch,
    best,
    history: state.history,
    trainSeconds: state.trainSeconds,
    wallSeconds: state.wallSeconds,
    sentencesPerSecond: state.trainSeconds > 0 ? state.sentences / state.trainSeconds : 0,
  };
  writeFileAtomic(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}

/**
 * One SGD update on one batch of pairs, whose images index `features` (normalised CNN codes,
 * `block` values an image); returns the batch loss.
 */
export function alignmentStep(
  model: AlignmentModel,
  batch: readonly Pair[],
  features: Float32Array,
  block: number,
  drop: { p: number; rng: Rng } | null,
  cfg: TrainConfig,
  optimizer: Sgd,
): number {
  // The batch's CNN codes live for this step only: a pooled array, given back at the end.
  const cnn = take(batch.length * block);
  batch.forEach((pair, i) => {
    cnn.set(features.subarray(pair.image * block, (pair.image + 1) * block), i * block);
  });
  const rows = batch.length * model.config.regions;
  model.params.zeroGrad();
  const S = model.scores(
    new Tensor(cnn, [rows, model.config.featureDim]),
    batch.length,
    batch.map((p) => p.sentence),
    drop,
  );
  const loss = rankingLoss(S, cfg.margin, cfg.loss);
  backward(loss);
  optimizer.step(model.params);
  give(cnn);
  return loss.item();
}

/** The run's optimiser: SGD with momentum and weight decay. */
export function makeOptimizer(cfg: TrainConfig): Sgd {
  return new Sgd({
    lr: cfg.lr,
    momentum: cfg.momentum,
    weightDecay: cfg.weightDecay,
    clip: cfg.clip,
  });
}

/** `o` without its undefined fields, so spreading it over defaults keeps them. */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(o ?? {}).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** "annotation R@1/5/10 a/b/c med r, search ...", one line. */
export function formatRetrieval(r: RetrievalResult): string {
  const f = (m: RetrievalResult["annotation"]) =>
    `R@1/5/10 ${m.r1.toFixed(1)}/${m.r5.toFixed(1)}/${m.r10.toFixed(1)} med ${m.medianRank}`;
  return `annotation ${f(r.annotation)}; search ${f(r.search)}`;
}
