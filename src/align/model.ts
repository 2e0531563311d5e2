import {
  type Checkpoint,
  init,
  loadCheckpoint,
  noGrad,
  type Optimizer,
  Params,
  type Rng,
  Rng as SeededRng,
  sameShape,
  saveCheckpoint,
  Tensor,
} from "../core/index.js";
import { Vocabulary } from "../data/vocabulary.js";
import { CorruptFileError, InputError } from "../errors.js";
import { FeatureNormalizer } from "../vision/feature-normalizer.js";
import { imageSentenceScores, wordRegionScores } from "./alignment-score.js";
import { type BrnnWeights, brnn, type DropoutSetting } from "./brnn.js";
import { type AlignmentConfig, parseAlignmentConfig } from "./config.js";
import { embedRegions } from "./region-embedding.js";

/** What `wordRegionScores` returns for one image and one sentence. */
export interface WordRegionScores {
  /** Regions (rows) of the matrix. */
  readonly regions: number;
  /** The sentence's tokens that are in the vocabulary, in order: the matrix's columns. */
  readonly words: readonly string[];
  /** For each column, the index of its word in the tokens given. */
  readonly positions: readonly number[];
  /** regions x words, row-major: v_i . s_t. */
  readonly scores: Float32Array;
}

/** The checkpoint's kind tag, so a captioning model is not loaded as an alignment model. */
export const ALIGNMENT_MODEL_KIND = "imagesent-alignment";

/**
 * The alignment model of section 3.1: region embedding, BRNN and the word-region score, with the
 * vocabulary and the CNN-feature normaliser it was trained with, so that a saved model scores
 * raw CNN codes and raw tokens by itself.
 */
export class AlignmentModel {
  readonly params = new Params();
  readonly Wm: Tensor;
  readonly bm: Tensor;
  readonly brnnWeights: BrnnWeights;

  constructor(
    readonly config: AlignmentConfig,
    readonly vocabulary: Vocabulary,
    readonly normalizer: FeatureNormalizer,
    /**
     * Seeds the random initial weights, or a checkpoint whose weights the model takes as its
     * own arrays (shared, not copied); `load` then checks that they fit.
     */
    weights: number | Checkpoint = 1,
  ) {
    if (vocabulary.size !== config.vocabSize) {
      throw new RangeError(
        `AlignmentModel: vocabulary has ${vocabulary.size} words, config says ${config.vocabSize}`,
      );
    }
    if (normalizer.dim !== config.featureDim) {
      throw new RangeError(
        `AlignmentModel: normaliser is for ${normalizer.dim}-d features, config says ${config.featureDim}`,
      );
    }
    const rng = typeof weights === "number" ? new SeededRng(weights) : null;
    const stored = typeof weights === "number" ? null : weights.tensors;
    const { featureDim, embed, hidden, wordDim, vocabSize } = config;
    const p = this.params;
    // Drawing, or even zeroing, a loaded model's weights only to overwrite them was a quarter
    // of a cold search. A stored tensor of the wrong shape is left to `load` to report.
    const add = (
      name: string,
      shape: number[],
      draw: ((rng: Rng) => Tensor) | null,
      trainable = true,
    ) => {
      const saved = stored?.get(name);
      const t =
        saved && sameShape(saved.shape, shape)
          ? new Tensor(saved.data, shape)
          : rng && draw
            ? draw(rng)
            : init.zeros(shape);
      return p.add(name, t, { trainable });
    };
    const xavier = (r: Rng, shape: number[]) => init.xavier(shape, r);
    // Recurrent weights start small (spectral radius about 0.5) so the ReLU streams neither
    // explode nor die over a 30-word sentence.
    const recurrent = (r: Rng) => init.normal([hidden, hidden], r, 0.5 / Math.sqrt(hidden));
    this.Wm = add("Wm", [featureDim, embed], (r) => xavier(r, [featureDim, embed]));
    this.bm = add("bm", [embed], null);
    const words = [vocabSize, wordDim];
    this.brnnWeights = {
      Ww: add("Ww", words, (r) => init.normal(words, r, 0.1), config.trainWordVectors),
      We: add("We", [wordDim, hidden], (r) => xavier(r, [wordDim, hidden])),
      be: add("be", [hidden], null),
      Wf: add("Wf", [hidden, hidden], recurrent),
      bf: add("bf", [hidden], null),
      Wb: add("Wb", [hidden, hidden], recurrent),
      bb: add("bb", [hidden], null),
      Wd: add("Wd", [hidden, embed], (r) => xavier(r, [hidden, embed])),
      bd: add("bd", [embed], null),
    };
  }

  /** Region vectors v for stacked, already normalised CNN codes (rows x featureDim). */
  embedRegions(cnn: Tensor, drop: DropoutSetting = null): Tensor {
    return embedRegions(this.Wm, this.bm, cnn, drop);
  }

  /** Word vectors s_t for encoded sentences, sentence after sentence. */
  embedWords(sentences: readonly Int32Array[], drop: DropoutSetting = null): Tensor {
    return brnn(this.brnnWeights, sentences, drop);
  }

  /** S_kl for stacked normalised CNN codes of `images` images against `sentences`. */
  scores(
    cnn: Tensor,
    images: number,
    sentences: readonly Int32Array[],
    drop: DropoutSetting = null,
  ): Tensor {
    const v = this.embedRegions(cnn, drop);
    const s = this.embedWords(sentences, drop);
    return imageSentenceScores(
      v,
      s,
      images,
      sentences.map((x) => x.length),
    );
  }

  /** Word indices of tokens (unknown words dropped or mapped to <unk>, as the vocabulary says). */
  encode(tokens: readonly string[]): Int32Array {
    return Int32Array.from(this.vocabulary.encode(tokens));
  }

  /** Raw CNN codes (rows x featureDim) normalised as in training. */
  normalize(features: Float32Array): Float32Array {
    return this.normalizer.apply(features);
  }

  /**
   * The regions x words matrix of v_i . s_t for one image and one sentence, without recording
   * gradients: the unary terms of the phrase-to-region MRF and of search. `features` are the raw
   * CNN codes of the image's regions (regions x featureDim, as a FeatureStore holds them).
   */
  wordRegionScores(features: Float32Array, tokens: readonly string[]): WordRegionScores {
    const dim = this.config.featureDim;
    if (features.length === 0 || features.length % dim !== 0) {
      throw new InputError(
        `wordRegionScores: ${features.length} feature values are not whole ${dim}-d regions`,
      );
    }
    const regions = features.length / dim;
    const positions: number[] = [];
    const ids: number[] = [];
    tokens.forEach((t, i) => {
      const id = this.vocabulary.encode([t]);
      if (id.length === 1) {
        positions.push(i);
        ids.push(id[0]);
      }
    });
    const words = positions.map((i) => tokens[i]);
    if (ids.length === 0) return { regions, words, positions, scores: new Float32Array(0) };
    const scores = noGrad(() => {
      const v = this.embedRegions(new Tensor(this.normalize(features), [regions, dim]));
      const s = this.embedWords([Int32Array.from(ids)]);
      return wordRegionScores(v, s).data;
    });
    return { regions, words, positions, scores };
  }

  /** Writes the model (and, for resuming, optimiser and RNG state) atomically. */
  save(
    path: string,
    extra: {
      optimizer?: Optimizer;
      rng?: Rng;
      step?: number;
      meta?: Record<string, unknown>;
    } = {},
  ): void {
    saveCheckpoint(path, {
      params: this.params,
      optimizer: extra.optimizer,
      rng: extra.rng,
      step: extra.step,
      config: { kind: ALIGNMENT_MODEL_KIND, model: this.config },
      vocabulary: this.vocabulary.toJSON(),
      meta: { ...extra.meta, normalizer: this.normalizer.toJSON() },
    });
  }

  /**
   * Rebuilds a saved model; the checkpoint is returned too, for resuming its training. The
   * model's weights are the checkpoint's arrays, so training the model changes them too.
   */
  static load(path: string): { model: AlignmentModel; checkpoint: Checkpoint } {
    const checkpoint = loadCheckpoint(path);
    const cfg = checkpoint.config as { kind?: unknown; model?: unknown } | null;
    if (cfg?.kind !== ALIGNMENT_MODEL_KIND) {
      throw new InputError(
        `${path}: not an alignment model (config.kind is ${JSON.stringify(cfg?.kind)})`,
      );
    }
    const error = CorruptFileError;
    const config = parseAlignmentConfig(cfg.model, path, { path: "config.model", error });
    const vocabulary = Vocabulary.fromJSON(checkpoint.vocabulary, path, {
      path: "vocabulary",
      error,
    });
    const normalizer = FeatureNormalizer.fromJSON(checkpoint.meta.normalizer, path, {
      path: "meta.normalizer",
      error,
    });
    const model = new AlignmentModel(config, vocabulary, normalizer, checkpoint);
    checkpoint.restoreParams(model.params);
    return { model, checkpoint };
  }
}
