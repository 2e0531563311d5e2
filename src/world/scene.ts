import type { Rng } from "../core/rng.js";
import { COLOUR_HSL, COLOURS, type ColourName } from "../vision/colour-words.js";
import type { Box } from "../vision/image.js";
import { type Background, sampleBackground } from "./background.js";
import { hslToRgb } from "./colour.js";

export { COLOUR_HSL, COLOURS, type ColourName };

/**
 * What one synthetic image shows: a few coloured shapes of two sizes on a muted background. The
 * attribute words are the vocabulary the sentences draw on, so each is one lowercase token.
 */
export const SHAPES = ["circle", "square", "triangle", "star", "diamond", "cross"] as const;
export type ShapeName = (typeof SHAPES)[number];

export const SIZES = ["small", "big"] as const;
export type SizeName = (typeof SIZES)[number];

/** Half the side of an object's box, in pixels of a 224-pixel image, per size word. */
const RADIUS: Readonly<Record<SizeName, readonly [number, number]>> = {
  small: [13, 21],
  big: [32, 46],
};

export interface WorldObject {
  readonly shape: ShapeName;
  readonly colour: ColourName;
  readonly size: SizeName;
  /** The fill actually drawn: the colour word's hue, jittered a little. */
  readonly rgb: readonly [number, number, number];
  /** The shape's tight bounding box, integer pixel coordinates [x1, x2) x [y1, y2). */
  readonly box: Box;
}

export interface Scene {
  readonly width: number;
  readonly height: number;
  readonly background: Background;
  readonly objects: readonly WorldObject[];
}

export interface SceneOptions {
  readonly width: number;
  readonly height: number;
  /** Objects per image, inclusive; fewer are drawn when they do not fit without overlapping. */
  readonly minObjects: number;
  readonly maxObjects: number;
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = {
  width: 224,
  height: 224,
  minObjects: 1,
  maxObjects: 4,
};

/** Free space kept between two objects' boxes and between a box and the image edge. */
const GAP = 4;

/** Samples one scene: its background, then objects placed where they overlap nothing. */
export function sampleScene(rng: Rng, options: SceneOptions = DEFAULT_SCENE_OPTIONS): Scene {
  const { width, height } = options;
  const background = sampleBackground(rng);
  const scale = Math.min(width, height) / 224;
  const wanted = options.minObjects + rng.int(options.maxObjects - options.minObjects + 1);
  const objects: WorldObject[] = [];
  for (let attempt = 0; objects.length < wanted && attempt < 200; attempt++) {
    const size = rng.pick(SIZES);
    const [lo, hi] = RADIUS[size];
    const r = (lo + rng.uniform() * (hi - lo)) * scale;
    const cx = r + GAP + rng.uniform() * (width - 2 * (r + GAP));
    const cy = r + GAP + rng.uniform() * (height - 2 * (r + GAP));
    const box: Box = {
      x1: Math.floor(cx - r),
      y1: Math.floor(cy - r),
      x2: Math.ceil(cx + r),
      y2: Math.ceil(cy + r),
    };
    if (objects.some((o) => boxesNear(o.box, box, GAP))) continue;
    const colour = rng.pick(COLOURS);
    objects.push({
      shape: rng.pick(SHAPES),
      colour,
      size,
      rgb: jitteredRgb(COLOUR_HSL[colour], rng),
      box,
    });
  }
  return { width, height, background, objects };
}

function boxesNear(a: Box, b: Box, gap: number): boolean {
  return a.x1 < b.x2 + gap && b.x1 < a.x2 + gap && a.y1 < b.y2 + gap && b.y1 < a.y2 + gap;
}

function jitteredRgb(hsl: readonly [number, number, number], rng: Rng): [number, number, number] {
  const [h, s, l] = hsl;
  return hslToRgb(
    h + (rng.uniform() - 0.5) * 12,
    Math.min(1, s + (rng.uniform() - 0.5) * 0.1),
    l + (rng.uniform() - 0.5) * 0.08,
  );
}
