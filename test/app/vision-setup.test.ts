import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openVisionModels, parseVisionSetup } from "../../src/app/vision-setup.js";
import { InputError } from "../../src/errors.js";
import { ENCODER_PRESETS } from "../../src/vision/model-config.js";
import { ModelRegistry } from "../../src/vision/model-registry.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-vision-setup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("presets, config objects and the pixel-statistics encoder are read as features takes them", () => {
  assert.deepEqual(
    parseVisionSetup({ encoder: "mobilenetv2-12-int8", detector: "yolox-nano", regions: 20 }, "v"),
    { encoder: "mobilenetv2-12-int8", detector: "yolox-nano", regions: 20 },
  );
  const custom = parseVisionSetup(
    {
      encoder: { preset: "mobilenetv2-12-int8", batchSize: 4 },
      encoderModel: "models/cnn.onnx",
      detector: null,
      regions: 1,
    },
    "v",
  );
  assert.equal(typeof custom.encoder, "object");
  assert.deepEqual(custom.encoder, { ...ENCODER_PRESETS["mobilenetv2-12-int8"], batchSize: 4 });
  assert.equal(custom.encoderModel, "models/cnn.onnx");
  assert.deepEqual(
    parseVisionSetup(
      { encoder: { kind: "pixel-stats", dim: 64 }, detector: "none", regions: 5 },
      "v",
    ),
    { encoder: { kind: "pixel-stats", dim: 64 }, detector: null, regions: 5 },
  );
});

test("bad setups name the field", () => {
  const cases: [unknown, RegExp][] = [
    [
      { encoder: "pixel-stats", detector: null, regions: 0 },
      /^v: regions: expected an integer from 1 to 20, got 0/,
    ],
    [{ encoder: 7, detector: null, regions: 20 }, /^v: encoder: expected a preset name/],
    [
      { encoder: { kind: "detector" }, detector: null, regions: 20 },
      /^v: encoder\.kind: expected one of "encoder", "pixel-stats", got "detector"/,
    ],
    [
      { encoder: { kind: "pixel-stats", dim: 1.5 }, detector: null, regions: 20 },
      /^v: encoder\.dim: expected an integer >= 0, got 1\.5/,
    ],
    [{ encoder: "pixel-stats", detector: null, regions: 20, extra: 1 }, /^v: extra: unknown field/],
    [
      { encoder: "pixel-stats", encoderModel: "", detector: null, regions: 20 },
      /^v: encoderModel: expected a model name or \.onnx path, got ""/,
    ],
  ];
  for (const [json, message] of cases) {
    assert.throws(
      () => parseVisionSetup(json, "v"),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      String(message),
    );
  }
});

test("a relative model path is taken from the bundle folder", async () => {
  const setup = parseVisionSetup(
    { encoder: "mobilenetv2-12-int8", encoderModel: "models/cnn.onnx", detector: null, regions: 1 },
    "v",
  );
  await assert.rejects(
    openVisionModels(setup, { baseDir: join(dir, "bundle"), registry: new ModelRegistry(dir) }),
    (e: unknown) =>
      e instanceof InputError &&
      e.message === `${join(dir, "bundle", "models", "cnn.onnx")}: model file not found`,
  );
  const pixels = await openVisionModels(
    parseVisionSetup({ encoder: "pixel-stats", detector: "yolox-nano", regions: 1 }, "v"),
  );
  assert.equal(pixels.encoder.dim, 256);
  assert.equal(pixels.detector, undefined, "one region needs no detector");
});
