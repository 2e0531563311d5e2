import { iou, wholeImageBox } from "./boxes.js";
import { fallbackBoxes } from "./fallback-boxes.js";
import type { Region } from "./image.js";

/** A labelled detection in image pixels, as the detector returns it. */
export interface LabelledDetection {
  readonly box: Region["box"];
  readonly label: string;
  readonly score: number;
}

/** Fallback boxes overlapping a chosen region more than this are used last: they add little. */
export const FALLBACK_OVERLAP = 0.7;

/**
 * The paper's image representation: the whole image first, then the top `count - 1` detections by
 * score, then, when there are fewer detections, fallback boxes (see fallback-boxes.ts) in their
 * fixed order, preferring those that overlap no chosen region by more than FALLBACK_OVERLAP.
 * Every image gets exactly `count` regions (count <= 20), each marked whole/detection/fallback.
 */
export function selectRegions(
  width: number,
  height: number,
  detections: readonly LabelledDetection[],
  count = 20,
): Region[] {
  const regions: Region[] = [{ box: wholeImageBox(width, height), source: "whole" }];
  const best = [...detections].sort((a, b) => b.score - a.score).slice(0, count - 1);
  for (const d of best)
    regions.push({ box: d.box, source: "detection", label: d.label, score: d.score });
  if (regions.length >= count) return regions.slice(0, count);
  const fallback = fallbackBoxes(width, height);
  const novel = fallback.filter((f) => regions.every((r) => iou(r.box, f) <= FALLBACK_OVERLAP));
  const rest = fallback.filter((f) => !novel.includes(f));
  for (const box of [...novel, ...rest]) {
    if (regions.length >= count) break;
    regions.push({ box, source: "fallback" });
  }
  return regions;
}
