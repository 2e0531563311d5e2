import { InputError } from "../../errors.js";
import type { Param, Params } from "../params.js";

/** An optimiser's whole state, for checkpoints: buffers are keyed "slot/parameter name". */
export interface OptimizerState {
  kind: string;
  /** Updates taken so far (bias corrections depend on it). */
  steps: number;
  lr: number;
  hyper: Record<string, number>;
  buffers: Record<string, Float32Array>;
}

/**
 * The solver side of training: it knows parameters and gradients, nothing of images or sentences.
 * Weight decay in all three is L2 (coupled): wd * w is added to the gradient before the update,
 * for parameters registered with decay (matrices by default, not biases), as in neuraltalk.
 */
export abstract class Optimizer {
  abstract readonly kind: string;
  /** The learning rate; a schedule may change it between steps. */
  lr: number;
  /** Updates taken so far. */
  steps = 0;
  protected readonly buffers = new Map<string, Float32Array>();

  constructor(lr: number) {
    if (!(lr > 0)) throw new RangeError(`optimiser: learning rate must be > 0, got ${lr}`);
    this.lr = lr;
  }

  /** Updates every trainable parameter that has a gradient, from its gradient. */
  step(params: Params): void {
    this.steps++;
    for (const p of params.trainable()) {
      const g = p.tensor.grad;
      if (g !== null) this.update(p, g);
    }
  }

  protected abstract update(p: Param, grad: Float32Array): void;

  /** The hyperparameters, saved beside the buffers. */
  protected abstract hyper(): Record<string, number>;

  /** A per-parameter buffer (momentum, cache, ...), zeros on first use. */
  protected slot(slot: string, p: Param): Float32Array {
    const key = `${slot}/${p.name}`;
    let b = this.buffers.get(key);
    if (b === undefined) {
      b = new Float32Array(p.tensor.size);
      this.buffers.set(key, b);
    }
    return b;
  }

  /** The L2 weight decay that applies to `p`: `wd` for decayed parameters, else 0. */
  protected static decayOf(p: Param, wd: number): number {
    return p.decay ? wd : 0;
  }

  exportState(): OptimizerState {
    const buffers: Record<string, Float32Array> = {};
    for (const [k, v] of this.buffers) buffers[k] = v.slice();
    return { kind: this.kind, steps: this.steps, lr: this.lr, hyper: this.hyper(), buffers };
  }

  /**
   * Restores a state from `exportState` (or a checkpoint), checking it fits `params`: same
   * optimiser kind, every buffer belonging to a parameter of the same size.
   */
  importState(state: OptimizerState, params: Params, source = "optimiser state"): void {
    if (state.kind !== this.kind) {
      throw new InputError(
        `${source}: holds a ${state.kind} optimiser, this run uses ${this.kind}`,
      );
    }
    const sizes = new Map(params.all().map((p) => [p.name, p.tensor.size]));
    for (const [key, buf] of Object.entries(state.buffers)) {
      const name = key.slice(key.indexOf("/") + 1);
      const size = sizes.get(name);
      if (size === undefined) {
        throw new InputError(`${source}: optimiser buffer ${key} is for unknown parameter ${name}`);
      }
      if (size !== buf.length) {
        throw new InputError(
          `${source}: optimiser buffer ${key} has ${buf.length} values, parameter ${name} has ${size}`,
        );
      }
    }
    this.steps = state.steps;
    this.lr = state.lr;
    this.buffers.clear();
    for (const [k, v] of Object.entries(state.buffers)) this.buffers.set(k, v.slice());
  }
}
