/**
 * The noun phrases of a caption, without a tagger: Flickr8k-style captions are short, and their
 * phrases ("a little girl", "a red shirt", "the grass", "two dogs") nearly always begin with a
 * determiner or a number and end before a preposition, a conjunction, an auxiliary or a verb.
 * Verbs are told from nouns by how the captions use them: a word with a verb's ending that almost
 * never follows a determiner ("jumps", "riding") ends a phrase; one that does ("a building", "the
 * dogs") does not.
 * Those rates come from the training captions (`determinerRates`), so no word list of verbs is
 * written by hand.
 *
 * A phrase is tokens [start, end) of its sentence. "of" stays inside ("a group of people", "a
 * pair of jeans"); "and" between two describing words stays too ("a black and white dog").
 */
export interface NounPhrase {
  readonly start: number;
  readonly end: number;
}

/** Words that open a noun phrase. */
const DETERMINERS = new Set(
  "a an the his her their its this that these those some another two three four five six several many one each".split(
    " ",
  ),
);

/** Words that end one: prepositions but "of", conjunctions, auxiliaries, relative pronouns. */
const BREAKS = new Set(
  "in on at through across near along by into over under down up around onto past from inside beside behind with while as and or but who which that is are was were be being been has have had to for toward towards off out against between next".split(
    " ",
  ),
);

/** Below this share of its uses after a determiner, a word seen often enough is a verb. */
const VERB_RATE = 0.03;
/** A word said fewer times than this in the training captions is not judged a verb. */
const MIN_USES = 20;

/**
 * For each word used at least MIN_USES times in the training captions: its uses and the share of
 * them right after a determiner (rarer words are never judged verbs, so they need no entry).
 */
export type DeterminerRates = ReadonlyMap<string, { readonly uses: number; readonly rate: number }>;

export function determinerRates(captions: Iterable<readonly string[]>): DeterminerRates {
  const uses = new Map<string, number>();
  const after = new Map<string, number>();
  for (const c of captions) {
    c.forEach((w, i) => {
      uses.set(w, (uses.get(w) ?? 0) + 1);
      if (i > 0 && DETERMINERS.has(c[i - 1])) after.set(w, (after.get(w) ?? 0) + 1);
    });
  }
  return new Map(
    [...uses]
      .filter(([, n]) => n >= MIN_USES)
      .map(([w, n]) => [w, { uses: n, rate: (after.get(w) ?? 0) / n }]),
  );
}

/**
 * Only words with a verb's ending can be verbs: a noun that mostly follows an adjective ("a blue
 * shirt") follows a determiner as rarely as "jumps" does.
 */
const VERB_ENDING = /(s|ing|ed)$/;

function isVerb(word: string, rates: DeterminerRates): boolean {
  const r = rates.get(word);
  return r !== undefined && r.rate < VERB_RATE && VERB_ENDING.test(word) && !DETERMINERS.has(word);
}

/**
 * The noun phrases of `tokens`: runs that open at a determiner, or at a word after a break or at
 * the start of the sentence ("people walk by", "in red shirts"), and close before a break or a
 * verb. A run of only a determiner is
 * dropped.
 */
export function nounPhrases(tokens: readonly string[], rates: DeterminerRates): NounPhrase[] {
  const out: NounPhrase[] = [];
  let start = -1;
  const close = (end: number) => {
    if (start >= 0 && end - start >= 1 && !(end - start === 1 && DETERMINERS.has(tokens[start]))) {
      out.push({ start, end });
    }
    start = -1;
  };
  tokens.forEach((w, i) => {
    const isBreak = BREAKS.has(w) || isVerb(w, rates);
    const keepsAnd =
      w === "and" &&
      start >= 0 &&
      i + 1 < tokens.length &&
      !DETERMINERS.has(tokens[i + 1]) &&
      !isVerb(tokens[i + 1], rates) &&
      i + 2 < tokens.length &&
      !BREAKS.has(tokens[i + 2]);
    if (keepsAnd) return;
    if (DETERMINERS.has(w) && !(start >= 0 && tokens[i - 1] === "of")) {
      close(i);
      start = i;
      return;
    }
    if (isBreak) {
      close(i);
      return;
    }
    if (start < 0 && (i === 0 || BREAKS.has(tokens[i - 1]))) start = i;
  });
  close(tokens.length);
  return out;
}

/** Head word -> a share of the noun phrases it heads (the last word of each). */
export type HeadShares = ReadonlyMap<string, number>;

/** A word heading fewer noun phrases than this in the training captions gets no share. */
export const MIN_HEAD_USES = 20;

/**
 * For every word heading at least MIN_HEAD_USES noun phrases (nounPhrases) of `captions`: the
 * share of them for which `marked(tokens, phrase)` holds. Words with a share of 0 are left out.
 */
export function headShares(
  captions: Iterable<readonly string[]>,
  rates: DeterminerRates,
  marked: (tokens: readonly string[], phrase: NounPhrase) => boolean,
): Map<string, number> {
  const heads = new Map<string, number>();
  const hits = new Map<string, number>();
  for (const tokens of captions) {
    for (const phrase of nounPhrases(tokens, rates)) {
      const head = tokens[phrase.end - 1];
      heads.set(head, (heads.get(head) ?? 0) + 1);
      if (marked(tokens, phrase)) hits.set(head, (hits.get(head) ?? 0) + 1);
    }
  }
  const shares = new Map<string, number>();
  for (const [w, n] of heads) {
    const k = hits.get(w) ?? 0;
    if (n >= MIN_HEAD_USES && k > 0) shares.set(w, k / n);
  }
  return shares;
}

/** The share of the phrase's last word, 0 for a word without one or an empty phrase. */
export function headShare(shares: HeadShares, words: readonly string[]): number {
  return words.length > 0 ? (shares.get(words[words.length - 1]) ?? 0) : 0;
}
