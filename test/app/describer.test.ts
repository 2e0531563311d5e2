import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { Describer } from "../../src/app/describer.js";
import { descriptionPage } from "../../src/app/description-page.js";
import { writeBundle } from "../../src/app/model-bundle.js";
import { PIXEL_STATS_SETUP } from "../../src/app/vision-setup.js";
import { InputError } from "../../src/errors.js";
import { iou } from "../../src/vision/boxes.js";
import { type TrainedWorld, trainedWorld } from "./fixtures.js";

let dir: string;
let trained: TrainedWorld;
let describer: Describer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-describe-"));
  trained = await trainedWorld(dir, { images: 80 });
  describer = await Describer.load(trained.bundleDir, { regionBeam: 2 });
});

after(async () => {
  await describer.close();
  rmSync(dir, { recursive: true, force: true });
});

function worldImage(): string {
  return join(trained.world.imagesDir, trained.world.world.images[0].filename);
}

test("describe gives a caption in the model's words and 19 regions with boxes inside the image", async () => {
  const png = join(dir, "scene.png");
  await sharp(worldImage()).png().toFile(png);
  const d = await describer.describe(png);
  assert.equal(d.width, 224);
  assert.equal(d.height, 224);
  const words = new Set(
    trained.world.world.images.flatMap((im) => im.sentences.flatMap((s) => s.tokens)),
  );
  const caption = d.caption.split(" ");
  assert.ok(caption.length >= 1 && caption.every((w) => words.has(w)), d.caption);
  assert.equal(d.regions.length, 19);
  for (const r of d.regions) {
    assert.ok(r.box.x1 >= 0 && r.box.y1 >= 0 && r.box.x2 <= 224 && r.box.y2 <= 224);
    assert.ok(r.box.x2 > r.box.x1 && r.box.y2 > r.box.y1);
    // Every region has a phrase with its confidence; it is the caption when it is shown.
    assert.ok(r.phrase && r.phrase.text.length > 0 && r.phrase.confidence < 0);
    assert.equal(r.caption, r.phrase.shown ? r.phrase.text : undefined);
    assert.equal(r.source === "detection", "label" in r, "detections, and only they, are labelled");
  }
  // The bundle's detector is the world's colour-blob detector: each object is a detection.
  for (const o of trained.world.world.images[0].objects) {
    assert.ok(
      d.regions.some(
        (r) => r.source === "detection" && r.label === o.colour && iou(r.box, o.box) >= 0.7,
      ),
      `${o.colour} ${o.shape} detected`,
    );
  }
  for (const key of ["decode", "detect", "encode", "caption", "regionCaptions", "total"] as const) {
    assert.ok(d.millis[key] >= 0, key);
  }
});

test("a WebP of odd size given as bytes is described in its own pixels", async () => {
  const webp = await sharp(worldImage()).resize(333, 151, { fit: "fill" }).webp().toBuffer();
  const d = await describer.describe(new Uint8Array(webp), { name: "odd.webp" });
  assert.equal(d.width, 333);
  assert.equal(d.height, 151);
  assert.ok(d.caption.length > 0);
  assert.ok(d.regions.every((r) => r.box.x2 <= 333 && r.box.y2 <= 151));
  const page = descriptionPage("t", [{ title: "odd.webp", imageHref: "odd.webp", description: d }]);
  assert.equal((page.match(/<rect [^>]*fill="none"/g) ?? []).length, 19, "a box a region");
  const labelled = d.regions.filter((r) => r.caption).length;
  assert.ok((page.match(/<g class="label">/g) ?? []).length <= labelled, "labels: shown phrases");
  assert.match(page, new RegExp(d.caption));
});

test("a bundle without a region generator gives regions without phrases", async () => {
  const plain = join(dir, "plain-bundle");
  writeBundle(plain, {
    alignment: trained.alignment,
    generator: trained.generator,
    vision: PIXEL_STATS_SETUP,
  });
  const boxesOnly = await Describer.load(plain);
  try {
    assert.equal(boxesOnly.describesRegions, false);
    assert.equal(describer.describesRegions, true);
    const d = await boxesOnly.describe(worldImage());
    assert.equal(d.regions.length, 19);
    assert.ok(d.regions.every((r) => !("caption" in r) && !("phrase" in r)));
    assert.equal(d.caption, (await describer.describe(worldImage())).caption);
  } finally {
    await boxesOnly.close();
  }
});

test("an unreadable image is an InputError naming it", async () => {
  const junk = join(dir, "junk.jpg");
  await sharp(worldImage()).toFile(join(dir, "ok.jpg"));
  const truncated = readFileSync(join(dir, "ok.jpg")).subarray(0, 20);
  await assert.rejects(
    describer.describe(truncated, { name: junk }),
    (e: unknown) => e instanceof InputError && e.message.startsWith(`${junk}: cannot decode`),
  );
});
