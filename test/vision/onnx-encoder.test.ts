import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { InputError } from "../../src/errors.js";
import { decodeImage } from "../../src/vision/decode.js";
import type { RgbImage } from "../../src/vision/image.js";
import { DEFAULT_PREPROCESS, type EncoderConfig } from "../../src/vision/model-config.js";
import { ModelRegistry } from "../../src/vision/model-registry.js";
import { OnnxEncoder } from "../../src/vision/onnx-encoder.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";
import { writeQuantizedModel } from "./tiny-models.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-encoder-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = writeQuantizedModel(dir, 8);
const registry = new ModelRegistry(join(dir, "cache"));
const config: EncoderConfig = {
  kind: "encoder",
  model,
  feature: "q",
  dequantize: "auto",
  pool: "mean",
  batchSize: 0,
  preprocess: { ...DEFAULT_PREPROCESS, width: 8, height: 8, mean: [0, 0, 0], std: [1, 1, 1] },
};

// Left half red, right half blue.
const image: RgbImage = {
  width: 16,
  height: 8,
  data: Uint8Array.from({ length: 16 * 8 * 3 }, (_, i) => {
    const x = Math.floor(i / 3) % 16;
    const c = i % 3;
    return (x < 8 && c === 0) || (x >= 8 && c === 2) ? 255 : 0;
  }),
};

test("reads a quantized intermediate tensor, dequantized and pooled per box", async () => {
  const enc = await OnnxEncoder.load(config, registry);
  assert.equal(enc.dim, 3);
  assert.match(enc.name, /tiny-quantized#q/);
  const boxes = [
    { x1: 0, y1: 0, x2: 8, y2: 8 },
    { x1: 8, y1: 0, x2: 16, y2: 8 },
    { x1: 0, y1: 0, x2: 16, y2: 8 },
  ];
  const f = await enc.encode(image, boxes);
  const near = (a: number, b: number) => Math.abs(a - b) < 0.03;
  assert.equal(f.length, 9);
  assert.ok(near(f[0], 1) && near(f[1], 0) && near(f[2], 0), `red box: ${f.subarray(0, 3)}`);
  assert.ok(near(f[3], 0) && near(f[4], 0) && near(f[5], 1), `blue box: ${f.subarray(3, 6)}`);
  assert.ok(near(f[6], 0.5) && near(f[8], 0.5), `whole: ${f.subarray(6, 9)}`);
  await enc.close();
});

test("small batches give the same features as one batch", async () => {
  const boxes = Array.from({ length: 5 }, (_, i) => ({ x1: i, y1: 0, x2: i + 8, y2: 8 }));
  const one = await OnnxEncoder.load(config, registry);
  const two = await OnnxEncoder.load({ ...config, batchSize: 2 }, registry);
  assert.deepEqual(await two.encode(image, boxes), await one.encode(image, boxes));
  await one.close();
  await two.close();
});

test("pool none keeps the whole tensor; explicit scale and zero point apply", async () => {
  const enc = await OnnxEncoder.load(
    { ...config, pool: "none", dequantize: { scale: 1, zeroPoint: 0 } },
    registry,
  );
  assert.equal(enc.dim, 3 * 8 * 8);
  const f = await enc.encode(image, [{ x1: 0, y1: 0, x2: 8, y2: 8 }]);
  assert.equal(f[0], Math.round(1 / 0.05) + 128, "raw quantized value");
  await enc.close();
});

test("an unknown feature tensor is an InputError naming the model", async () => {
  await assert.rejects(
    OnnxEncoder.load({ ...config, feature: "nope" }, registry),
    (e: Error) =>
      e instanceof InputError && e.message.includes("'nope'") && e.message.includes(model),
  );
});

test("MobileNetV2 int8: 1280-d pooled features of 20 regions", {
  skip: skipUnlessShared("models/mobilenetv2-12-int8.onnx", "data/flickr8k/originals"),
}, async () => {
  const shared = sharedDir()!;
  const enc = await OnnxEncoder.load(
    {
      ...config,
      model: join(shared, "models/mobilenetv2-12-int8.onnx"),
      feature: "464_quantized",
      preprocess: { ...DEFAULT_PREPROCESS, contextPadding: 16 },
    },
    registry,
  );
  assert.equal(enc.dim, 1280);
  const originals = join(shared, "data/flickr8k/originals");
  const img = await decodeImage(join(originals, readdirSync(originals).sort()[0]));
  const boxes = Array.from({ length: 20 }, (_, i) => ({
    x1: i * 5,
    y1: i * 3,
    x2: img.width - i * 4,
    y2: img.height - i * 2,
  }));
  const f = await enc.encode(img, boxes);
  assert.equal(f.length, 20 * 1280);
  assert.ok(
    f.every((v) => Number.isFinite(v) && v >= 0),
    "pooled ReLU6 features are non-negative",
  );
  assert.ok(f.some((v) => v > 0));
  await enc.close();
});
