import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import sharp from "sharp";
import { featuresCommand } from "../../src/cli/commands/features.js";
import { InputError } from "../../src/errors.js";
import { FeatureStore } from "../../src/vision/feature-store.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";
import { writeQuantizedModel } from "./tiny-models.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-features-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const images = join(dir, "images");

async function setup(): Promise<void> {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(images, { recursive: true });
  const colours = ["#c00", "#0c0", "#00c"];
  for (const [i, c] of colours.entries()) {
    await sharp({ create: { width: 40 + 10 * i, height: 30, channels: 3, background: c } })
      .jpeg()
      .toFile(join(images, `img${i}.jpg`));
  }
  writeFileSync(join(images, "broken.jpg"), "not a jpeg");
}

async function quiet<T>(f: () => Promise<T>): Promise<{ result: T; err: string }> {
  const lines: string[] = [];
  const error = console.error;
  console.error = (...p: unknown[]) => lines.push(p.join(" "));
  try {
    return { result: await f(), err: lines.join("\n") };
  } finally {
    console.error = error;
  }
}

test("encodes a folder, reports the unreadable image, and resumes", async () => {
  await setup();
  const out = join(dir, "store-pixel");
  const args = [
    "--images",
    images,
    "--out",
    out,
    "--encoder",
    "pixel-stats",
    "--detector",
    "none",
    "--shard",
    "2",
  ];
  const first = await quiet(() => Promise.resolve(featuresCommand.run(args)));
  assert.equal(first.result, 1, "a failed image makes the exit code 1");
  assert.match(first.err, /failed: .*broken\.jpg: cannot decode image/);
  const store = FeatureStore.open(out);
  assert.deepEqual(store.filenames().sort(), ["img0.jpg", "img1.jpg", "img2.jpg"]);
  assert.equal(readdirSync(out).filter((f) => f.endsWith(".isf")).length, 2, "shards of 2 images");
  const img = store.get("img1.jpg")!;
  assert.equal(img.regions.length, 20);
  assert.equal(img.regions[0].source, "whole");
  assert.ok(img.regions.slice(1).every((r) => r.source === "fallback"));
  assert.equal(img.features.length, 20 * store.meta.dim);
  assert.equal(img.width, 50);

  const second = await quiet(() => Promise.resolve(featuresCommand.run(args)));
  assert.match(second.err, /wrote 0, kept 3 already stored, 1 failed/);
});

test("an ONNX encoder from a JSON config, whole images only, from a dataset", async () => {
  const model = writeQuantizedModel(dir, 8);
  const config = join(dir, "tiny.json");
  writeFileSync(
    config,
    JSON.stringify({ model, feature: "q", preprocess: { width: 8, height: 8 } }),
  );
  const dataset = join(dir, "dataset.json");
  const sentence = (id: number) => ({ raw: "a box", tokens: ["a", "box"], sentid: id, imgid: id });
  writeFileSync(
    dataset,
    JSON.stringify({
      dataset: "tiny",
      images: [
        { filename: "img0.jpg", imgid: 0, split: "train", sentids: [0], sentences: [sentence(0)] },
        { filename: "img2.jpg", imgid: 1, split: "test", sentids: [1], sentences: [sentence(1)] },
      ],
    }),
  );
  const out = join(dir, "store-onnx");
  const args = ["--images", images, "--dataset", dataset, "--split", "test", "--out", out];
  const { result } = await quiet(() =>
    Promise.resolve(featuresCommand.run([...args, "--encoder", config, "--regions", "1"])),
  );
  assert.equal(result, 0);
  const store = FeatureStore.open(out);
  assert.deepEqual(store.filenames(), ["img2.jpg"]);
  assert.equal(store.meta.dim, 3);
  assert.equal(store.meta.regionsPerImage, 1);
  const f = store.get("img2.jpg")!;
  assert.equal(f.id, 1);
  assert.ok(f.features[2] > f.features[0], "a blue image has more blue");
  await assert.rejects(
    Promise.resolve(featuresCommand.run([...args, "--encoder", "pixel-stats", "--regions", "1"])),
    (e: Error) => e instanceof InputError && /encoder/.test(e.message),
    "a store made by another encoder is refused",
  );
});

test("flags are checked", async () => {
  await assert.rejects(
    Promise.resolve(featuresCommand.run(["--images", images])),
    /--out are required/,
  );
  await assert.rejects(
    Promise.resolve(
      featuresCommand.run(["--images", images, "--out", join(dir, "x"), "--regions", "21"]),
    ),
    /--regions: expected an integer from 1 to 20, got "21"/,
  );
});

test("20 regions with YOLOX-Nano and MobileNetV2 on real photos", {
  skip: skipUnlessShared(
    "models/yolox_nano.onnx",
    "models/mobilenetv2-12-int8.onnx",
    "data/flickr8k/originals",
  ),
}, async () => {
  const shared = sharedDir()!;
  const out = join(dir, "store-real");
  const { result } = await quiet(() =>
    Promise.resolve(
      featuresCommand.run([
        "--images",
        join(shared, "data/flickr8k/originals"),
        "--out",
        out,
        "--encoder-model",
        join(shared, "models/mobilenetv2-12-int8.onnx"),
        "--detector-model",
        join(shared, "models/yolox_nano.onnx"),
        "--limit",
        "3",
      ]),
    ),
  );
  assert.equal(result, 0);
  const store = FeatureStore.open(out);
  assert.equal(store.size, 3);
  assert.equal(store.meta.dim, 1280);
  const all = [...store.entries()];
  for (const im of all) {
    assert.equal(im.regions.length, 20);
    for (const r of im.regions) {
      assert.ok(r.box.x1 >= 0 && r.box.y1 >= 0 && r.box.x2 <= im.width && r.box.y2 <= im.height);
    }
  }
  const detections = all.flatMap((im) => im.regions.filter((r) => r.source === "detection"));
  assert.ok(detections.length > 0, "people and dogs are found in Flickr photos");
  // The default detector, yolox-nano-proposals, keeps boxes down to score 0.01.
  assert.ok(detections.every((d) => typeof d.label === "string" && d.score! >= 0.01));
  assert.match(store.meta.detector ?? "", /^yolox:yolox_nano@416x416:score0\.01:nms-agnostic0\.6:/);
});
