/**
 * The tokenization coco-caption applies to every caption before scoring: Stanford's PTBTokenizer
 * (CoreNLP 3.4.1, `-preserveLines -lowerCase`, default PTB3 options), then the tokens in
 * `PTB_PUNCTUATION` dropped. This is a TypeScript rendering of the PTB rules that matter for
 * caption text: punctuation split off words, clitics split (`dog's` → `dog 's`, `don't` →
 * `do n't`, `can't` → `ca n't`, `gonna` → `gon na`), brackets escaped (`(` → `-LRB-`), quotes,
 * dashes and ellipses normalized, British spellings Americanized, `/` and `*` escaped,
 * abbreviations keeping their period, numbers keeping their `.`, `,` and `:`.
 *
 * PTBTokenizer lowercases tokens after escaping them, while coco-caption's punctuation list
 * holds the upper-case escapes, so brackets survive as `-lrb-`, `-rrb-` and so on; this is kept.
 */

/** coco-caption's `PUNCTUATIONS` (tokenizer/ptbtokenizer.py), removed after tokenizing. */
export const PTB_PUNCTUATION: ReadonlySet<string> = new Set([
  "''",
  "'",
  "``",
  "`",
  "-LRB-",
  "-RRB-",
  "-LCB-",
  "-RCB-",
  ".",
  "?",
  "!",
  ",",
  ":",
  "-",
  "--",
  "...",
  ";",
]);

const BRACKETS: Readonly<Record<string, string>> = {
  "(": "-LRB-",
  ")": "-RRB-",
  "{": "-LCB-",
  "}": "-RCB-",
  "[": "-LSB-",
  "]": "-RSB-",
};

/** Words PTBLexer splits in two although they carry no apostrophe. */
const SPLIT_WORDS: Readonly<Record<string, readonly [number, number]>> = {
  cannot: [3, 3],
  gonna: [3, 2],
  gotta: [3, 2],
  wanna: [3, 2],
  gimme: [3, 2],
  lemme: [3, 2],
};

/** Abbreviations that keep their final period (PTBLexer's list, the part captions use). */
const ABBREVIATIONS = new Set([
  "mr.",
  "mrs.",
  "ms.",
  "dr.",
  "st.",
  "jr.",
  "sr.",
  "mt.",
  "ft.",
  "vs.",
  "etc.",
  "inc.",
  "ltd.",
  "co.",
  "corp.",
  "no.",
  "approx.",
]);

const CLITIC = /^(.+?)('s|'m|'d|'re|'ve|'ll|n't)$/i;
const LEADING_CLITIC = /^'(s|m|d|re|ve|ll|t|tis|twas|em)$/i;
const ACRONYM = /^(\p{L}\.){2,}$/u;

/**
 * PTB-tokenizes one caption as coco-caption does: lowercase tokens, coco-caption's punctuation
 * removed. Unicode letters and digits form words; other symbols become tokens of their own.
 */
export function ptbTokenize(text: string): string[] {
  return rawTokens(text)
    .map((token) => token.toLowerCase())
    .filter((token) => !PTB_PUNCTUATION.has(token));
}

/** PTBTokenizer's tokens, before lowercasing. */
export function rawTokens(text: string): string[] {
  const normalized = text
    .normalize("NFC")
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]/g, '"')
    .replace(/\u2026/g, "...")
    .replace(/[\u2013\u2014\u2015]/g, "--")
    .replace(/\u00ad|\u200b|\ufeff/g, "")
    .replace(/\p{Cc}/gu, " ");
  const tokens: string[] = [];
  for (const chunk of normalized.split(/\s+/u)) {
    if (chunk !== "") splitChunk(chunk, tokens);
  }
  return tokens;
}

/** Splits one whitespace-free chunk into PTB tokens, appending them to `out`. */
function splitChunk(chunk: string, out: string[]): void {
  // Symbols that always stand alone; `,` and `:` stay inside numbers (1,000 and 10:30).
  const spaced = chunk
    .replace(/\.\.\.+/g, " ... ")
    .replace(/--+/g, " -- ")
    .replace(/([?!]+|[;"()[\]{}$%#=<>|~^\\])/g, " $1 ")
    .replace(/([,:])(?!\p{N})|(?<!\p{N})([,:])/gu, " $1$2 ");
  for (const piece of spaced.split(" ")) {
    if (piece === "") continue;
    if (piece === "--" || piece === "...") {
      out.push(piece);
      continue;
    }
    if (piece === '"') {
      out.push("``");
      continue;
    }
    const bracket = BRACKETS[piece];
    if (bracket !== undefined) {
      out.push(bracket);
      continue;
    }
    splitWord(piece, out);
  }
}

/** Splits quotes, clitics and a final period off a word. */
function splitWord(word: string, out: string[]): void {
  const trailing: string[] = [];
  while (word.length > 1 && word.startsWith("'") && !LEADING_CLITIC.test(word)) {
    out.push("`");
    word = word.slice(1);
  }
  for (;;) {
    if (word.length > 1 && word.endsWith(".") && !keepsPeriod(word)) {
      trailing.unshift(".");
      word = word.slice(0, -1);
    } else if (word.length > 1 && word.endsWith("'")) {
      trailing.unshift("'");
      word = word.slice(0, -1);
    } else if (word.length > 1 && word.endsWith("-")) {
      trailing.unshift("-");
      word = word.slice(0, -1);
    } else {
      break;
    }
  }
  while (word.length > 1 && word.startsWith("-") && !/^-\p{N}/u.test(word)) {
    out.push("-");
    word = word.slice(1);
  }
  const clitic = CLITIC.exec(word);
  const split = SPLIT_WORDS[word.toLowerCase()];
  if (clitic?.[1] !== undefined && clitic[2] !== undefined) {
    // PTB writes can't / won't / ain't as ca n't / wo n't / ai n't: only n't is split off.
    out.push(clitic[1], clitic[2]);
  } else if (split !== undefined) {
    out.push(word.slice(0, split[0]), word.slice(split[0]));
  } else if (word !== "") {
    out.push(escapeSlashAsterisk(americanize(word)));
  }
  out.push(...trailing);
}

function keepsPeriod(word: string): boolean {
  if (word === "...") return true;
  const lower = word.toLowerCase();
  return ABBREVIATIONS.has(lower) || ACRONYM.test(word);
}

/** PTB3 escaping writes `/` and `*` as `\/` and `\*`. */
function escapeSlashAsterisk(word: string): string {
  return word.replace(/([/*])/g, "\\$1");
}

/**
 * CoreNLP's Americanize, which PTBTokenizer applies to words by default: a fixed list of British
 * spellings, then a few patterns (`colour` → `color`). Case-sensitive, as the original is.
 */
export function americanize(word: string): string {
  if (word.length < 4) return word;
  const mapped = AMERICAN_SPELLINGS.get(word);
  if (mapped !== undefined) return mapped;
  if (word.length < 6) return word;
  for (const [pattern, replacement, except] of AMERICANIZE_PATTERNS) {
    if (pattern.test(word) && !except?.test(word)) {
      return word.replace(new RegExp(pattern.source, "g"), replacement);
    }
  }
  return word;
}

const AMERICANIZE_PATTERNS: readonly (readonly [RegExp, string, RegExp | undefined])[] = [
  [/haem(at)?o/, "hem$1o", undefined],
  [/aemia$/, "emia", undefined],
  [/([lL])eukaem/, "$1eukem", undefined],
  [/programme(s?)$/, "program$1", undefined],
  [
    /^([a-z]{3,})our(s?)$/,
    "$1or$2",
    new RegExp(
      "abatjour|beflour|bonjour|calambour|carrefour|cornflour|contour|de[tv]our|dortour|dyvour|" +
        "downpour|giaour|glamour|holour|inpour|outpour|pandour|paramour|pompadour|recontour|" +
        "repour|ryeflour|sompnour|tambour|troubadour|tregetour|velour",
    ),
  ],
];

/** Americanize's word list, British → American. */
const AMERICAN_SPELLINGS: ReadonlyMap<string, string> = new Map(
  (
    "anaesthetic anesthetic analogue analog analogues analogs analyse analyze analysed analyzed " +
    "analysing analyzing armoured armored cancelled canceled cancelling canceling candour candor " +
    "capitalise capitalize capitalised capitalized capitalisation capitalization centre center " +
    "chimaeric chimeric clamour clamor coloured colored colouring coloring colourful colorful " +
    "defence defense Defence Defense discolour discolor discolours discolors discoloured " +
    "discolored discolouring discoloring encyclopaedia encyclopedia endeavour endeavor " +
    "endeavours endeavors endeavoured endeavored endeavouring endeavoring fervour fervor " +
    "favour favor favours favors favoured favored favouring favoring favourite favorite " +
    "favourites favorites fibre fiber fibres fibers finalise finalize finalised finalized " +
    "finalising finalizing flavour flavor flavours flavors flavoured flavored flavouring " +
    "flavoring glamour glamour grey gray harbour harbor harbours harbors homologue homolog " +
    "homologues homologs honour honor honours honors honoured honored honouring honoring " +
    "honourable honorable humour humor humours humors humoured humored humouring humoring " +
    "kerb curb labelled labeled labelling labeling labour labor Labour Labor labours labors " +
    "laboured labored labouring laboring leant leaned learnt learned localise localize " +
    "localised localized manoeuvre maneuver manoeuvres maneuvers maximise maximize maximised " +
    "maximized maximising maximizing meagre meager minimise minimize minimised minimized " +
    "minimising minimizing modernise modernize modernised modernized modernising modernizing " +
    "misdemeanour misdemeanor misdemeanours misdemeanors neighbour neighbor neighbours " +
    "neighbors neighbourhood neighborhood neighbourhoods neighborhoods oestrogen estrogen " +
    "oestrogens estrogens organisation organization organisations organizations penalise " +
    "penalize penalised penalized popularise popularize popularised popularized popularises " +
    "popularizes popularising popularizing practise practice practised practiced pressurise " +
    "pressurize pressurised pressurized pressurises pressurizes pressurising pressurizing " +
    "realise realize realised realized realising realizing realises realizes recognise " +
    "recognize recognised recognized recognising recognizing recognises recognizes rumoured " +
    "rumored rumouring rumoring savour savor savours savors savoured savored savouring " +
    "savoring splendour splendor splendours splendors theatre theater theatres theaters " +
    "titre titer titres titers travelled traveled travelling traveling"
  )
    .split(" ")
    .flatMap((word, i, all) => (i % 2 === 0 ? [[word, all[i + 1]] as [string, string]] : [])),
);
