/**
 * The compute kernels behind the autodiff core. Two implementations exist: the native N-API addon
 * (`native-kernels.ts`) and the pure-TypeScript reference (`ts-kernels.ts`). Model code never
 * imports either; it asks `kernels()` in `index.ts` for the active one.
 *
 * All matrices are dense, row-major Float32Array views. Every kernel is synchronous and writes
 * into caller-owned buffers; none allocates its result.
 */
export interface Kernels {
  /** "native (avx512)", "native (openblas)", "typescript", ... */
  readonly name: string;

  /**
   * C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T.
   * op(A) is m x k, op(B) is k x n, C is m x n. lda/ldb/ldc are the row strides of A, B and C as
   * stored (so A is m x lda when !transA and k x lda when transA). beta = 0 ignores C's contents
   * (NaN in C does not propagate).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;

  /** out[r, :] = softmax(x[r, :]) for a rows x cols matrix; out may alias x. */
  softmaxRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void;

  /**
   * Row-wise softmax cross-entropy against integer targets. Writes the probabilities into
   * `probs` (rows x cols) and -log p[r, target[r]] into `losses[r]`. A negative target marks a
   * padded row: its loss is 0 and its probabilities are still written.
   */
  softmaxCrossEntropy(
    logits: Float32Array,
    rows: number,
    cols: number,
    targets: Int32Array,
    probs: Float32Array,
    losses: Float32Array,
  ): void;

  /** For a rows x cols matrix, max over rows for each column, and the row it came from. */
  maxOverRows(
    x: Float32Array,
    rows: number,
    cols: number,
    maxOut: Float32Array,
    argOut: Int32Array,
  ): void;

  /**
   * The backward pass of out[g, c] = max over r < per of a[g per + r] . b[c] (rows of `width`
   * values; per rows a group), given the rows that won, arg[g, c] in [0, per), and dOut
   * (groups x cols):
   *
   *   dA[g per + arg[g, c]] += dOut[g, c] b[c]       dB[c] += dOut[g, c] a[g per + arg[g, c]]
   *
   * Only the winning rows get gradient, so this costs one row update per non-zero entry of dOut
   * instead of the two dense products through the full regions x words matrix. dA or dB may be
   * null when that gradient is not wanted.
   */
  maxProductBackward(
    arg: Int32Array,
    dOut: Float32Array,
    groups: number,
    cols: number,
    per: number,
    width: number,
    a: Float32Array,
    b: Float32Array,
    dA: Float32Array | null,
    dB: Float32Array | null,
  ): void;

  /**
   * One momentum SGD step on a parameter, in place, its gradient clipped elementwise first:
   * v = momentum v + clamp(g, -clip, clip) + weightDecay w; w -= lr v. `w`, `g` and `velocity`
   * have the same length; clip = Infinity clips nothing.
   */
  sgdUpdate(w: Float32Array, g: Float32Array, velocity: Float32Array, h: SgdHyper): void;

  /**
   * One RMSprop step on a parameter, in place, its gradient clipped elementwise first:
   * g' = clamp(g, -clip, clip) + weightDecay w; cache = decay cache + (1 - decay) g'^2;
   * w -= lr g' / (sqrt(cache correction) + eps). `w`, `g` and `cache` have the same length;
   * clip = Infinity clips nothing.
   */
  rmspropUpdate(w: Float32Array, g: Float32Array, cache: Float32Array, h: RmspropHyper): void;

  /** Threads used by multi-threaded kernels (1 for the TypeScript reference). */
  threads(): number;
  setThreads(n: number): void;
}

/** The scalars of one SGD step (see `Kernels.sgdUpdate`). */
export interface SgdHyper {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly clip: number;
}

/** The scalars of one RMSprop step (see `Kernels.rmspropUpdate`). */
export interface RmspropHyper {
  readonly lr: number;
  readonly decay: number;
  /** 1 / (1 - decay^t): the cache's bias correction at step t. */
  readonly correction: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clip: number;
}
