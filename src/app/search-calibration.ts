import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AlignmentModel } from "../align/model.js";
import type { AlignmentFusion } from "../align/score-fusion.js";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CorruptFileError } from "../errors.js";
import { JsonFields, readJsonFile } from "../json-fields.js";

/**
 * What a search score means, measured on a validation split: S_kl per word of the sentence for
 * true pairs (a sentence and the image it was written for) and for unrelated pairs (a sentence
 * and another image). A bundle keeps it as BUNDLE/search-calibration.json; search reads it to
 * give each hit a match from 0 (as an unrelated image scores) to 1 (as the image a sentence was
 * written for does) and to say when the best hit is below `threshold`, the per-word score that
 * 90% of true pairs reach.
 */
export const CALIBRATION_FILE = "search-calibration.json";
export const CALIBRATION_FORMAT = "imagesent-search-calibration";

export interface SearchCalibration {
  readonly format: typeof CALIBRATION_FORMAT;
  readonly split: string;
  readonly images: number;
  readonly sentences: number;
  /** Median per-word score of unrelated and of true pairs. */
  readonly unrelatedMedian: number;
  readonly relatedMedian: number;
  /** 10th percentile of true pairs' per-word score: below it, nothing matches well. */
  readonly threshold: number;
}

/** Per-word score of a fused S_kl: S over the words the alignment model knows. */
export function perWord(score: number, words: number): number {
  return words > 0 ? score / words : Number.NaN;
}

/** The match (0..1) of a per-word score. */
export function matchOf(c: SearchCalibration, perWordScore: number): number {
  const m = (perWordScore - c.unrelatedMedian) / (c.relatedMedian - c.unrelatedMedian);
  return Number.isFinite(m) ? Math.max(0, Math.min(1, m)) : 0;
}

/**
 * Calibrates on a split: `features` are raw CNN codes (images x fusion.regions x dim), sentence
 * l (tokens) belongs to image imageOf[l].
 */
export function calibrateSearch(
  fusion: AlignmentFusion,
  alignment: AlignmentModel,
  split: string,
  features: Float32Array,
  images: number,
  sentences: readonly (readonly string[])[],
  imageOf: Int32Array,
): SearchCalibration {
  const S = fusion.scores(features, images, sentences);
  const words = sentences.map((t) => alignment.encode(t).length);
  const related: number[] = [];
  const unrelated: number[] = [];
  for (let k = 0; k < images; k++) {
    for (let l = 0; l < sentences.length; l++) {
      const s = perWord(S[k * sentences.length + l], words[l]);
      if (!Number.isFinite(s)) continue;
      (imageOf[l] === k ? related : unrelated).push(s);
    }
  }
  return {
    format: CALIBRATION_FORMAT,
    split,
    images,
    sentences: sentences.length,
    unrelatedMedian: quantile(unrelated, 0.5),
    relatedMedian: quantile(related, 0.5),
    threshold: quantile(related, 0.1),
  };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export function writeCalibration(bundleDir: string, c: SearchCalibration): void {
  writeFileAtomic(join(bundleDir, CALIBRATION_FILE), `${JSON.stringify(c, null, 2)}\n`);
}

/** The bundle's calibration, or undefined when it has none. */
export function readCalibration(bundleDir: string | undefined): SearchCalibration | undefined {
  if (bundleDir === undefined) return undefined;
  const path = join(bundleDir, CALIBRATION_FILE);
  if (!existsSync(path)) return undefined;
  const error = CorruptFileError;
  const r = JsonFields.of(readJsonFile(path, error), path, { error });
  const unrelatedMedian = r.number("unrelatedMedian");
  const relatedMedian = r.number("relatedMedian");
  if (!(relatedMedian > unrelatedMedian)) {
    r.fail("relatedMedian", `a number above unrelatedMedian (${unrelatedMedian})`);
  }
  return {
    format: r.oneOf("format", [CALIBRATION_FORMAT]),
    split: r.string("split"),
    images: r.number("images", { integer: true, min: 0 }),
    sentences: r.number("sentences", { integer: true, min: 0 }),
    unrelatedMedian,
    relatedMedian,
    threshold: r.number("threshold"),
  };
}
