/** Values sampled, evenly spaced, to place the floor `nthLargest` first tries. */
const SAMPLE = 4_096;

/**
 * The n-th largest number of `scores` (NaN is not a number here), or undefined when it has fewer
 * than n. In time linear in its length: a floor from an evenly spaced sample, below which about
 * 1.25 n are expected, keeps every value at or above it (lowered until at least n are), and only
 * those are sorted. What is kept holds the n largest, since all that is not is below the floor.
 */
function nthLargest(scores: Float32Array, n: number): number | undefined {
  const step = Math.max(1, Math.floor(scores.length / SAMPLE));
  const sample = new Float32Array(Math.floor(scores.length / step));
  for (let j = 0; j < sample.length; j++) sample[j] = scores[j * step];
  // Ascending, NaN last: the floor is counted back from the last number.
  sample.sort();
  let numbers = sample.length;
  while (numbers > 0 && Number.isNaN(sample[numbers - 1])) numbers--;
  for (let above = Math.ceil((1.25 * n) / step); ; above *= 2) {
    const floor = above < numbers ? sample[numbers - 1 - above] : Number.NEGATIVE_INFINITY;
    let count = 0;
    for (let k = 0; k < scores.length; k++) if (scores[k] >= floor) count++;
    if (count < n && floor !== Number.NEGATIVE_INFINITY) continue;
    if (count < n) return undefined;
    const kept = new Float32Array(count);
    let at = 0;
    for (let k = 0; k < scores.length; k++) if (scores[k] >= floor) kept[at++] = scores[k];
    return kept.sort()[count - n];
  }
}

/**
 * The positions of the `n` largest of `scores`, in ascending order (ties: lower positions first);
 * NaN is never among them.
 */
export function largest(scores: Float32Array, n: number): number[] {
  const out: number[] = [];
  if (n <= 0) return out;
  const last = nthLargest(scores, n);
  if (last === undefined) {
    for (let k = 0; k < scores.length; k++) if (!Number.isNaN(scores[k])) out.push(k);
    return out;
  }
  // How many of the n are ties at `last`: n less those above it.
  let ties = n;
  for (let k = 0; k < scores.length; k++) if (scores[k] > last) ties--;
  for (let k = 0; k < scores.length; k++) {
    if (scores[k] > last || (scores[k] === last && ties-- > 0)) out.push(k);
  }
  return out;
}
