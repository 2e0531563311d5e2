/**
 * Recycled Float32Arrays for buffers whose lifetime the autodiff tape knows: op outputs'
 * gradients and the scratch an op keeps for its backward pass (softmax probabilities, dropout
 * masks). Those live from one forward pass to the end of its backward pass, then come back here,
 * so a training loop reuses the same memory every step instead of allocating (and zero-filling,
 * and collecting) tens of megabytes per batch. Small arrays are not worth pooling.
 *
 * Batches differ in word count, so the same buffer is asked for at slightly different lengths
 * every step: memory is kept in capacity classes an eighth of a power of two apart, and a request
 * gets a view of the first `length` values of a buffer of its class.
 */
const MIN_LENGTH = 1024;
const MAX_POOLED_BYTES = 512 * 1024 * 1024;

/** Free buffers by capacity (in values). */
const free = new Map<number, ArrayBuffer[]>();
/** Buffers this pool made: only those are taken back, never memory another array owns. */
const issued = new WeakSet<ArrayBufferLike>();
/** Issued buffers now free, so giving one back twice cannot hand it out twice. */
const idle = new WeakSet<ArrayBufferLike>();
let pooledBytes = 0;

/**
 * The capacity a request of `length` values is served from: `length` rounded up to the next
 * eighth of its power of two (at most 12.5% more).
 */
export function capacityFor(length: number): number {
  if (length <= MIN_LENGTH) return length;
  const step = 2 ** (Math.floor(Math.log2(length)) - 3);
  return Math.ceil(length / step) * step;
}

/** A zero-filled array of `length` values, recycled when one is free. */
export function takeZeroed(length: number): Float32Array {
  const buf = take(length);
  buf.fill(0);
  return buf;
}

/** An array of `length` values with arbitrary contents, recycled when one is free. */
export function take(length: number): Float32Array {
  if (length < MIN_LENGTH) return new Float32Array(length);
  const capacity = capacityFor(length);
  const buffer = free.get(capacity)?.pop();
  if (buffer === undefined) {
    const fresh = new ArrayBuffer(capacity * Float32Array.BYTES_PER_ELEMENT);
    issued.add(fresh);
    return new Float32Array(fresh, 0, length);
  }
  idle.delete(buffer);
  pooledBytes -= buffer.byteLength;
  return new Float32Array(buffer, 0, length);
}

/**
 * Returns an array from `take` for reuse; the caller must hold no reference to it afterwards.
 * Anything else (arrays the pool did not make, views into the middle of one, a second return of
 * the same array) is ignored.
 */
export function give(buf: Float32Array): void {
  const buffer = buf.buffer;
  if (buf.byteOffset !== 0 || !issued.has(buffer) || idle.has(buffer)) return;
  if (pooledBytes + buffer.byteLength > MAX_POOLED_BYTES) return;
  const capacity = buffer.byteLength / Float32Array.BYTES_PER_ELEMENT;
  let list = free.get(capacity);
  if (list === undefined) {
    list = [];
    free.set(capacity, list);
  }
  list.push(buffer as ArrayBuffer);
  idle.add(buffer);
  pooledBytes += buffer.byteLength;
}
