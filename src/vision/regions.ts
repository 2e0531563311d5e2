import { boxArea, iou, wholeImageBox } from "./boxes.js";
import {
  FALLBACK_FRACTIONS,
  fractionBoxes,
  GROUND_FRACTION,
  WIDE_FALLBACKS,
} from "./fallback-boxes.js";
import type { Box, Region } from "./image.js";

/** A labelled detection in image pixels, as the detector returns it. */
export interface LabelledDetection {
  readonly box: Region["box"];
  readonly label: string;
  readonly score: number;
}

/** Fallback boxes overlapping a chosen region more than this are used last: they add little. */
export const FALLBACK_OVERLAP = 0.7;

/**
 * How the regions of an image are chosen from its detections (docs/feature-store.md, "The 20
 * regions"). Part of the detector's config, and of its name in a store's meta.
 */
export interface RegionSelection {
  /**
   * "score": the detections by score first, then the boxes made from them (person parts, the
   * people group), then the fallback boxes in their fixed order (the paper's, and the legacy
   * default). "value": every candidate box ranked by its value (valueOf), so a large fallback box
   * can come before a weak detection.
   */
  readonly ranking: "score" | "value";
  /** Upper body, lower body and head boxes of the most confident people (PERSON_PARTS). */
  readonly personParts: boolean;
  /** The union of the confident people, when there are two or more ("a group of children"). */
  readonly peopleGroup: boolean;
  /**
   * "grid": FALLBACK_FRACTIONS (coarse to fine, 3 x 3 grid); "wide": WIDE_FALLBACKS, then the grid
   * boxes, so that an image with no detections still has its regions.
   */
  readonly fallbacks: "grid" | "wide";
  /**
   * With "wide" fallbacks: the ground box (GROUND_FRACTION) is never set aside, so that a place
   * phrase has its box even when the centre box overlaps it.
   */
  readonly groundBox: boolean;
  /**
   * A candidate overlapping a chosen region by IoU above this is set aside, used only when no
   * other candidate is left. With "score" ranking this applies to fallback and derived boxes
   * (against every region); with "value" ranking to every candidate except the whole image, a
   * detection being set aside only by a chosen detection.
   */
  readonly maxOverlap: number;
}

/** Today's selection: whole image, top detections, then the grid fallback boxes. */
export const SCORE_SELECTION: RegionSelection = {
  ranking: "score",
  personParts: false,
  peopleGroup: false,
  fallbacks: "grid",
  groundBox: false,
  maxOverlap: FALLBACK_OVERLAP,
};

/**
 * The selection chosen on Flickr30k Entities val (docs/phrase-alignment.md): proposal upper bound
 * 71.5% -> 80.8% with the same 20 regions, with a detector run at score 0.01 and class-agnostic NMS.
 */
export const RANKED_SELECTION: RegionSelection = {
  ranking: "value",
  personParts: true,
  peopleGroup: true,
  fallbacks: "wide",
  groundBox: true,
  maxOverlap: 0.5,
};

/** A short name of a selection, for the detector's name in a store's meta: "" for SCORE_SELECTION. */
export function selectionName(s: RegionSelection): string {
  if (
    s.ranking === SCORE_SELECTION.ranking &&
    !s.personParts &&
    !s.peopleGroup &&
    s.fallbacks === SCORE_SELECTION.fallbacks &&
    !s.groundBox &&
    s.maxOverlap === SCORE_SELECTION.maxOverlap
  )
    return "";
  const parts = [
    s.ranking,
    s.personParts ? "parts" : "",
    s.peopleGroup ? "group" : "",
    s.fallbacks,
    s.groundBox ? "ground" : "",
    `overlap${s.maxOverlap}`,
  ];
  return parts.filter((p) => p !== "").join("+");
}

/** Detections of this label get part boxes and make the people group. */
export const PERSON_LABEL = "person";
/** People scoring at least this get part boxes and make the group. */
export const PART_MIN_SCORE = 0.25;
/** Part boxes for at most this many people (the most confident). */
export const MAX_PEOPLE_WITH_PARTS = 3;

/**
 * Boxes for the parts of a person, as fractions of the person's box, with their value per unit of
 * the person's score (divided by the person's rank, 1 for the most confident): what clothing and
 * body-part phrases ("a red shirt", "blue jeans", "a hat") cover. Fitted loosely to where those
 * phrases' boxes sit in the person boxes on Flickr30k Entities val.
 */
export const PERSON_PARTS: readonly {
  readonly name: string;
  readonly box: readonly [number, number, number, number];
  readonly value: number;
}[] = [
  { name: "upper body", box: [0.05, 0.12, 0.95, 0.58], value: 0.6 },
  { name: "lower body", box: [0.05, 0.5, 0.95, 1], value: 0.7 },
  { name: "head", box: [0.25, 0, 0.75, 0.25], value: 0.15 },
];

/** The value of the people group box, against the values of detections and fallbacks. */
export const PEOPLE_GROUP_VALUE = 2;

/**
 * The value of a detection in the "value" ranking: about how many phrases of an image a box of
 * its kind and score matched on Flickr30k Entities val. A person box is worth less at a low score
 * than another class's: YOLOX-Nano gives many near-copies of the people it found.
 */
export function detectionValue(d: LabelledDetection): number {
  return d.label === PERSON_LABEL ? 4 * d.score * d.score + 0.1 : 5 * d.score + 0.1;
}

/** The box of `fraction` of `box`, clipped to the w x h image. */
export function partBox(
  box: Box,
  f: readonly [number, number, number, number],
  w: number,
  h: number,
) {
  const bw = box.x2 - box.x1;
  const bh = box.y2 - box.y1;
  return {
    x1: Math.max(0, box.x1 + f[0] * bw),
    y1: Math.max(0, box.y1 + f[1] * bh),
    x2: Math.min(w, box.x1 + f[2] * bw),
    y2: Math.min(h, box.y1 + f[3] * bh),
  };
}

interface Candidate {
  readonly region: Region;
  readonly value: number;
  /** Never set aside by an overlapping chosen box (the ground box, RegionSelection.groundBox). */
  readonly kept?: boolean;
}

/** The boxes made from detections: parts of the confident people and their group. */
function derivedBoxes(
  width: number,
  height: number,
  byScore: readonly LabelledDetection[],
  s: RegionSelection,
): Candidate[] {
  const people = byScore.filter((d) => d.label === PERSON_LABEL && d.score >= PART_MIN_SCORE);
  const out: Candidate[] = [];
  if (s.personParts) {
    people.slice(0, MAX_PEOPLE_WITH_PARTS).forEach((d, rank) => {
      for (const part of PERSON_PARTS) {
        const box = partBox(d.box, part.box, width, height);
        if (boxArea(box) > 0)
          out.push({
            region: { box, source: "fallback" },
            value: (part.value * d.score) / (rank + 1),
          });
      }
    });
  }
  if (s.peopleGroup && people.length >= 2) {
    const box = people
      .map((d) => d.box)
      .reduce((a, b) => ({
        x1: Math.min(a.x1, b.x1),
        y1: Math.min(a.y1, b.y1),
        x2: Math.max(a.x2, b.x2),
        y2: Math.max(a.y2, b.y2),
      }));
    out.push({ region: { box, source: "fallback" }, value: PEOPLE_GROUP_VALUE });
  }
  return out;
}

function fallbackCandidates(width: number, height: number, s: RegionSelection): Candidate[] {
  if (s.fallbacks === "grid") {
    // Fixed order: the values only keep it when sorted.
    return fractionBoxes(width, height, FALLBACK_FRACTIONS).map((box, i) => ({
      region: { box, source: "fallback" },
      value: -i,
    }));
  }
  const boxes = fractionBoxes(
    width,
    height,
    WIDE_FALLBACKS.map((f) => f.box),
  );
  // The grid boxes last, so that an image without detections still fills its regions.
  const grid = fractionBoxes(width, height, FALLBACK_FRACTIONS).map((box, i) => ({
    region: { box, source: "fallback" } as Region,
    value: -1 - i,
  }));
  const isGround = (f: readonly number[]) => f.every((v, k) => v === GROUND_FRACTION[k]);
  return [
    ...boxes.map((box, i) => ({
      region: { box, source: "fallback" } as Region,
      value: WIDE_FALLBACKS[i].value,
      kept: s.groundBox && isGround(WIDE_FALLBACKS[i].box),
    })),
    ...grid,
  ];
}

/**
 * The paper's image representation: the whole image first, then `count - 1` regions chosen from
 * the detections, the boxes made from them and the fallback boxes as `selection` says. With the
 * default SCORE_SELECTION: the top `count - 1` detections by score, then, when there are fewer,
 * fallback boxes in their fixed order, preferring those that overlap no chosen region by more than
 * FALLBACK_OVERLAP. Every image gets exactly `count` regions (count <= 20), each marked
 * whole/detection/fallback (person parts and the people group are fallback boxes: they carry no
 * class or score).
 */
export function selectRegions(
  width: number,
  height: number,
  detections: readonly LabelledDetection[],
  count = 20,
  selection: RegionSelection = SCORE_SELECTION,
): Region[] {
  const regions: Region[] = [{ box: wholeImageBox(width, height), source: "whole" }];
  const byScore = [...detections].sort((a, b) => b.score - a.score);
  const derived = derivedBoxes(width, height, byScore, selection);
  const fallback = fallbackCandidates(width, height, selection);
  const setAside: Region[] = [];
  const overlaps = (box: Box, chosen: readonly Region[]) =>
    chosen.some((r) => iou(r.box, box) > selection.maxOverlap);
  if (selection.ranking === "score") {
    for (const d of byScore.slice(0, count - 1))
      regions.push({ box: d.box, source: "detection", label: d.label, score: d.score });
    // Set aside by the whole image and the detections only, as the paper's fallback boxes were.
    const kept = [...regions];
    const rest = [...derived, ...fallback.sort((a, b) => b.value - a.value)];
    for (const { region } of rest) {
      if (regions.length >= count) break;
      if (overlaps(region.box, kept)) setAside.push(region);
      else regions.push(region);
    }
  } else {
    const candidates: Candidate[] = [
      ...byScore.map((d) => ({
        region: { box: d.box, source: "detection", label: d.label, score: d.score } as Region,
        value: detectionValue(d),
      })),
      ...derived,
      ...fallback,
    ].sort((a, b) => b.value - a.value);
    for (const { region, kept } of candidates) {
      if (regions.length >= count) break;
      // The whole image sets nothing aside: a box of 2/3 of it is still another phrase's box.
      const chosen = regions.filter(
        (r) => r.source !== "whole" && (region.source !== "detection" || r.source === "detection"),
      );
      if (!kept && overlaps(region.box, chosen)) setAside.push(region);
      else regions.push(region);
    }
  }
  for (const region of setAside) {
    if (regions.length >= count) break;
    regions.push(region);
  }
  return regions;
}
