import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { Rng } from "../../src/core/rng.js";
import type { Dataset, ImageEntry, Split } from "../../src/data/dataset.js";
import { writeKarpathyDataset } from "../../src/data/karpathy.js";
import { FeatureStore } from "../../src/vision/feature-store.js";

/**
 * A tiny captioning world on disk: images whose CNN codes (3 regions, 8-d) are random but
 * distinct, each with sentences about its own subject, so a small model can learn the mapping.
 */
export const SUBJECTS = [
  "a dog runs on the grass",
  "a man rides a red bike",
  "two children play in the water",
  "a woman climbs a rock",
];

export interface TinyWorld {
  dir: string;
  datasetPath: string;
  storeDir: string;
  dataset: Dataset;
  store: FeatureStore;
}

export function tinyWorld(
  perSplit: Partial<Record<Split, number>> = { train: 8, val: 4, test: 4 },
): TinyWorld {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-gen-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rng = new Rng(5);
  const codes = SUBJECTS.map(() => Float32Array.from({ length: 3 * 8 }, () => rng.normal()));
  const images: ImageEntry[] = [];
  let sentenceId = 0;
  for (const [split, count] of Object.entries(perSplit) as [Split, number][]) {
    for (let i = 0; i < count; i++) {
      const subject = images.length % SUBJECTS.length;
      const raw = SUBJECTS[subject];
      images.push({
        id: images.length,
        filename: `img${images.length}.jpg`,
        split,
        sentences: Array.from({ length: 5 }, () => ({
          id: sentenceId++,
          raw,
          tokens: raw.split(" "),
        })),
      });
    }
  }
  const dataset: Dataset = { name: "tiny", images };
  const datasetPath = join(dir, "dataset.json");
  writeKarpathyDataset(datasetPath, dataset);
  const storeDir = join(dir, "features");
  const store = FeatureStore.openForWriting(storeDir, {
    encoder: "test",
    dim: 8,
    regionsPerImage: 3,
    detector: null,
  });
  store.append(
    images.map((im, i) => ({
      filename: im.filename,
      id: im.id,
      width: 10,
      height: 10,
      regions: [0, 1, 2].map((r) => ({
        box: { x1: 0, y1: 0, x2: 10 - r, y2: 10 - r },
        source: r === 0 ? ("whole" as const) : ("fallback" as const),
      })),
      // Same subject, same code, plus a little noise per image.
      features: codes[i % SUBJECTS.length].map((x) => x + 0.05 * rng.normal()),
    })),
  );
  return { dir, datasetPath, storeDir, dataset, store };
}
