import type { Param } from "../params.js";
import { Optimizer } from "./optimizer.js";

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 weight decay. Default 0. */
  weightDecay?: number;
}

/**
 * Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, and with the bias corrections
 * m^ = m / (1 - b1^t), v^ = v / (1 - b2^t): w -= lr m^ / (sqrt(v^) + eps).
 */
export class Adam extends Optimizer {
  readonly kind = "adam";
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(opts: AdamOptions) {
    super(opts.lr);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  protected update(p: Param, g: Float32Array): void {
    const w = p.tensor.data;
    const m = this.slot("m", p);
    const v = this.slot("v", p);
    const { beta1, beta2, eps, weightDecay, lr } = this;
    const c1 = 1 / (1 - beta1 ** this.steps);
    const c2 = 1 / (1 - beta2 ** this.steps);
    const wd = Optimizer.decayOf(p, weightDecay);
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + wd * w[i];
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      w[i] -= (lr * m[i] * c1) / (Math.sqrt(v[i] * c2) + eps);
    }
  }

  protected hyper(): Record<string, number> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
}
