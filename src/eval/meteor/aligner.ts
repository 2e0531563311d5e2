import { stemmer } from "stemmer";
import type { SynonymDictionary } from "./wordnet.js";

/** METEOR's matching modules, in the order they run; a match records the one that found it. */
export const MODULES = ["exact", "stem", "synonym"] as const;
export type Module = 0 | 1 | 2;

/** One word of the test sentence (line 1) matched to one word of the reference (line 2). */
export interface Match {
  readonly module: Module;
  /** Index in the reference. */
  readonly start: number;
  /** Index in the test sentence. */
  readonly matchStart: number;
}

/** The chosen alignment: `matches[j]` is the match covering reference word j, if any. */
export interface Alignment {
  readonly matches: readonly (Match | undefined)[];
  readonly chunks: number;
}

/**
 * Weights the alignment search gives each module (METEOR's scorer sets 1, 0.5, 0.5 for search,
 * separate from the scoring weights).
 */
const SEARCH_WEIGHTS = [1, 0.5, 0.5];
const BEAM_SIZE = 40;

/**
 * METEOR 1.5's aligner (edu.cmu.meteor.aligner.Aligner) without the paraphrase module: collect
 * every exact, stem and synonym match, fix the unambiguous one-to-one ones, then beam-search the
 * rest left to right over the reference, preferring (1) more weighted matches, (2) fewer chunks,
 * (3) a smaller total distance between matched positions.
 */
export function align(
  test: readonly string[],
  reference: readonly string[],
  synonyms: SynonymDictionary,
): Alignment {
  const candidates: Match[][] = reference.map(() => []);
  const coverage1 = new Array<number>(test.length).fill(0);
  const coverage2 = new Array<number>(reference.length).fill(0);
  const add = (module: Module, j: number, i: number): void => {
    candidates[j].push({ module, start: j, matchStart: i });
    coverage1[i]++;
    coverage2[j]++;
  };

  for (let j = 0; j < reference.length; j++) {
    for (let i = 0; i < test.length; i++) if (test[i] === reference[j]) add(0, j, i);
  }
  // Identical sentences need only exact matches; METEOR skips the other modules to avoid search errors.
  const identical =
    test.length === reference.length && test.every((word, i) => word === reference[i]);
  if (!identical) {
    const stems1 = test.map((w) => stemmer(w));
    const stems2 = reference.map((w) => stemmer(w));
    for (let j = 0; j < reference.length; j++) {
      for (let i = 0; i < test.length; i++) {
        if (test[i] !== reference[j] && stems1[i] === stems2[j]) add(1, j, i);
      }
    }
    const syn1 = test.map((w) => synsetsOf(w, synonyms));
    const syn2 = reference.map((w) => synsetsOf(w, synonyms));
    for (let j = 0; j < reference.length; j++) {
      for (let i = 0; i < test.length; i++) {
        if (test[i] !== reference[j] && shares(syn1[i], syn2[j])) add(2, j, i);
      }
    }
  }

  const start = new PartialAlignment(reference.length, test.length);
  for (let j = 0; j < reference.length; j++) {
    const only = candidates[j].length === 1 ? candidates[j][0] : undefined;
    if (only && coverage2[j] === 1 && coverage1[only.matchStart] === 1) {
      start.matches[j] = only;
      start.setUsed(only);
    }
  }
  const best = resolve(candidates, start);
  return { matches: best.matches, chunks: countChunks(best.matches) };
}

function synsetsOf(word: string, synonyms: SynonymDictionary): Set<number> {
  return new Set([...synonyms.synsets(word), ...synonyms.baseFormSynsets(word)]);
}

function shares(a: Set<number>, b: Set<number>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

class PartialAlignment {
  matches: (Match | undefined)[];
  used1: boolean[];
  used2: boolean[];
  /** Weighted match counts; integers, as METEOR's `int` fields truncate each `+=`. */
  matches1 = 0;
  matches2 = 0;
  chunks = 0;
  idx = 0;
  distance = 0;
  lastMatchEnd = -1;

  constructor(referenceLength: number, testLength: number) {
    this.matches = new Array<Match | undefined>(referenceLength).fill(undefined);
    this.used1 = new Array<boolean>(testLength).fill(false);
    this.used2 = new Array<boolean>(referenceLength).fill(false);
  }

  copy(): PartialAlignment {
    const c = new PartialAlignment(0, 0);
    c.matches = [...this.matches];
    c.used1 = [...this.used1];
    c.used2 = [...this.used2];
    c.matches1 = this.matches1;
    c.matches2 = this.matches2;
    c.chunks = this.chunks;
    c.idx = this.idx;
    c.distance = this.distance;
    c.lastMatchEnd = this.lastMatchEnd;
    return c;
  }

  isUsed(m: Match): boolean {
    return this.used2[m.start] || this.used1[m.matchStart];
  }

  setUsed(m: Match): void {
    this.used2[m.start] = true;
    this.used1[m.matchStart] = true;
  }

  /** Takes `m` as the next match: counts it and extends or opens a chunk. */
  take(m: Match): void {
    const weight = SEARCH_WEIGHTS[m.module];
    this.matches1 = Math.trunc(this.matches1 + weight);
    this.matches2 = Math.trunc(this.matches2 + weight);
    if (this.lastMatchEnd !== -1 && m.matchStart !== this.lastMatchEnd) this.chunks++;
    this.idx = m.start + 1;
    this.lastMatchEnd = m.matchStart + 1;
  }
}

/** Constants.PARTIAL_COMPARE_TOTAL: more weighted matches, then fewer chunks, then less distance. */
function compare(x: PartialAlignment, y: PartialAlignment): number {
  const matchDiff = y.matches1 + y.matches2 - (x.matches1 + x.matches2);
  if (matchDiff !== 0) return matchDiff > 0 ? 1 : -1;
  if (x.chunks !== y.chunks) return x.chunks - y.chunks;
  return x.distance - y.distance;
}

/** Aligner.resolve: the beam search, kept step for step (sorting is stable, as Java's is). */
function resolve(candidates: readonly Match[][], start: PartialAlignment): PartialAlignment {
  let nextPaths = [start];
  for (let current = 0; current <= candidates.length; current++) {
    const paths = nextPaths.sort(compare);
    nextPaths = [];
    for (let rank = 0; rank < BEAM_SIZE && rank < paths.length; rank++) {
      const path = paths[rank];
      if (current === candidates.length) {
        if (path.lastMatchEnd !== -1) path.chunks++;
        nextPaths.push(path);
        continue;
      }
      if (path.used2[current]) {
        const fixed = path.matches[path.idx];
        if (current < path.idx) {
          nextPaths.push(path);
        } else if (fixed) {
          path.take(fixed);
          path.distance += Math.abs(fixed.start - fixed.matchStart);
          nextPaths.push(path);
        }
        continue;
      }
      for (const m of candidates[current]) {
        if (path.isUsed(m)) continue;
        const next = path.copy();
        next.setUsed(m);
        next.matches[current] = m;
        next.take(m);
        // METEOR adds this distance to the path being extended, not the new one; kept so ties
        // break as they do there.
        path.distance += Math.abs(m.start - m.matchStart);
        nextPaths.push(next);
      }
      if (path.lastMatchEnd !== -1) {
        path.chunks++;
        path.lastMatchEnd = -1;
      }
      path.idx++;
      nextPaths.push(path);
    }
    if (nextPaths.length === 0) nextPaths.push(paths[0]);
  }
  return nextPaths.sort(compare)[0];
}

/** Aligner.getCountAndChunks: runs of matches contiguous in both sentences. */
function countChunks(matches: readonly (Match | undefined)[]): number {
  let chunks = 0;
  let lastMatchEnd = -1;
  for (const m of matches) {
    if (m === undefined) {
      if (lastMatchEnd !== -1) {
        chunks++;
        lastMatchEnd = -1;
      }
    } else {
      if (lastMatchEnd !== -1 && m.matchStart !== lastMatchEnd) chunks++;
      lastMatchEnd = m.matchStart + 1;
    }
  }
  return lastMatchEnd !== -1 ? chunks + 1 : chunks;
}
