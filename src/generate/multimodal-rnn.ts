import { noGrad } from "../core/autodiff.js";
import * as init from "../core/init.js";
import { add, affine, dropout, gather, matmul, relu, reluRecurrence } from "../core/ops/index.js";
import { Params } from "../core/params.js";
import type { Rng } from "../core/rng.js";
import { Tensor } from "../core/tensor.js";
import { type PackedBatch, permuteRows } from "./batch.js";
import {
  type CaptionModel,
  type CaptionModelConfig,
  type LossOptions,
  logSoftmaxRows,
  type Stepper,
} from "./caption-model.js";
import { softmaxLoss } from "./softmax-loss.js";

/**
 * The multimodal RNN of section 3.2:
 *
 *   bv  = Whi CNN(I)
 *   h_t = f(Whx x_t + Whh h_t-1 + bh + 1(t = 1) bv),   f = ReLU, h_0 = 0
 *   y_t = softmax(Woh h_t + bo)
 *
 * x_t = We w_t are word vectors, x_1 the START vector; the image enters only at the first step.
 * bo starts at the log word frequencies (neuraltalk), so the untrained model already predicts the
 * unigram distribution. Dropout (neuraltalk's) is on CNN(I), on x_t and on h_t below the softmax,
 * never on the recurrence.
 */
export class MultimodalRnn implements CaptionModel {
  readonly params = new Params();
  private readonly We: Tensor;
  private readonly Whi: Tensor;
  private readonly Whx: Tensor;
  private readonly Whh: Tensor;
  private readonly bh: Tensor;
  private readonly Woh: Tensor;
  private readonly bo: Tensor;

  constructor(
    readonly config: CaptionModelConfig,
    rng: Rng,
  ) {
    const { featureDim: D, vocabSize: V, hidden: H, embed: E } = config;
    const p = this.params;
    this.We = p.add("We", init.uniform([V, E], rng, 0.1));
    this.Whi = p.add("Whi", init.xavier([D, H], rng));
    this.Whx = p.add("Whx", init.xavier([E, H], rng));
    this.Whh = p.add("Whh", init.xavier([H, H], rng));
    this.bh = p.add("bh", init.zeros([H]));
    this.Woh = p.add("Woh", init.xavier([H, V], rng));
    this.bo = p.add("bo", init.zeros([V]));
  }

  loss(features: Float32Array, batch: PackedBatch, opts: LossOptions): Tensor {
    const { featureDim: D, dropout: p } = this.config;
    const drop = (x: Tensor) => dropout(x, p, opts.rng!, opts.training);
    const cnn = new Tensor(permuteRows(features, D, batch.order), [batch.count, D]);
    const bv = matmul(drop(cnn), this.Whi);
    // Whx x_t + bh for every step at once, then the recurrence as one op, the image entering
    // at the first step: h_1 = relu(a_1 + bv), h_t = relu(a_t + h_t-1 Whh).
    const a = affine(drop(gather(this.We, batch.inputs)), this.Whx, this.bh);
    const h = reluRecurrence(a, this.Whh, batch.sizes, { start: bv });
    return softmaxLoss(drop(h), this.Woh, this.bo, batch.targets);
  }

  stepper(feature: Float32Array): Stepper {
    const { featureDim: D, hidden: H, vocabSize: V } = this.config;
    const bv = noGrad(() => matmul(new Tensor(feature, [1, D]), this.Whi));
    return {
      vocabSize: V,
      stateSize: H,
      step: (prev, tokens) =>
        noGrad(() => {
          const n = tokens.length;
          const a = affine(gather(this.We, tokens), this.Whx, this.bh);
          const h = relu(
            prev === null ? add(a, bv) : add(a, matmul(new Tensor(prev, [n, H]), this.Whh)),
          );
          const logits = affine(h, this.Woh, this.bo);
          return { logProbs: logSoftmaxRows(logits.data, n, V), next: h.data };
        }),
    };
  }
}
