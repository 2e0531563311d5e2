import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Rng } from "../core/rng.js";
import type { Split } from "../data/dataset.js";
import { writeKarpathyDataset } from "../data/karpathy.js";
import { proposeRegions } from "./proposals.js";
import { renderScene } from "./render.js";
import { DEFAULT_SCENE_OPTIONS, sampleScene } from "./scene.js";
import { describeScene } from "./sentences.js";
import { type World, type WorldImage, worldToDataset, writeWorldFile } from "./world-file.js";

export interface WorldOptions {
  readonly images: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly sentencesPerImage: number;
  /** Fractions of the images held out for validation and test; the rest is train. */
  readonly valFraction: number;
  readonly testFraction: number;
}

export const DEFAULT_WORLD_OPTIONS: WorldOptions = {
  images: 1000,
  seed: 1,
  width: DEFAULT_SCENE_OPTIONS.width,
  height: DEFAULT_SCENE_OPTIONS.height,
  sentencesPerImage: 5,
  valFraction: 0.1,
  testFraction: 0.1,
};

/**
 * Samples the world's scenes, sentences and regions (no pixels). Image i draws from its own
 * generator seeded by (seed, i), so its content does not depend on how many images there are.
 */
export function sampleWorld(options: Partial<WorldOptions> = {}): World {
  const o = { ...DEFAULT_WORLD_OPTIONS, ...options };
  const splits = assignSplits(o.images, o.valFraction, o.testFraction);
  const sceneOptions = { ...DEFAULT_SCENE_OPTIONS, width: o.width, height: o.height };
  let sentenceId = 0;
  const images: WorldImage[] = [];
  for (let i = 0; i < o.images; i++) {
    const rng = new Rng(mixSeed(o.seed, i));
    const scene = sampleScene(rng, sceneOptions);
    const sentences = describeScene(scene, rng, o.sentencesPerImage).map((s) => ({
      id: sentenceId++,
      ...s,
    }));
    images.push({
      id: i,
      filename: `${String(i).padStart(6, "0")}.jpg`,
      split: splits[i],
      background: scene.background,
      objects: scene.objects,
      regions: proposeRegions(scene, rng),
      sentences,
    });
  }
  return { seed: o.seed, width: o.width, height: o.height, images };
}

export interface GeneratedWorld {
  readonly world: World;
  readonly imagesDir: string;
  readonly datasetPath: string;
  readonly worldPath: string;
}

/**
 * Writes a world into `dir`: `images/NNNNNN.jpg`, `dataset.json` (Karpathy layout) and
 * `world.json` (ground truth, world-file.ts). `onImage` is called after each image is written.
 */
export async function generateWorld(
  dir: string,
  options: Partial<WorldOptions> = {},
  onImage: () => void = () => {},
): Promise<GeneratedWorld> {
  const world = sampleWorld(options);
  const imagesDir = join(dir, "images");
  mkdirSync(imagesDir, { recursive: true });
  // A few renders in flight keep sharp's worker threads busy while JavaScript draws backgrounds.
  let next = 0;
  const worker = async () => {
    while (next < world.images.length) {
      const image = world.images[next++];
      const { width, height } = world;
      const jpeg = await renderScene({ width, height, ...image });
      await writeFile(join(imagesDir, image.filename), jpeg);
      onImage();
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  const datasetPath = join(dir, "dataset.json");
  const worldPath = join(dir, "world.json");
  writeKarpathyDataset(datasetPath, worldToDataset(world));
  writeWorldFile(worldPath, world);
  return { world, imagesDir, datasetPath, worldPath };
}

/** Train first, then val, then test; at least one val and one test image once there are three. */
function assignSplits(n: number, valFraction: number, testFraction: number): Split[] {
  const held = (f: number) => (n >= 3 ? Math.max(1, Math.round(n * f)) : 0);
  const nVal = held(valFraction);
  const nTest = held(testFraction);
  const nTrain = Math.max(0, n - nVal - nTest);
  return Array.from(
    { length: n },
    (_, i): Split => (i < nTrain ? "train" : i < nTrain + nVal ? "val" : "test"),
  );
}

/** A 32-bit seed for image i of a world, well spread even for consecutive seeds and indices. */
function mixSeed(seed: number, i: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  return (z ^ (z >>> 13)) >>> 0;
}
