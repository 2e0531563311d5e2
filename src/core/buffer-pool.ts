/**
 * Recycled Float32Arrays for buffers whose lifetime the autodiff tape knows: op outputs'
 * gradients and the scratch an op keeps for its backward pass (softmax probabilities, dropout
 * masks). Those live from one forward pass to the end of its backward pass, then come back here,
 * so a training loop reuses the same memory every step instead of allocating (and zero-filling,
 * and collecting) tens of megabytes per batch. Small arrays are not worth pooling.
 */
const MIN_LENGTH = 1024;
const MAX_POOLED_BYTES = 512 * 1024 * 1024;

const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;

/** A zero-filled array of `length` values, recycled when one is free. */
export function takeZeroed(length: number): Float32Array {
  const buf = take(length);
  buf.fill(0);
  return buf;
}

/** An array of `length` values with arbitrary contents, recycled when one is free. */
export function take(length: number): Float32Array {
  const buf = free.get(length)?.pop();
  if (buf === undefined) return new Float32Array(length);
  pooledBytes -= buf.byteLength;
  return buf;
}

/** Returns an array for reuse; the caller must hold no reference to it afterwards. */
export function give(buf: Float32Array): void {
  if (buf.length < MIN_LENGTH || pooledBytes + buf.byteLength > MAX_POOLED_BYTES) return;
  // Only whole buffers: a view into a larger buffer would hand out memory still in use.
  if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength) return;
  let list = free.get(buf.length);
  if (list === undefined) {
    list = [];
    free.set(buf.length, list);
  }
  list.push(buf);
  pooledBytes += buf.byteLength;
}
