import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { CorruptFileError } from "../../src/errors.js";
import {
  isStaged,
  listStaged,
  readStagedShard,
  removeStaged,
  removeStagingLeftovers,
  stagingDir,
  writeStagedShard,
} from "../../src/queue/staged-shards.js";
import type { StoredImage } from "../../src/vision/feature-store.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-staged-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const meta = { encoder: "e", dim: 2, regionsPerImage: 1, detector: null };
const image = (i: number): StoredImage => ({
  filename: `im${i}.jpg`,
  id: i,
  width: 4,
  height: 3,
  regions: [{ box: { x1: 0, y1: 0, x2: 4, y2: 3 }, source: "whole" }],
  features: new Float32Array([i, 0.5]),
});

test("a staged shard reads back as written, with its failures; damage is a CorruptFileError", () => {
  writeStagedShard(
    dir,
    "features-a",
    2,
    [image(1), image(2)],
    [{ filename: "bad.jpg", error: "bad.jpg: not an image" }],
  );
  assert.ok(isStaged(dir, "features-a"));
  assert.deepEqual([...listStaged(dir)], ["features-a"]);
  const back = readStagedShard(dir, "features-a", meta);
  assert.deepEqual(back.images, [image(1), image(2)]);
  assert.deepEqual(back.failures, [{ filename: "bad.jpg", error: "bad.jpg: not an image" }]);

  const shard = join(stagingDir(dir), "features-a.isf");
  const bytes = readFileSync(shard);
  bytes[bytes.length - 1] ^= 0x40;
  writeFileSync(shard, bytes);
  assert.throws(
    () => readStagedShard(dir, "features-a", meta),
    (e: Error) => e instanceof CorruptFileError && e.message.includes("features-a.isf"),
    "a changed feature byte",
  );
  writeFileSync(shard, bytes.subarray(0, 20));
  assert.throws(() => readStagedShard(dir, "features-a", meta), CorruptFileError, "cut short");
  assert.throws(
    () => readStagedShard(dir, "features-a", { ...meta, dim: 3 }),
    CorruptFileError,
    "another store's dimension",
  );
  rmSync(shard);
  assert.throws(() => readStagedShard(dir, "features-a", meta), /missing/);
  removeStaged(dir, "features-a");
  assert.ok(!isStaged(dir, "features-a"));
});

test("a job whose every image failed is staged without a shard", () => {
  writeStagedShard(dir, "features-b", 2, [], [{ filename: "x.jpg", error: "x.jpg: gone" }]);
  assert.ok(!existsSync(join(stagingDir(dir), "features-b.isf")));
  assert.deepEqual(readStagedShard(dir, "features-b", meta), {
    images: [],
    failures: [{ filename: "x.jpg", error: "x.jpg: gone" }],
  });
  removeStaged(dir, "features-b");
});

test("leftovers of killed workers go with the staging folder; other runs' staged jobs stay", () => {
  writeStagedShard(dir, "features-c", 2, [image(3)], []);
  writeFileSync(join(stagingDir(dir), ".features-d.isf.0123abcd.tmp"), "half a shard");
  writeFileSync(join(stagingDir(dir), "features-e.isf"), "a shard whose manifest never came");
  removeStagingLeftovers(dir);
  assert.ok(isStaged(dir, "features-c"), "a staged job of another run is kept");
  assert.ok(existsSync(join(stagingDir(dir), "features-c.isf")), "with its shard");
  assert.ok(!existsSync(join(stagingDir(dir), ".features-d.isf.0123abcd.tmp")));
  assert.ok(!existsSync(join(stagingDir(dir), "features-e.isf")));
  removeStaged(dir, "features-c");
  removeStagingLeftovers(dir);
  assert.ok(!existsSync(stagingDir(dir)), "the empty staging folder is removed");
});
