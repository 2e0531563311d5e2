import { iou } from "./boxes.js";
import type { Box } from "./image.js";

/** A detector's box with its class index and confidence. */
export interface Detection {
  readonly box: Box;
  readonly classIndex: number;
  readonly score: number;
}

/**
 * Class-aware greedy non-maximum suppression: in order of falling score, a detection is kept
 * unless a kept detection of the same class overlaps it by more than `iouThreshold`. Boxes of
 * different classes never suppress each other (a person on a horse keeps both). Returns at most
 * `maxKeep` detections, best first.
 */
export function nonMaxSuppression(
  detections: readonly Detection[],
  iouThreshold: number,
  maxKeep = Number.POSITIVE_INFINITY,
): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= maxKeep) break;
    const suppressed = kept.some(
      (k) => k.classIndex === d.classIndex && iou(k.box, d.box) > iouThreshold,
    );
    if (!suppressed) kept.push(d);
  }
  return kept;
}
