/**
 * The paper's preprocessing (section 4): lowercase and drop non-alphanumerics. A token is a
 * maximal run of [a-z0-9] after lowercasing, which reproduces the `tokens` of Karpathy-layout
 * Flickr8k files exactly. Accents are stripped first (NFKD, then combining marks dropped) so
 * "naïve" gives "naive", not "nai" and "ve"; ASCII captions are unaffected.
 */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .match(/[a-z0-9]+/g) ?? []
  );
}
