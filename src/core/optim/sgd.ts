import type { Param } from "../params.js";
import { Optimizer } from "./optimizer.js";

export interface SgdOptions {
  lr: number;
  /** Default 0.9 (the paper's alignment training). */
  momentum?: number;
  /** L2 weight decay. Default 0. */
  weightDecay?: number;
}

/** SGD with (heavy-ball) momentum: v = mu v + g; w -= lr v. */
export class Sgd extends Optimizer {
  readonly kind = "sgd";
  readonly momentum: number;
  readonly weightDecay: number;

  constructor(opts: SgdOptions) {
    super(opts.lr);
    this.momentum = opts.momentum ?? 0.9;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  protected update(p: Param, g: Float32Array): void {
    const w = p.tensor.data;
    const v = this.slot("velocity", p);
    const { momentum, weightDecay, lr } = this;
    const wd = Optimizer.decayOf(p, weightDecay);
    for (let i = 0; i < w.length; i++) {
      v[i] = momentum * v[i] + g[i] + wd * w[i];
      w[i] -= lr * v[i];
    }
  }

  protected hyper(): Record<string, number> {
    return { momentum: this.momentum, weightDecay: this.weightDecay };
  }
}
