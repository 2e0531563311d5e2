import { kernels } from "../kernels/index.js";
import type { Param } from "../params.js";
import { Optimizer } from "./optimizer.js";

export interface SgdOptions {
  lr: number;
  /** Default 0.9 (the paper's alignment training). */
  momentum?: number;
  /** L2 weight decay. Default 0. */
  weightDecay?: number;
  /**
   * Clip every gradient entry to [-clip, clip] before the update (the paper clips at 5), in the
   * same pass over the parameter as the update. Default Infinity: no clipping.
   */
  clip?: number;
}

/**
 * SGD with (heavy-ball) momentum: v = mu v + g; w -= lr v. The update runs in the active kernels
 * (`Kernels.sgdUpdate`): one native pass per parameter instead of a clip pass and an update pass.
 */
export class Sgd extends Optimizer {
  readonly kind = "sgd";
  readonly momentum: number;
  readonly weightDecay: number;
  readonly clip: number;

  constructor(opts: SgdOptions) {
    super(opts.lr);
    this.momentum = opts.momentum ?? 0.9;
    this.weightDecay = opts.weightDecay ?? 0;
    this.clip = opts.clip ?? Number.POSITIVE_INFINITY;
    if (!(this.clip > 0)) throw new RangeError(`Sgd: clip must be > 0, got ${this.clip}`);
  }

  protected update(p: Param, g: Float32Array): void {
    kernels().sgdUpdate(p.tensor.data, g, this.slot("velocity", p), {
      lr: this.lr,
      momentum: this.momentum,
      weightDecay: Optimizer.decayOf(p, this.weightDecay),
      clip: this.clip,
    });
  }

  protected hyper(): Record<string, number> {
    const hyper = { momentum: this.momentum, weightDecay: this.weightDecay };
    return Number.isFinite(this.clip) ? { ...hyper, clip: this.clip } : hyper;
  }
}
