import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { backward, noGrad } from "../core/autodiff.js";
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from "../core/checkpoint.js";
import { describeNonFinite, nonFiniteParam, TrainingDivergedError } from "../core/divergence.js";
import { Rmsprop } from "../core/optim/rmsprop.js";
import { Rng } from "../core/rng.js";
import type { Vocabulary } from "../data/vocabulary.js";
import { InputError } from "../errors.js";
import { ciderD } from "../eval/cider.js";
import type { TokenizedImage } from "../eval/types.js";
import type { FeatureNormalizer } from "../vision/feature-normalizer.js";
import { packSentences } from "./batch.js";
import type { CaptionData, CaptionMode, CaptionSplit } from "./caption-data.js";
import { type CaptionModel, type CaptionModelConfig, DEFAULT_MODEL } from "./caption-model.js";
import { createCaptionModel } from "./create-model.js";
import { beamSearch, DEFAULT_MAX_LENGTH } from "./decoding.js";

/** Training hyperparameters; defaults in DEFAULT_TRAINING. */
export interface TrainingOptions {
  readonly batchSize: number;
  /** RMSprop learning rate after warm-up. */
  readonly lr: number;
  /** RMSprop cache decay. */
  readonly rmsDecay: number;
  readonly weightDecay: number;
  /** Elementwise gradient clip (the paper's 5). */
  readonly clip: number;
  /** Iterations of linear learning-rate warm-up from 0. */
  readonly warmup: number;
  /** Learning rate multiplier per epoch after the first. */
  readonly lrDecay: number;
  readonly epochs: number;
  /** Iterations between validations (0: once per epoch). */
  readonly evalEvery: number;
  /**
   * Beam for the validation CIDEr-D. Not greedy: early on greedy decoding loops on half the
   * images, and its CIDEr-D then picks checkpoints poorly.
   */
  readonly valBeam: number;
  /** Validation targets decoded for CIDEr (0 = all). */
  readonly valCaptions: number;
  readonly maxLength: number;
  /** Stops after this many minutes of wall time, checkpointing first (0 = no limit). */
  readonly maxMinutes: number;
  readonly seed: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  batchSize: 100,
  lr: 1e-3,
  rmsDecay: 0.99,
  weightDecay: 1e-5,
  clip: 5,
  warmup: 100,
  lrDecay: 0.9,
  epochs: 15,
  evalEvery: 0,
  valBeam: 3,
  valCaptions: 0,
  maxLength: DEFAULT_MAX_LENGTH,
  maxMinutes: 0,
  seed: 1,
};

/** What a generator checkpoint's config holds. */
export interface GeneratorConfig {
  readonly kind: "imagesent-generator";
  readonly mode: CaptionMode;
  readonly model: CaptionModelConfig;
  readonly training: TrainingOptions;
}

/** One validation pass. */
export interface Validation {
  readonly step: number;
  readonly epoch: number;
  readonly perplexity: number;
  readonly cider: number;
}

/** Training speed over the iterations of this run and earlier resumed ones (validation excluded). */
export interface TrainingSpeed {
  readonly sentences: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly wallSeconds: number;
}

export interface TrainResult {
  readonly model: CaptionModel;
  readonly best: Validation | null;
  readonly history: readonly Validation[];
  readonly speed: TrainingSpeed;
  readonly bestPath: string;
  readonly lastPath: string;
  /** Whether it stopped at maxMinutes before the last epoch. */
  readonly stoppedEarly: boolean;
}

export interface TrainArgs {
  readonly data: CaptionData;
  readonly mode: CaptionMode;
  readonly vocabulary: Vocabulary;
  readonly normalizer: FeatureNormalizer;
  readonly model?: Partial<Omit<CaptionModelConfig, "featureDim" | "vocabSize">>;
  readonly training?: Partial<TrainingOptions>;
  /** Folder for best.ckpt and last.ckpt; a last.ckpt there is resumed from. */
  readonly out: string;
  /** Called after each iteration with the sentences done and a status. */
  readonly onIteration?: (sentences: number, status: string) => void;
  readonly log?: (line: string) => void;
}

/**
 * Trains a generator with RMSprop (bias-corrected, with linear warm-up: without either,
 * neuraltalk's first update was ~30x the learning rate and the loss exploded), elementwise
 * clipping and dropout. Validates perplexity and CIDEr on val, keeps the best checkpoint by val
 * CIDEr, and checkpoints everything needed to resume after each validation.
 */
export function trainGenerator(args: TrainArgs): TrainResult {
  const { data, vocabulary, normalizer, out } = args;
  const log = args.log ?? (() => {});
  const opts: TrainingOptions = { ...DEFAULT_TRAINING, ...args.training };
  const config: GeneratorConfig = {
    kind: "imagesent-generator",
    mode: args.mode,
    model: {
      ...DEFAULT_MODEL,
      ...args.model,
      featureDim: data.dim,
      vocabSize: vocabulary.size,
    },
    training: opts,
  };
  const train = data.splits.train;
  if (train.sentences.length === 0) throw new InputError("no training sentences");
  mkdirSync(out, { recursive: true });
  const lastPath = join(out, "last.ckpt");
  const bestPath = join(out, "best.ckpt");

  const rng = new Rng(opts.seed);
  const model = createCaptionModel(config.model, rng, vocabulary.logFrequencies());
  const optimizer = new Rmsprop({
    lr: opts.lr,
    decay: opts.rmsDecay,
    weightDecay: opts.weightDecay,
    clip: opts.clip,
  });
  let step = 0;
  let history: Validation[] = [];
  let speed: TrainingSpeed = { sentences: 0, tokens: 0, seconds: 0, wallSeconds: 0 };
  if (existsSync(lastPath)) {
    const ckpt = loadCheckpoint(lastPath);
    checkResumable(ckpt, config);
    ckpt.restore({ params: model.params, optimizer, rng });
    step = ckpt.step;
    history = (ckpt.meta.history as Validation[]) ?? [];
    speed = (ckpt.meta.speed as TrainingSpeed) ?? speed;
    log(`resuming from ${lastPath} at iteration ${step}`);
  }
  const bestOf = (h: readonly Validation[]) =>
    h.reduce<Validation | null>((b, v) => (b === null || v.cider > b.cider ? v : b), null);
  let best = bestOf(history);

  const perEpoch = Math.ceil(train.sentences.length / opts.batchSize);
  const total = perEpoch * opts.epochs;
  const evalEvery = opts.evalEvery > 0 ? opts.evalEvery : perEpoch;
  const startWall = Date.now();
  const wallBefore = speed.wallSeconds;
  let order: Int32Array | null = null;
  let orderEpoch = -1;
  let stoppedEarly = false;

  const save = (path: string) =>
    saveCheckpoint(path, {
      params: model.params,
      optimizer,
      rng,
      step,
      config,
      vocabulary: vocabulary.toJSON(),
      meta: {
        normalizer: normalizer.toJSON(),
        history,
        best,
        speed,
        epoch: step / perEpoch,
      },
    });

  while (step < total) {
    const epoch = Math.floor(step / perEpoch);
    if (orderEpoch !== epoch) {
      // Each epoch's order comes from the seed and the epoch alone, so a resumed run replays it.
      order = shuffled(train.sentences.length, new Rng(opts.seed * 7919 + epoch));
      orderEpoch = epoch;
    }
    const pos = (step % perEpoch) * opts.batchSize;
    const picked = order!.subarray(pos, Math.min(pos + opts.batchSize, order!.length));
    const started = performance.now();
    const { loss, tokens } = trainStep(model, train, picked, optimizer, rng, {
      ...opts,
      lr: opts.lr * Math.min(1, (step + 1) / opts.warmup) * opts.lrDecay ** epoch,
    });
    step++;
    speed = {
      sentences: speed.sentences + picked.length,
      tokens: speed.tokens + tokens,
      seconds: speed.seconds + (performance.now() - started) / 1000,
      wallSeconds: wallBefore + (Date.now() - startWall) / 1000,
    };
    // A mean loss per word above 50 (perplexity e^50) is worse than guessing from any vocabulary.
    const weight = nonFiniteParam(model.params);
    if (!Number.isFinite(loss) || loss > 50 || weight) {
      const what = weight ? describeNonFinite("parameter", weight) : `the loss is ${loss}`;
      const kept = existsSync(lastPath) ? `; the last good state is ${lastPath}` : "";
      throw new TrainingDivergedError(
        `training diverged at epoch ${epoch + 1}, iteration ${step}: ${what}; lower --lr ` +
          `(it is ${opts.lr})${kept}`,
      );
    }
    args.onIteration?.(
      picked.length,
      `epoch ${(step / perEpoch).toFixed(2)} loss ${loss.toFixed(3)} ` +
        `${(speed.sentences / speed.seconds).toFixed(0)} sent/s`,
    );
    const outOfTime = opts.maxMinutes > 0 && (Date.now() - startWall) / 60000 >= opts.maxMinutes;
    if (step % evalEvery === 0 || step === total || outOfTime) {
      const v = validate(model, vocabulary, data.splits.val, opts);
      const record = { step, epoch: step / perEpoch, ...v };
      history = [...history, record];
      const improved = best === null || record.cider > best.cider;
      if (improved) best = record;
      log(
        `iteration ${step} epoch ${record.epoch.toFixed(2)}: val perplexity ${v.perplexity.toFixed(2)}, ` +
          `CIDEr-D ${(100 * v.cider).toFixed(1)}${improved ? " (best so far)" : ""}`,
      );
      speed = { ...speed, wallSeconds: wallBefore + (Date.now() - startWall) / 1000 };
      if (improved) save(bestPath);
      save(lastPath);
      if (outOfTime && step < total) {
        stoppedEarly = true;
        log(`stopping: --max-minutes ${opts.maxMinutes} reached; rerun to resume`);
        break;
      }
    }
  }
  return { model, best, history, speed, bestPath, lastPath, stoppedEarly };
}

/** One RMSprop update on the sentences `picked`; returns the mean loss per word and the tokens. */
function trainStep(
  model: CaptionModel,
  split: CaptionSplit,
  picked: Int32Array,
  optimizer: Rmsprop,
  rng: Rng,
  opts: TrainingOptions,
): { loss: number; tokens: number } {
  const { features, words } = batchOf(split, picked, model.config.featureDim);
  const batch = packSentences(words);
  model.params.zeroGrad();
  const loss = model.loss(features, batch, { training: true, rng });
  backward(loss);
  optimizer.lr = opts.lr;
  optimizer.step(model.params);
  return { loss: loss.item(), tokens: batch.tokens };
}

/** The CNN codes and word sequences of the sentences `picked`. */
export function batchOf(
  split: CaptionSplit,
  picked: ArrayLike<number>,
  dim: number,
): { features: Float32Array; words: Int32Array[] } {
  const features = new Float32Array(picked.length * dim);
  const words: Int32Array[] = [];
  for (let i = 0; i < picked.length; i++) {
    const s = split.sentences[picked[i]];
    features.set(split.features.subarray(s.target * dim, (s.target + 1) * dim), i * dim);
    words.push(s.words);
  }
  return { features, words };
}

/** exp(mean cross-entropy per predicted word, END included) over a split's sentences. */
export function perplexity(model: CaptionModel, split: CaptionSplit, batchSize = 500): number {
  let total = 0;
  let tokens = 0;
  noGrad(() => {
    for (let i = 0; i < split.sentences.length; i += batchSize) {
      const idx = Array.from(
        { length: Math.min(batchSize, split.sentences.length - i) },
        (_, k) => i + k,
      );
      const { features, words } = batchOf(split, idx, model.config.featureDim);
      const batch = packSentences(words);
      total += model.loss(features, batch, { training: false }).item() * batch.tokens;
      tokens += batch.tokens;
    }
  });
  return Math.exp(total / Math.max(tokens, 1));
}

/** Validation perplexity and CIDEr-D of decoded captions. */
export function validate(
  model: CaptionModel,
  vocabulary: Vocabulary,
  val: CaptionSplit,
  opts: Pick<TrainingOptions, "valBeam" | "valCaptions" | "maxLength">,
): { perplexity: number; cider: number } {
  const ppl = val.sentences.length > 0 ? perplexity(model, val) : Number.NaN;
  const n =
    opts.valCaptions > 0 ? Math.min(opts.valCaptions, val.targets.length) : val.targets.length;
  if (n === 0) return { perplexity: ppl, cider: 0 };
  const dim = model.config.featureDim;
  const images: TokenizedImage[] = [];
  for (let i = 0; i < n; i++) {
    const stepper = model.stepper(val.features.subarray(i * dim, (i + 1) * dim));
    // The paper's decoding (no length normalisation), so checkpoints are chosen as before.
    const decoding = { beam: opts.valBeam, lengthNormalization: 0, maxLength: opts.maxLength };
    const [best] = beamSearch(stepper, decoding);
    images.push({
      candidate: vocabulary.decode(best.words),
      references: val.targets[i].references,
    });
  }
  return { perplexity: ppl, cider: ciderD(images).score };
}

function checkResumable(ckpt: Checkpoint, config: GeneratorConfig): void {
  const saved = ckpt.config as GeneratorConfig | null;
  if (saved?.kind !== "imagesent-generator") {
    throw new InputError(`${ckpt.path}: not a generator checkpoint`);
  }
  const a = JSON.stringify({ mode: saved.mode, model: saved.model });
  const b = JSON.stringify({ mode: config.mode, model: config.model });
  if (a !== b) {
    throw new InputError(
      `${ckpt.path}: was trained with ${a}, this run asks for ${b}; use another --out`,
    );
  }
}

function shuffled(n: number, rng: Rng): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
