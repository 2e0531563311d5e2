/**
 * Calls `visit` with the key of every n-gram of `tokens` for n = 1..maxN (its tokens joined by
 * NUL), all the unigrams first, then the bigrams, and so on.
 */
export function forEachNgram(
  tokens: readonly string[],
  maxN: number,
  visit: (key: string) => void,
): void {
  // keys[i]: the (n-1)-gram starting at i, extended by one token for each n (not re-joined).
  const keys = tokens.slice();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      if (n > 1) keys[i] = `${keys[i]}\u0000${tokens[i + n - 1]}`;
      visit(keys[i]);
    }
  }
}

/** Counts of every n-gram of `tokens` for n = 1..maxN, keyed as forEachNgram keys them. */
export function countNgrams(tokens: readonly string[], maxN: number): Map<string, number> {
  const counts = new Map<string, number>();
  forEachNgram(tokens, maxN, (key) => counts.set(key, (counts.get(key) ?? 0) + 1));
  return counts;
}

/** The order (n) of an n-gram key made by `countNgrams`. */
export function ngramOrder(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 0) n++;
  return n;
}
