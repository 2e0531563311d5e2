import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { InputError } from "../../src/errors.js";
import {
  decodeShard,
  encodeShard,
  FeatureStore,
  type StoredImage,
} from "../../src/vision/feature-store.js";

const meta = { encoder: "enc", dim: 2, regionsPerImage: 2, detector: "det" };

function entry(filename: string, seed: number): StoredImage {
  return {
    filename,
    id: seed,
    width: 40,
    height: 30,
    regions: [
      { box: { x1: 0, y1: 0, x2: 40, y2: 30 }, source: "whole" },
      {
        box: { x1: 1.5, y1: 2, x2: 20, y2: 25.25 },
        source: "detection",
        label: "dog",
        score: 0.75,
      },
    ],
    features: new Float32Array([seed, seed + 0.5, -seed, 1e-3]),
  };
}

test("shards round-trip regions and features exactly", () => {
  const images = [entry("a.jpg", 1), entry("b.jpg", 2)];
  assert.deepEqual(decodeShard(encodeShard(2, images)), images);
});

test("a store grows shard by shard and reopens with everything in it", () => {
  const root = mkdtempSync(join(tmpdir(), "imagesent-store-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "store");
  const store = FeatureStore.openForWriting(dir, meta);
  store.append([entry("a.jpg", 1), entry("b.jpg", 2)]);
  store.append([entry("c.jpg", 3)]);
  // A write killed before its rename leaves a temporary file; reopening removes it.
  writeFileSync(join(dir, ".shard-000002.isf.dead.tmp"), "partial");
  const again = FeatureStore.openForWriting(dir, meta);
  assert.equal(again.size, 3);
  assert.ok(again.has("b.jpg") && !again.has("d.jpg"));
  assert.deepEqual(again.get("c.jpg"), entry("c.jpg", 3));
  assert.deepEqual(again.get("a.jpg"), entry("a.jpg", 1));
  assert.deepEqual(
    [...again.entries()].map((e) => e.filename),
    ["a.jpg", "b.jpg", "c.jpg"],
  );
  assert.ok(!readdirSync(dir).some((f) => f.endsWith(".tmp")));
  assert.deepEqual(FeatureStore.open(dir).meta, {
    format: "imagesent-features",
    version: 2,
    ...meta,
  });
});

test("a store made by another encoder or region count is refused", () => {
  const root = mkdtempSync(join(tmpdir(), "imagesent-store-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "store");
  FeatureStore.openForWriting(dir, meta);
  assert.throws(() => FeatureStore.openForWriting(dir, { ...meta, dim: 3 }), /dim = 2/);
  assert.throws(() => FeatureStore.openForWriting(dir, { ...meta, encoder: "x" }), InputError);
  assert.throws(() => FeatureStore.open(join(dir, "nope")), /not a feature store/);
});
