import { takeZeroed } from "./buffer-pool.js";

/**
 * A dense, row-major float32 tensor. Shapes are mostly [] (a scalar), [n] or [rows, cols]; ops
 * that broadcast read a 1-D [n] as one row, [1, n]. The gradient buffer is allocated on first use,
 * so tensors that never take part in a backward pass cost nothing extra.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** d(loss)/d(this), same layout as `data`; null until a backward pass reaches this tensor. */
  grad: Float32Array | null = null;
  /** Whether gradients flow into this tensor (parameters, and every op output that depends on one). */
  requiresGrad: boolean;
  /** A parameter or input (true) or an op output (false); op outputs drop their grads after backward. */
  readonly isLeaf: boolean;
  /** For error messages and gradient-check reports. */
  name: string | undefined;

  constructor(
    data: Float32Array,
    shape: readonly number[],
    opts: { requiresGrad?: boolean; isLeaf?: boolean; name?: string } = {},
  ) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new RangeError(`Tensor: shape [${shape}] needs ${size} values, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = opts.requiresGrad ?? false;
    this.isLeaf = opts.isLeaf ?? true;
    this.name = opts.name;
  }

  /** A tensor of zeros. */
  static zeros(shape: readonly number[], opts?: { requiresGrad?: boolean; name?: string }): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape, opts);
  }

  /** A tensor holding a copy of `values` (a nested 2-D array, a flat array with `shape`, or a number). */
  static from(
    values: number | ArrayLike<number> | readonly (readonly number[])[],
    shape?: readonly number[],
    opts?: { requiresGrad?: boolean; name?: string },
  ): Tensor {
    if (typeof values === "number") return new Tensor(Float32Array.of(values), shape ?? [], opts);
    const first = (values as ArrayLike<unknown>)[0];
    if (Array.isArray(first)) {
      const rows = values as readonly (readonly number[])[];
      const cols = rows[0].length;
      const data = new Float32Array(rows.length * cols);
      rows.forEach((row, r) => {
        if (row.length !== cols) {
          throw new RangeError(`Tensor.from: row ${r} has ${row.length} values, row 0 has ${cols}`);
        }
        data.set(row, r * cols);
      });
      return new Tensor(data, shape ?? [rows.length, cols], opts);
    }
    const flat = values as ArrayLike<number>;
    return new Tensor(Float32Array.from(flat), shape ?? [flat.length], opts);
  }

  get size(): number {
    return this.data.length;
  }

  /** Rows when read as a matrix: shape[0] for 2-D, 1 for 1-D and scalars. */
  get rows(): number {
    return this.shape.length === 2 ? this.shape[0] : 1;
  }

  /** Columns when read as a matrix: the last dimension (1 for a scalar). */
  get cols(): number {
    return this.shape.length === 0 ? 1 : this.shape[this.shape.length - 1];
  }

  /** The single value of a one-element tensor (a loss, say). */
  item(): number {
    if (this.size !== 1) throw new RangeError(`Tensor.item: shape [${this.shape}] is not a scalar`);
    return this.data[0];
  }

  /**
   * The gradient buffer, allocated (zeroed) on first use. An op output's comes from the buffer
   * pool and goes back to it when the backward pass ends.
   */
  gradBuffer(): Float32Array {
    if (this.grad === null) {
      this.grad = this.isLeaf ? new Float32Array(this.data.length) : takeZeroed(this.data.length);
    }
    return this.grad;
  }

  /** Zeroes the gradient in place (keeping the buffer for the next step). */
  zeroGrad(): void {
    this.grad?.fill(0);
  }

  /** "name [r, c]" for error messages. */
  describe(): string {
    return `${this.name ? `${this.name} ` : ""}[${this.shape}]`;
  }

  /** Rows as plain arrays, for tests and debugging. */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let r = 0; r < this.rows; r++) {
      out.push(Array.from(this.data.subarray(r * this.cols, (r + 1) * this.cols)));
    }
    return out;
  }
}

/** The number of values a shape holds; throws on a dimension that is not an integer >= 0. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`Tensor: bad shape [${shape}]; dimensions must be integers >= 0`);
    }
    n *= d;
  }
  return n;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
