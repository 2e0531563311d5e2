/**
 * METEOR 1.5's English normalizer (edu.cmu.meteor.util.Normalizer, used by `-norm` as
 * coco-caption runs it), a Moses-tokenizer variant. On PTB tokens it matters: it splits symbols,
 * removes dashes between words (`black-and-white` → `black and white`), splits apostrophes
 * (`'s` → `' s`, `n't` → `n 't`), and drops the dots of dotted abbreviations (`u.s.` → `us`).
 * Then it lowercases.
 */

/** The letters the normalizer knows: Latin-1, Latin Extended-A and Cyrillic ranges. */
const ALPHA =
  "A-Za-z\u0160\u017d\u0161\u017e\u0178\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017e" +
  "\u0400-\u04ff\u0500-\u0527\ua640-\ua66e\ua67e-\ua697\u1d00-\u1d7f";
const ALNUM = `0-9${ALPHA}`;

const SEPARATE_OTHER = new RegExp(`([^${ALNUM}\\s.'\`,\\-\u2018\u2019])`, "g");
const DASH_BETWEEN_WORDS = new RegExp(`([${ALNUM}.])-([${ALNUM}])`, "g");
const APOSTROPHE_RULES: readonly (readonly [RegExp, string])[] = [
  [new RegExp(`([^${ALPHA}])'([^${ALPHA}])`, "g"), "$1 ' $2"],
  [new RegExp(`([^${ALPHA}0-9])'([${ALPHA}])`, "g"), "$1 ' $2"],
  [new RegExp(`([${ALPHA}])'([^${ALPHA}])`, "g"), "$1 ' $2"],
  [new RegExp(`([${ALPHA}])'([${ALPHA}])`, "g"), "$1 '$2"],
  [/([0-9])'(s)/g, "$1 '$2"],
];
const HAS_ALPHA = new RegExp(`[${ALPHA}]`);

/**
 * Lower-case entries of Moses' English non-breaking prefixes (the upper-case ones never meet
 * lowercased captions): these keep a final period.
 */
const NONBREAKING = new Set(["v", "vs", "rev"]);
const NONBREAKING_BEFORE_NUMBER = new Set(["pp"]);

/** Normalizes a tokenized sentence as METEOR's `-norm` does, returning its tokens. */
export function meteorNormalize(tokens: readonly string[]): string[] {
  let line = ` ${tokens.join(" ")} `.replace(SEPARATE_OTHER, " $1 ");
  // Runs of dots become a token of their own (METEOR escapes them as DOTMULTI meanwhile).
  line = line.replace(/\.{2,}/g, " $& ");
  line = line
    .replace(/([^0-9]),([^0-9])/g, "$1 , $2")
    .replace(/([0-9]),([^0-9])/g, "$1 , $2")
    .replace(/([^0-9]),([0-9])/g, "$1 , $2")
    .replace(/[`\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]|''/g, ' " ')
    .replaceAll("\u2013", "-")
    .replaceAll("--", "-")
    .replace(DASH_BETWEEN_WORDS, "$1 $2");
  for (const [pattern, replacement] of APOSTROPHE_RULES) line = line.replace(pattern, replacement);

  const words = line.split(/[ \t\n\r\f]+/).filter((w) => w !== "");
  const out: string[] = [];
  words.forEach((word, i) => {
    const next = words[i + 1];
    if (word.length < 2 || !word.endsWith(".") || /^\.+$/.test(word)) {
      out.push(word);
      return;
    }
    const prefix = word.slice(0, -1);
    if (prefix.includes(".") && HAS_ALPHA.test(prefix)) {
      out.push(word.replaceAll(".", ""));
    } else if (NONBREAKING.has(prefix) || (next !== undefined && /^[a-z]/.test(next))) {
      out.push(word);
    } else if (NONBREAKING_BEFORE_NUMBER.has(prefix) && next !== undefined && /^[0-9]/.test(next)) {
      out.push(word);
    } else {
      out.push(prefix, ".");
    }
  });
  return out.map((w) => w.toLowerCase());
}
