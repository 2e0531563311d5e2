import { give } from "./buffer-pool.js";
import { Tensor } from "./tensor.js";

/**
 * Reverse-mode autodiff on a tape. Each op that has an input requiring gradients pushes its output
 * and a backward function onto the tape; `backward(loss)` walks the tape from the end, so every
 * output's gradient is complete before its backward function reads it (creation order is a
 * topological order). Backward functions accumulate (+=) into their inputs' gradient buffers.
 *
 * The tape is module-wide, like PyTorch's: model code just calls ops. Work that needs no gradients
 * (validation, decoding, numerical gradient checks) runs inside `noGrad`, which records nothing.
 */
export type BackwardFn = (gradOut: Float32Array) => void;

const outs: Tensor[] = [];
const fns: BackwardFn[] = [];
/** Pooled buffers that recorded backward functions read; recycled when the tape is cleared. */
const scratch: Float32Array[] = [];
let enabled = true;

/** Whether an op with these inputs must record itself: gradients are on and one input needs them. */
export function needsGrad(...inputs: readonly Tensor[]): boolean {
  if (!enabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/**
 * Wraps an op's freshly computed output. When an input needs gradients the output does too, and
 * `backward` (given d(loss)/d(out)) is recorded to run during the backward pass. `buffers` are
 * pooled arrays (from `take`) that only `backward` reads: they are recycled when the tape is
 * cleared, or at once when nothing was recorded.
 */
export function result(
  data: Float32Array,
  shape: readonly number[],
  inputs: readonly Tensor[],
  backward: BackwardFn,
  buffers: readonly Float32Array[] = [],
): Tensor {
  const track = needsGrad(...inputs);
  const out = new Tensor(data, shape, { requiresGrad: track, isLeaf: false });
  if (track) {
    outs.push(out);
    fns.push(backward);
    scratch.push(...buffers);
  } else {
    for (const b of buffers) give(b);
  }
  return out;
}

/**
 * Back-propagates from `loss` (a one-element tensor, seeded with d(loss)/d(loss) = 1, or any
 * tensor with an explicit `seed` gradient) into every tensor that requires gradients, then clears
 * the tape. Leaf gradients accumulate across calls until zeroed; op outputs drop theirs.
 */
export function backward(loss: Tensor, seed?: Float32Array): void {
  if (!loss.requiresGrad) {
    throw new Error(
      `backward: loss ${loss.describe()} does not depend on any tensor that requires gradients ` +
        "(was it computed inside noGrad, or from parameters not registered with requiresGrad?)",
    );
  }
  if (seed === undefined && loss.size !== 1) {
    throw new RangeError(`backward: loss ${loss.describe()} is not a scalar; pass a seed gradient`);
  }
  if (seed !== undefined && seed.length !== loss.size) {
    throw new RangeError(
      `backward: seed has ${seed.length} values, loss ${loss.describe()} has ${loss.size}`,
    );
  }
  const g = loss.gradBuffer();
  if (seed === undefined) g[0] += 1;
  else for (let i = 0; i < g.length; i++) g[i] += seed[i];
  try {
    for (let i = outs.length - 1; i >= 0; i--) {
      const grad = outs[i].grad;
      // Outputs the loss does not depend on (a forgotten validation pass, say) have no gradient.
      if (grad !== null) fns[i](grad);
    }
  } finally {
    clearTape();
  }
}

/**
 * Drops everything recorded so far. Op outputs' gradients and the ops' scratch buffers go back to
 * the buffer pool, so no reference to an op output's `grad` may be kept past this point.
 */
export function clearTape(): void {
  for (const t of outs) {
    if (t.grad !== null) give(t.grad);
    t.grad = null;
  }
  for (const b of scratch) give(b);
  outs.length = 0;
  fns.length = 0;
  scratch.length = 0;
}

/** How many ops are recorded; tests use it to check that inference records nothing. */
export function tapeLength(): number {
  return outs.length;
}

/** Runs `fn` without recording: its ops produce tensors that require no gradients. */
export function noGrad<T>(fn: () => T): T {
  const was = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = was;
  }
}

/** Whether ops are being recorded now (false inside `noGrad`). */
export function isRecording(): boolean {
  return enabled;
}
