import { noGrad } from "../core/autodiff.js";
import * as init from "../core/init.js";
import {
  add,
  affine,
  concatRows,
  dropout,
  gather,
  matmul,
  mul,
  sigmoid,
  sliceCols,
  sliceRows,
  tanh,
} from "../core/ops/index.js";
import { Params } from "../core/params.js";
import type { Rng } from "../core/rng.js";
import { Tensor } from "../core/tensor.js";
import { firstRows, type PackedBatch, permuteRows } from "./batch.js";
import {
  type CaptionModel,
  type CaptionModelConfig,
  type LossOptions,
  logSoftmaxRows,
  type Stepper,
} from "./caption-model.js";
import { softmaxLoss } from "./softmax-loss.js";

/**
 * The LSTM variant neuraltalk offered beside the RNN, behind the same interface. The image enters
 * the gates at the first step exactly as bv enters the RNN:
 *
 *   z_t = Wx x_t + Wh h_t-1 + b + 1(t = 1) Wi CNN(I)          (4H gate pre-activations)
 *   i, f, o = sigmoid(z_t[0:H], z_t[H:2H], z_t[2H:3H]),  g = tanh(z_t[3H:4H])
 *   c_t = f c_t-1 + i g,   h_t = o tanh(c_t),   y_t = softmax(Woh h_t + bo),   h_0 = c_0 = 0
 *
 * The forget-gate bias starts at 1 so early training does not forget by default.
 */
export class Lstm implements CaptionModel {
  readonly params = new Params();
  private readonly We: Tensor;
  private readonly Wi: Tensor;
  private readonly Wx: Tensor;
  private readonly Wh: Tensor;
  private readonly b: Tensor;
  private readonly Woh: Tensor;
  private readonly bo: Tensor;

  constructor(
    readonly config: CaptionModelConfig,
    rng: Rng,
  ) {
    const { featureDim: D, vocabSize: V, hidden: H, embed: E } = config;
    const p = this.params;
    this.We = p.add("We", init.uniform([V, E], rng, 0.1));
    this.Wi = p.add("Wi", init.xavier([D, 4 * H], rng));
    this.Wx = p.add("Wx", init.xavier([E, 4 * H], rng));
    this.Wh = p.add("Wh", init.xavier([H, 4 * H], rng));
    this.b = p.add("b", init.zeros([4 * H]));
    this.b.data.fill(1, H, 2 * H);
    this.Woh = p.add("Woh", init.xavier([H, V], rng));
    this.bo = p.add("bo", init.zeros([V]));
  }

  loss(features: Float32Array, batch: PackedBatch, opts: LossOptions): Tensor {
    const { featureDim: D, dropout: p } = this.config;
    const drop = (x: Tensor) => dropout(x, p, opts.rng!, opts.training);
    const cnn = new Tensor(permuteRows(features, D, batch.order), [batch.count, D]);
    const zImage = matmul(drop(cnn), this.Wi);
    const a = affine(drop(gather(this.We, batch.inputs)), this.Wx, this.b);
    const hs: Tensor[] = [];
    let h: Tensor | null = null;
    let c: Tensor | null = null;
    let off = 0;
    for (let t = 0; t < batch.sizes.length; t++) {
      const n = batch.sizes[t];
      const at = sliceRows(a, off, off + n);
      off += n;
      const z = h === null ? add(at, zImage) : add(at, matmul(firstRows(h, n), this.Wh));
      ({ h, c } = this.cell(z, c === null ? null : firstRows(c, n)));
      hs.push(h);
    }
    return softmaxLoss(drop(concatRows(hs)), this.Woh, this.bo, batch.targets);
  }

  /** The gates and the new state from the pre-activations z (c_prev = null: c_0 = 0). */
  private cell(z: Tensor, cPrev: Tensor | null): { h: Tensor; c: Tensor } {
    const H = this.config.hidden;
    const gate = (k: number) => sliceCols(z, k * H, (k + 1) * H);
    const ig = mul(sigmoid(gate(0)), tanh(gate(3)));
    const c = cPrev === null ? ig : add(mul(sigmoid(gate(1)), cPrev), ig);
    return { h: mul(sigmoid(gate(2)), tanh(c)), c };
  }

  stepper(feature: Float32Array): Stepper {
    const { featureDim: D, hidden: H, vocabSize: V } = this.config;
    const zImage = noGrad(() => matmul(new Tensor(feature, [1, D]), this.Wi));
    return {
      vocabSize: V,
      // A state row is [h, c].
      stateSize: 2 * H,
      step: (prev, tokens) =>
        noGrad(() => {
          const n = tokens.length;
          const a = affine(gather(this.We, tokens), this.Wx, this.b);
          let cPrev: Tensor | null = null;
          let z: Tensor;
          if (prev === null) {
            z = add(a, zImage);
          } else {
            const state = new Tensor(prev, [n, 2 * H]);
            cPrev = sliceCols(state, H, 2 * H);
            z = add(a, matmul(sliceCols(state, 0, H), this.Wh));
          }
          const { h, c } = this.cell(z, cPrev);
          const logits = affine(h, this.Woh, this.bo);
          const next = new Float32Array(n * 2 * H);
          for (let r = 0; r < n; r++) {
            next.set(h.data.subarray(r * H, (r + 1) * H), r * 2 * H);
            next.set(c.data.subarray(r * H, (r + 1) * H), r * 2 * H + H);
          }
          return { logProbs: logSoftmaxRows(logits.data, n, V), next };
        }),
    };
  }
}
