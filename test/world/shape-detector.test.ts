import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { iou } from "../../src/vision/boxes.js";
import { decodeImage } from "../../src/vision/decode.js";
import { selectRegions } from "../../src/vision/regions.js";
import { detectShapes, ShapeDetector } from "../../src/vision/shape-detector.js";
import { type GeneratedWorld, generateWorld } from "../../src/world/generate.js";

let dir: string;
let world: GeneratedWorld;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-shapes-"));
  world = await generateWorld(join(dir, "world"), { images: 40, seed: 5 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("every object of a world image is found with a close box and its colour word", async () => {
  let objects = 0;
  let found = 0;
  let extra = 0;
  for (const image of world.world.images) {
    const rgb = await decodeImage(join(world.imagesDir, image.filename));
    const close = detectShapes(rgb).filter((d) => d.score === 0.9);
    extra += Math.max(0, close.length - image.objects.length);
    for (const o of image.objects) {
      objects++;
      const match = close.find((d) => iou(d.box, o.box) >= 0.7);
      if (match?.label === o.colour) found++;
    }
  }
  assert.ok(objects > 60, `${objects} objects`);
  assert.ok(found / objects >= 0.95, `found ${found} of ${objects}`);
  assert.ok(extra <= 2, `${extra} blobs that are no object`);
});

test("loose boxes contain their close box, unions contain both objects", async () => {
  const image = world.world.images.find((im) => im.objects.length >= 2)!;
  const rgb = await decodeImage(join(world.imagesDir, image.filename));
  const detections = detectShapes(rgb);
  const close = detections.filter((d) => d.score === 0.9);
  const loose = detections.filter((d) => d.score === 0.6);
  const unions = detections.filter((d) => d.score === 0.3);
  const inside = (a: (typeof close)[0]["box"], b: (typeof close)[0]["box"]) =>
    b.x1 <= a.x1 && b.y1 <= a.y1 && b.x2 >= a.x2 && b.y2 >= a.y2;
  assert.equal(unions.length, (close.length * (close.length - 1)) / 2);
  for (const c of close) assert.ok(loose.some((l) => inside(c.box, l.box) && l.label === c.label));
  for (const u of unions) assert.equal(close.filter((c) => inside(c.box, u.box)).length >= 2, true);
  const regions = selectRegions(rgb.width, rgb.height, detections, 20);
  assert.equal(regions.length, 20);
  assert.equal(regions[1].source, "detection");
});

test("a grey image has no objects; the detector behind the interface says so too", async () => {
  const width = 32;
  const height = 24;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.fill(90 + (p % 7) * 3, 3 * p, 3 * p + 3);
  assert.deepEqual(detectShapes({ width, height, data }), []);
  const detector = new ShapeDetector();
  assert.equal(detector.name, "world-shapes");
  assert.deepEqual(await detector.detect({ width, height, data }), []);
  await detector.close();
});
