import { CHOOSERS, type Chooser, type GroundingCounts } from "./grounding-eval.js";
import { rate, type Tally } from "./phrase-accuracy.js";

/** The Flickr30k Entities phrase types, in the order tables show them. */
export const PHRASE_TYPES = [
  "people",
  "clothing",
  "bodyparts",
  "animals",
  "vehicles",
  "instruments",
  "scene",
  "other",
] as const;

/** What each chooser does, as a table row says it (`regions`: the most regions per image). */
export function chooserLabel(c: Chooser, regions: number, beta: number): string {
  switch (c) {
    case "best":
      return `the best of the ${regions} regions for the phrase (sum of v_i·s_t over its words)`;
    case "mrf":
      return `chain MRF (beta ${beta}): the region of the phrase's last word`;
    case "random":
      return `a random one of the ${regions} regions (seeded)`;
    case "whole":
      return "always the whole image";
    case "largest":
      return "always the largest region other than the whole image";
    case "typeRule":
      return "the largest detection whose class fits the phrase's annotated type, else the largest region (oracle type)";
    case "wordLabel":
      return "the largest detection whose class the phrase's words name, else the largest region (no annotation)";
    case "learned":
      return "learned without boxes: word-class association and reliability from train captions and detector labels (people groups included), alignment z-score, a word probe on the regions' codes fitted on whole images, place words and the ground box, size and centre priors, worn things on their wearer, several people on their group, a second person on another person (no box or type annotation)";
    case "upperBound":
      return `the best possible among the ${regions} regions (proposal upper bound)`;
  }
}

const pct = (t: Tally | undefined) => (t && t.total > 0 ? `${(100 * rate(t)).toFixed(1)}%` : "–");

/**
 * The accuracy of every chooser, overall and by phrase type, as a Markdown table, then one line
 * each for the phrases left out, the detector's share of the regions and the MRF's segments.
 */
export function groundingTable(counts: GroundingCounts): string[] {
  const all = counts.choosers.best;
  const header = ["box chosen for a phrase", "all", ...PHRASE_TYPES];
  const lines = [
    `| ${header.join(" | ")} |`,
    `|---|${header
      .slice(1)
      .map(() => "---:")
      .join("|")}|`,
    `| phrases | ${all.overall.total} | ${PHRASE_TYPES.map((t) => all.byType[t]?.total ?? 0).join(" | ")} |`,
  ];
  for (const c of CHOOSERS) {
    const k = counts.choosers[c];
    const cells = [pct(k.overall), ...PHRASE_TYPES.map((t) => pct(k.byType[t]))];
    lines.push(`| ${chooserLabel(c, counts.regions, counts.beta)} | ${cells.join(" | ")} |`);
  }
  const { notVisual, noBox } = counts.leftOut;
  lines.push(
    "",
    `${counts.images} images, ${counts.sentences} sentences, ${all.overall.total} phrases with a box ` +
      `(left out: ${notVisual} notvisual, ${noBox} without a box). A phrase is right when its box ` +
      "has IoU >= 0.5 with the union of its true boxes; a phrase of several types counts under each.",
    `Regions from the detector: ${pct(counts.detectorRegions)} of ${counts.detectorRegions.total}. ` +
      `Phrases that are exactly one MRF segment (beta ${counts.beta}): ${pct(counts.oneSegment)}.`,
  );
  return lines;
}
