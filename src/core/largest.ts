/**
 * The positions of the `n` largest of `scores`, in ascending order (ties: lower positions first);
 * NaN is never among them.
 */
export function largest(scores: Float32Array, n: number): number[] {
  const sorted = Float32Array.from(scores).sort();
  let numbers = sorted.length;
  while (numbers > 0 && Number.isNaN(sorted[numbers - 1])) numbers--;
  const out: number[] = [];
  if (n <= 0) return out;
  if (n >= numbers) {
    for (let k = 0; k < scores.length; k++) if (!Number.isNaN(scores[k])) out.push(k);
    return out;
  }
  const last = sorted[numbers - n];
  // How many of the n are ties at `last`: n less those above it.
  let lo = 0;
  let hi = numbers;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= last) lo = mid + 1;
    else hi = mid;
  }
  let ties = n - (numbers - lo);
  for (let k = 0; k < scores.length; k++) {
    if (scores[k] > last || (scores[k] === last && ties-- > 0)) out.push(k);
  }
  return out;
}
