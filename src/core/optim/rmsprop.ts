import { kernels } from "../kernels/index.js";
import type { Param } from "../params.js";
import { Optimizer } from "./optimizer.js";

export interface RmspropOptions {
  lr: number;
  /** Decay of the squared-gradient cache. Default 0.99. */
  decay?: number;
  eps?: number;
  /** L2 weight decay. Default 0. */
  weightDecay?: number;
  /**
   * Clip every gradient entry to [-clip, clip] before the update (the paper clips at 5), in the
   * same pass over the parameter as the update. Default Infinity: no clipping.
   */
  clip?: number;
}

/**
 * RMSprop with a bias-corrected cache: c = rho c + (1 - rho) g^2, c^ = c / (1 - rho^t),
 * w -= lr g / (sqrt(c^) + eps). Without the correction the cache starts near zero, and with
 * rho = 0.999 the first update is 1/sqrt(0.001) ~ 30x the learning rate (neuraltalk's exploding
 * first steps); with it, the first update is lr * sign(g). The update runs in the active kernels
 * (`Kernels.rmspropUpdate`): one native pass per parameter instead of a clip pass and an update pass.
 */
export class Rmsprop extends Optimizer {
  readonly kind = "rmsprop";
  readonly decay: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clip: number;

  constructor(opts: RmspropOptions) {
    super(opts.lr);
    this.decay = opts.decay ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.clip = opts.clip ?? Number.POSITIVE_INFINITY;
    if (!(this.clip > 0)) throw new RangeError(`Rmsprop: clip must be > 0, got ${this.clip}`);
  }

  protected update(p: Param, g: Float32Array): void {
    kernels().rmspropUpdate(p.tensor.data, g, this.slot("cache", p), {
      lr: this.lr,
      decay: this.decay,
      correction: 1 / (1 - this.decay ** this.steps),
      eps: this.eps,
      weightDecay: Optimizer.decayOf(p, this.weightDecay),
      clip: this.clip,
    });
  }

  protected hyper(): Record<string, number> {
    const hyper = { decay: this.decay, eps: this.eps, weightDecay: this.weightDecay };
    return Number.isFinite(this.clip) ? { ...hyper, clip: this.clip } : hyper;
  }
}
