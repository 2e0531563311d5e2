import type { Tensor } from "./tensor.js";

export interface ParamOptions {
  /** Whether the optimiser updates it (false for frozen word vectors). Default true. */
  trainable?: boolean;
  /** Whether weight decay applies. Default: true for matrices, false for biases (1-D). */
  decay?: boolean;
}

export interface Param {
  readonly name: string;
  readonly tensor: Tensor;
  readonly trainable: boolean;
  readonly decay: boolean;
}

/**
 * A model's parameters by name, in insertion order. Optimisers walk it, checkpoints save and
 * restore it, and the gradient checker perturbs it; the names are what error messages show.
 */
export class Params {
  private readonly byName = new Map<string, Param>();

  /** Registers `tensor` under `name` (marking it as requiring gradients if trainable) and returns it. */
  add(name: string, tensor: Tensor, opts: ParamOptions = {}): Tensor {
    if (this.byName.has(name)) throw new Error(`Params.add: "${name}" is already registered`);
    const trainable = opts.trainable ?? true;
    tensor.name = name;
    tensor.requiresGrad = trainable;
    this.byName.set(name, {
      name,
      tensor,
      trainable,
      decay: opts.decay ?? tensor.shape.length >= 2,
    });
    return tensor;
  }

  get(name: string): Tensor {
    const p = this.byName.get(name);
    if (!p)
      throw new Error(`Params.get: no parameter "${name}" (have: ${this.names().join(", ")})`);
    return p.tensor;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Every parameter with its options. */
  all(): Param[] {
    return [...this.byName.values()];
  }

  /** The parameters an optimiser updates. */
  trainable(): Param[] {
    return this.all().filter((p) => p.trainable);
  }

  /** Zeroes every gradient, before accumulating the next batch's. */
  zeroGrad(): void {
    for (const p of this.byName.values()) p.tensor.zeroGrad();
  }

  /** The number of scalar parameters. */
  count(): number {
    let n = 0;
    for (const p of this.byName.values()) n += p.tensor.size;
    return n;
  }
}
