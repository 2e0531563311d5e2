import type { Rng } from "../core/rng.js";
import type { Box, Region } from "../vision/image.js";
import type { Scene } from "./scene.js";

/**
 * A stand-in for the paper's RCNN detector on the synthetic world, so the demo needs no detector
 * weights: the whole image plus 19 scored boxes, as the paper uses (section 3.1.1). Each object
 * gets a close box and a loose one, pairs of objects get their union, and random boxes fill the
 * rest, so the alignment still has to pick the right region among near misses and distractors.
 */
export const REGIONS_PER_IMAGE = 20;

export function proposeRegions(scene: Scene, rng: Rng, count = REGIONS_PER_IMAGE): Region[] {
  const { width, height } = scene;
  const scored: { box: Box; score: number }[] = [];
  for (const o of scene.objects) {
    scored.push({
      box: jitter(o.box, 0.1, rng, width, height),
      score: 0.75 + 0.24 * rng.uniform(),
    });
    scored.push({ box: jitter(o.box, 0.3, rng, width, height), score: 0.4 + 0.35 * rng.uniform() });
  }
  for (let i = 0; i < scene.objects.length; i++) {
    for (let j = i + 1; j < scene.objects.length; j++) {
      const a = scene.objects[i].box;
      const b = scene.objects[j].box;
      const union = {
        x1: Math.min(a.x1, b.x1),
        y1: Math.min(a.y1, b.y1),
        x2: Math.max(a.x2, b.x2),
        y2: Math.max(a.y2, b.y2),
      };
      scored.push({
        box: jitter(union, 0.05, rng, width, height),
        score: 0.2 + 0.3 * rng.uniform(),
      });
    }
  }
  while (scored.length < count - 1) {
    const w = 16 + rng.int(Math.max(1, Math.floor(width / 2)));
    const h = 16 + rng.int(Math.max(1, Math.floor(height / 2)));
    const x1 = rng.int(Math.max(1, width - w));
    const y1 = rng.int(Math.max(1, height - h));
    const box = { x1, y1, x2: Math.min(width, x1 + w), y2: Math.min(height, y1 + h) };
    scored.push({ box, score: 0.05 + 0.3 * rng.uniform() });
  }
  scored.sort((a, b) => b.score - a.score);
  const whole: Region = { box: { x1: 0, y1: 0, x2: width, y2: height }, source: "whole" };
  const detections = scored.slice(0, count - 1).map(
    (d): Region => ({
      box: d.box,
      source: "detection",
      score: Math.round(d.score * 1000) / 1000,
    }),
  );
  return [whole, ...detections];
}

/** Moves each edge of `box` by up to `amount` of its side, keeping it inside the image. */
function jitter(box: Box, amount: number, rng: Rng, width: number, height: number): Box {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  const d = (side: number) => Math.round((rng.uniform() * 2 - 1) * amount * side);
  const x1 = clamp(box.x1 + d(w), 0, width - 2);
  const y1 = clamp(box.y1 + d(h), 0, height - 2);
  const x2 = clamp(box.x2 + d(w), x1 + 2, width);
  const y2 = clamp(box.y2 + d(h), y1 + 2, height);
  return { x1, y1, x2, y2 };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
