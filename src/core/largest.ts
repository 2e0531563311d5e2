/** Values sampled, evenly spaced, to place the floor `nthLargest` first tries. */
const SAMPLE = 4_096;

/**
 * Reorders `values` (numbers, no NaN) so that values[k] is what sorting them would put there, and
 * returns it: Hoare's selection, in time linear in their length.
 */
function select(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const a = values[lo];
    const b = values[(lo + hi) >> 1];
    const c = values[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i++] = values[j];
        values[j--] = t;
      }
    }
    // [lo, j] <= pivot <= [i, hi], and what lies between equals it.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}

/**
 * The n-th largest number of `scores` (NaN is not a number here) and how many are larger, or
 * undefined when it has fewer than n numbers. In time linear in its length: a floor from an
 * evenly spaced sample, below which about 1.25 n are expected, keeps every value at or above it
 * (lowered until at least n are), and only those are searched. What is kept holds the n largest,
 * since all that is not is below the floor.
 */
function nthLargest(scores: Float32Array, n: number): { last: number; above: number } | undefined {
  const step = Math.max(1, Math.floor(scores.length / SAMPLE));
  const sample = new Float32Array(Math.floor(scores.length / step));
  for (let j = 0; j < sample.length; j++) sample[j] = scores[j * step];
  // Ascending, NaN last: the floor is counted back from the last number.
  sample.sort();
  let numbers = sample.length;
  while (numbers > 0 && Number.isNaN(sample[numbers - 1])) numbers--;
  for (let over = Math.ceil((1.25 * n) / step); ; over *= 2) {
    const floor = over < numbers ? sample[numbers - 1 - over] : Number.NEGATIVE_INFINITY;
    let count = 0;
    for (let k = 0; k < scores.length; k++) if (scores[k] >= floor) count++;
    if (count < n && floor !== Number.NEGATIVE_INFINITY) continue;
    if (count < n) return undefined;
    const kept = new Float32Array(count);
    let at = 0;
    for (let k = 0; k < scores.length; k++) if (scores[k] >= floor) kept[at++] = scores[k];
    const last = select(kept, count - n);
    let above = 0;
    for (let k = count - n + 1; k < count; k++) if (kept[k] > last) above++;
    return { last, above };
  }
}

/**
 * The positions of the `n` largest of `scores`, in ascending order (ties: lower positions first);
 * NaN is never among them.
 */
export function largest(scores: Float32Array, n: number): number[] {
  const out: number[] = [];
  if (n <= 0) return out;
  const nth = nthLargest(scores, n);
  if (nth === undefined) {
    for (let k = 0; k < scores.length; k++) if (!Number.isNaN(scores[k])) out.push(k);
    return out;
  }
  const { last, above } = nth;
  // How many of the n are ties at `last`: n less those above it.
  let ties = n - above;
  for (let k = 0; k < scores.length; k++) {
    if (scores[k] > last || (scores[k] === last && ties-- > 0)) out.push(k);
  }
  return out;
}
