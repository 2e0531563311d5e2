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
   * For each group g of `data` (per rows of `width` int8 values v_r, each with a float32 scale and
   * length) and `rows` query rows q_t (rows x width) with offsets o_t:
   *
   *   out[g] += weight * sum_t max_r (o_t + scale_r (q_t . v_r)) * div_r
   *
   * div_r = 1 / length_r (0 for a length of 0) when `unit`, else 1 (lengths are then not read).
   * A max over values one of which is not a number is NaN (as Math.max), so a broken row makes
   * its group's score NaN. The search index's candidate stage:
   * S_kl's form over int8 sketches, read where they are stored, without decoding them first.
   * The native kernel computes rows of at most 256 values on a CPU with AVX-512BW and VNNI in
   * integers, each query row rounded to 15 bits first (its own scale, max |q_t| / 32767): within
   * 1e-4 of this, at half the time or less; a query with a value that is not finite takes the
   * float path.
   */
  int8MaxDotSum(
    data: Int8Groups,
    q: Float32Array,
    rows: number,
    offsets: Float32Array,
    unit: boolean,
    weight: number,
    out: Float32Array,
  ): void;

  /**
   * For each record r of `data` (one row of `width` int8 values v_r with a float32 scale) and a
   * query q of `width` floats, rounded to int8 with one scale first (s_q = max |q| / 127 and
   * q8 = round(q / s_q), halves away from zero, in float32):
   *
   *   out[r] = scale_r s_q (q8 . v_r)
   *
   * the dot product in integers (exact), so that it runs as widening integer multiply-adds, 32
   * values an instruction. The search index's first candidate stage: each image's summary
   * against the query's summed word vectors, a million records a query.
   */
  int8Dot(data: Int8Rows, q: Float32Array, out: Float32Array): void;

  /**
   * `n` zeroed floats for an array that is written once and kept (a loaded model's weights).
   * The native kernels put large ones on transparent huge pages where the system grants them:
   * first writes to fresh memory cost a page fault per 4 KB page, most of loading a model.
   */
  allocateFloats(n: number): Float32Array;

  /**
   * out[i] = the IEEE half-precision value with bits bits[i] (exactly; every half is a float32);
   * returns how many are infinite or NaN. `bits` and `out` have the same length. How a
   * checkpoint's float16 weights are read.
   */
  halvesToFloats(bits: Uint16Array, out: Float32Array): number;

  /**
   * For each k: the `recordBytes` bytes of record ids[k] of the file open as `fd` (at byte
   * ids[k] x recordBytes) into out at k x recordBytes, where 0 <= ids[k] < slots and the file
   * holds the whole record; otherwise that record's first 4 bytes are `noRecord` (int32,
   * little-endian). `out` holds ids.length records. A read that fails throws. How the search
   * index reads its candidates' records by position (RecordFile.read): the native kernels read
   * on every thread, a system call a record, without a call from JavaScript each.
   */
  readRecords(reads: RecordReads, out: Uint8Array): void;

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

/**
 * Records of one int8 row each stored in bytes (see `Kernels.int8Dot`): record r starts at byte
 * r * recordBytes of `bytes`; in it, width values at valuesAt and a float32 scale at scaleAt
 * (little-endian).
 */
export interface Int8Rows {
  readonly bytes: Uint8Array;
  readonly rows: number;
  readonly recordBytes: number;
  readonly width: number;
  readonly valuesAt: number;
  readonly scaleAt: number;
}

/** Records read by position from a file of fixed-size records (see `Kernels.readRecords`). */
export interface RecordReads {
  readonly fd: number;
  readonly ids: Int32Array;
  readonly recordBytes: number;
  readonly slots: number;
  readonly noRecord: number;
}

/**
 * Groups of int8 rows stored in bytes (see `Kernels.int8MaxDotSum`): group g starts at byte
 * g * groupBytes of `bytes`; in it, row r's width values at valuesAt + r * valueStride, its
 * float32 scale at scalesAt + r * scaleStride and its float32 length at lengthsAt + r *
 * lengthStride (little-endian). The search index's sketches keep each kind together (strides
 * width, 4, 4); its vectors keep each row's scale before its values (strides 4 + width).
 */
export interface Int8Groups {
  readonly bytes: Uint8Array;
  readonly groups: number;
  readonly groupBytes: number;
  readonly per: number;
  readonly width: number;
  readonly valuesAt: number;
  readonly valueStride: number;
  readonly scalesAt: number;
  readonly scaleStride: number;
  readonly lengthsAt: number;
  readonly lengthStride: number;
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
