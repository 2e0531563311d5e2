import { iou } from "../vision/boxes.js";
import type { Box } from "../vision/image.js";
import type { Segment } from "./segments.js";

/**
 * Phrase-to-box accuracy where each word's object and each object's box are known (the synthetic
 * world's `refs` and boxes, or any data with the same ground truth). A box matches an object when their IoU is at least 0.5 (the PASCAL criterion).
 * Three views of one alignment, because each alone can be gamed by beta:
 *
 * - segments: each predicted segment with words that name an object is correct when its region's
 *   box matches the object most of those words name. Few, long segments score well here.
 * - phrases: each true referring phrase ("big red circle") is correct when all its words fall in
 *   one segment whose box matches its object. Fragmenting a phrase and merging it with a
 *   neighbouring object's phrase both fail it.
 * - words: each word that names an object is correct when its region's box matches that object.
 */
export const IOU_THRESHOLD = 0.5;

export interface Tally {
  correct: number;
  total: number;
}

export interface PhraseCounts {
  readonly segments: Tally;
  readonly phrases: Tally;
  readonly words: Tally;
}

export interface GroundedAlignment {
  /** The image's true object boxes. */
  readonly objects: readonly { readonly box: Box }[];
  /** Each word's object (index into objects) or -1 (world.json `refs`). */
  readonly refs: readonly number[];
  /** Box of each region the segments refer to. */
  readonly regionBoxes: readonly Box[];
  readonly segments: readonly Segment[];
}

export function emptyCounts(): PhraseCounts {
  return { segments: tally(), phrases: tally(), words: tally() };
}

function tally(): Tally {
  return { correct: 0, total: 0 };
}

/** Counts one sentence's alignment into `into` (a fresh tally when omitted) and returns it. */
export function countPhrases(a: GroundedAlignment, into = emptyCounts()): PhraseCounts {
  const matches = (region: number, object: number) =>
    iou(a.regionBoxes[region], a.objects[object].box) >= IOU_THRESHOLD;
  const regionOf = new Int32Array(a.refs.length);
  const segmentOf = new Int32Array(a.refs.length);
  for (const [k, seg] of a.segments.entries()) {
    regionOf.fill(seg.region, seg.start, seg.end);
    segmentOf.fill(k, seg.start, seg.end);
    const named = majorityObject(a.refs.slice(seg.start, seg.end));
    if (named < 0) continue;
    into.segments.total++;
    if (matches(seg.region, named)) into.segments.correct++;
  }
  for (const [j, object] of a.refs.entries()) {
    if (object < 0) continue;
    into.words.total++;
    if (matches(regionOf[j], object)) into.words.correct++;
  }
  for (const span of referringSpans(a.refs)) {
    into.phrases.total++;
    const whole = segmentOf[span.start] === segmentOf[span.end - 1];
    if (whole && matches(regionOf[span.start], span.object)) into.phrases.correct++;
  }
  return into;
}

/** The object most of the words name (the first named on a tie), or -1 when none names one. */
function majorityObject(refs: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const r of refs) if (r >= 0) counts.set(r, (counts.get(r) ?? 0) + 1);
  let best = -1;
  // Map iteration follows first appearance, so a strict > keeps the first named on a tie.
  for (const [r, n] of counts) if (best < 0 || n > counts.get(best)!) best = r;
  return best;
}

/** correct / total, or 0 when nothing was counted. */
export function rate(t: Tally): number {
  return t.total > 0 ? t.correct / t.total : 0;
}

/** A run of consecutive tokens [start, end) that all name `object`: "big red circle". */
export interface ReferringSpan {
  readonly object: number;
  readonly start: number;
  readonly end: number;
}

/** The phrases of a sentence that name objects, from its per-token refs, in sentence order. */
export function referringSpans(refs: readonly number[]): ReferringSpan[] {
  const spans: ReferringSpan[] = [];
  for (let k = 0; k < refs.length; k++) {
    if (refs[k] < 0) continue;
    const start = k;
    while (k + 1 < refs.length && refs[k + 1] === refs[start]) k++;
    spans.push({ object: refs[start], start, end: k + 1 });
  }
  return spans;
}
