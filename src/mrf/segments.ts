import type { ScoreMatrix } from "./chain-mrf.js";

/** A run of consecutive words aligned to one region: words [start, end). */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly region: number;
  /** Mean of v_region·s_j over the segment's words, so short and long segments compare. */
  readonly score: number;
}

/** Splits an assignment (region of each word) into maximal runs of the same region. */
export function segmentsOf(assignment: ArrayLike<number>, m: ScoreMatrix): Segment[] {
  if (assignment.length !== m.words) {
    throw new Error(`segments: ${assignment.length} assignments for ${m.words} words`);
  }
  const segments: Segment[] = [];
  let start = 0;
  while (start < m.words) {
    const region = assignment[start];
    let end = start;
    let sum = 0;
    while (end < m.words && assignment[end] === region) sum += m.scores[region * m.words + end++];
    segments.push({ start, end, region, score: sum / (end - start) });
    start = end;
  }
  return segments;
}
