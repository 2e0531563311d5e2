import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readKarpathyDataset } from "../../src/data/karpathy.js";
import { iou } from "../../src/vision/boxes.js";
import { generateWorld, sampleWorld } from "../../src/world/generate.js";
import { readWorldFile, worldToDataset } from "../../src/world/world-file.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-world-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("the same seed writes byte-identical files; another seed different ones", async () => {
  const [a, b, c] = ["a", "b", "c"].map((name) => join(root, name));
  let ticks = 0;
  await generateWorld(a, { images: 4, seed: 5 }, () => ticks++);
  await generateWorld(b, { images: 4, seed: 5 });
  await generateWorld(c, { images: 4, seed: 6 });
  assert.equal(ticks, 4);
  assert.deepEqual(readdirSync(join(a, "images")), [
    "000000.jpg",
    "000001.jpg",
    "000002.jpg",
    "000003.jpg",
  ]);
  for (const file of ["dataset.json", "world.json", "images/000000.jpg", "images/000003.jpg"]) {
    assert.ok(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), file);
    assert.ok(!readFileSync(join(a, file)).equals(readFileSync(join(c, file))), file);
  }
});

test("the files read back as the world sampled, in both formats", async () => {
  const dir = join(root, "d");
  const written = await generateWorld(dir, { images: 3, seed: 2 });
  const world = readWorldFile(written.worldPath);
  assert.deepEqual(world, JSON.parse(JSON.stringify(sampleWorld({ images: 3, seed: 2 }))));
  const dataset = readKarpathyDataset(written.datasetPath);
  assert.deepEqual(dataset, worldToDataset(world));
  assert.deepEqual(
    dataset.images.map((i) => i.split),
    ["train", "val", "test"],
  );
});

test("an image's content does not depend on the size of the world", () => {
  const small = sampleWorld({ images: 5, seed: 3 });
  const large = sampleWorld({ images: 40, seed: 3 });
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(small.images[i].objects, large.images[i].objects);
    assert.deepEqual(small.images[i].sentences, large.images[i].sentences);
  }
  const splits = large.images.map((i) => i.split);
  assert.deepEqual(
    ["train", "val", "test"].map((s) => splits.filter((x) => x === s).length),
    [32, 4, 4],
  );
});

test("each image has 20 regions in the image: the whole, and a close detection per object", () => {
  const world = sampleWorld({ images: 30, seed: 4 });
  const ids = new Set<number>();
  for (const image of world.images) {
    assert.equal(image.regions.length, 20);
    assert.equal(image.regions[0].source, "whole");
    for (const r of image.regions) {
      assert.ok(r.box.x1 >= 0 && r.box.y1 >= 0, JSON.stringify(r.box));
      assert.ok(r.box.x2 <= world.width && r.box.y2 <= world.height, JSON.stringify(r.box));
      assert.ok(r.box.x2 > r.box.x1 && r.box.y2 > r.box.y1);
    }
    const scores = image.regions.slice(1).map((r) => r.score ?? -1);
    assert.deepEqual(
      scores,
      [...scores].sort((x, y) => y - x),
    );
    for (const o of image.objects) {
      const best = Math.max(...image.regions.slice(1).map((r) => iou(r.box, o.box)));
      assert.ok(best >= 0.5, `best IoU ${best} for ${JSON.stringify(o.box)}`);
    }
    for (const s of image.sentences) {
      assert.ok(!ids.has(s.id));
      ids.add(s.id);
    }
  }
});
