import { boxArea, intersectionArea } from "../vision/boxes.js";
import type { Region } from "../vision/image.js";

/**
 * "Two men", "a group of children", "people": a phrase about several people names their group,
 * which no detector class is. The region selection adds boxes around people
 * (src/vision/regions.ts); here the one that holds the most person detections (at least two,
 * each with HELD_SHARE of its area inside; the smallest such box on a tie) is given the pseudo
 * label PEOPLE_GROUP, so that the word-class association learns from captions which words name a
 * group, just as it learns "dog" from the dog detections.
 */
export const PEOPLE_GROUP = "people group";

const PERSON = "person";
const HELD_SHARE = 0.7;

/** The index of the people-group region of `regions`, or undefined when none holds two people. */
export function peopleGroupRegion(regions: readonly Region[]): number | undefined {
  const people = regions.filter((r) => r.source === "detection" && r.label === PERSON);
  if (people.length < 2) return undefined;
  let best: number | undefined;
  let bestHeld = 1;
  regions.forEach((r, i) => {
    if (r.source !== "fallback") return;
    const held = people.filter(
      (p) => intersectionArea(r.box, p.box) >= HELD_SHARE * Math.max(boxArea(p.box), 1),
    ).length;
    const smaller = best !== undefined && boxArea(r.box) < boxArea(regions[best].box);
    if (held > bestHeld || (held === bestHeld && held >= 2 && smaller)) {
      best = i;
      bestHeld = held;
    }
  });
  return best;
}

/**
 * Each region's label for the association: a detection's class, PEOPLE_GROUP for the group
 * region, else undefined.
 */
export function associationLabels(regions: readonly Region[]): (string | undefined)[] {
  const group = peopleGroupRegion(regions);
  return regions.map((r, i) =>
    i === group ? PEOPLE_GROUP : r.source === "detection" ? r.label : undefined,
  );
}
