import type { Param } from "../params.js";
import { Optimizer } from "./optimizer.js";

export interface RmspropOptions {
  lr: number;
  /** Decay of the squared-gradient cache. Default 0.99. */
  decay?: number;
  eps?: number;
  /** L2 weight decay. Default 0. */
  weightDecay?: number;
}

/**
 * RMSprop with a bias-corrected cache: c = rho c + (1 - rho) g^2, c^ = c / (1 - rho^t),
 * w -= lr g / (sqrt(c^) + eps). Without the correction the cache starts near zero, and with
 * rho = 0.999 the first update is 1/sqrt(0.001) ~ 30x the learning rate (neuraltalk's exploding
 * first steps); with it, the first update is lr * sign(g).
 */
export class Rmsprop extends Optimizer {
  readonly kind = "rmsprop";
  readonly decay: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(opts: RmspropOptions) {
    super(opts.lr);
    this.decay = opts.decay ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  protected update(p: Param, g: Float32Array): void {
    const w = p.tensor.data;
    const c = this.slot("cache", p);
    const { decay, eps, weightDecay, lr } = this;
    const correction = 1 / (1 - decay ** this.steps);
    const wd = Optimizer.decayOf(p, weightDecay);
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + wd * w[i];
      c[i] = decay * c[i] + (1 - decay) * gi * gi;
      w[i] -= (lr * gi) / (Math.sqrt(c[i] * correction) + eps);
    }
  }

  protected hyper(): Record<string, number> {
    return { decay: this.decay, eps: this.eps, weightDecay: this.weightDecay };
  }
}
