import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { InputError } from "../../src/errors.js";
import {
  DETECTOR_PRESETS,
  ENCODER_PRESETS,
  loadModelConfig,
  parseModelConfig,
} from "../../src/vision/model-config.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, json: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(json));
  return path;
};

test("presets load by name and round-trip through JSON", () => {
  for (const [name, preset] of [
    ...Object.entries(ENCODER_PRESETS),
    ...Object.entries(DETECTOR_PRESETS),
  ]) {
    assert.deepEqual(loadModelConfig(name, preset.kind), preset);
    assert.deepEqual(parseModelConfig(JSON.parse(JSON.stringify(preset)), name), preset);
  }
  assert.equal(DETECTOR_PRESETS["yolox-nano"].labels.length, 80);
});

test("a config file can be a ResNet-style encoder with defaults filled in", () => {
  const path = write("resnet.json", {
    model: "resnet152",
    feature: "avgpool_out",
    preprocess: { resize: "crop", width: 224 },
  });
  const c = loadModelConfig(path, "encoder");
  assert.equal(c.kind, "encoder");
  assert.equal(c.feature, "avgpool_out");
  assert.equal(c.dequantize, "auto");
  assert.equal(c.preprocess.resize, "crop");
  assert.deepEqual(c.preprocess.mean, [0.485, 0.456, 0.406]);
});

test("a file may override one field of a preset", () => {
  const path = write("strict.json", {
    kind: "detector",
    preset: "yolox-nano",
    scoreThreshold: 0.6,
  });
  const c = loadModelConfig(path, "detector");
  assert.equal(c.scoreThreshold, 0.6);
  assert.equal(c.model, "yolox_nano");
  assert.equal(c.preprocess.padValue, 114);
});

test("invalid fields are InputErrors naming the file and field", () => {
  const bad = (json: unknown, pattern: RegExp) => {
    const path = write("bad.json", json);
    assert.throws(
      () => loadModelConfig(path, "encoder"),
      (e: Error) => e instanceof InputError && e.message.includes(path) && pattern.test(e.message),
    );
  };
  bad({ model: "m" }, /: feature: expected a non-empty string, missing/);
  bad(
    { model: "m", feature: "f", preprocess: { resize: "squash" } },
    /: preprocess\.resize: expected one of "stretch", "crop", "letterbox", got "squash"/,
  );
  bad(
    { model: "m", feature: "f", preprocess: { std: [1, 0, 1] } },
    /: preprocess\.std: expected 3 numbers, none 0, got \[1,0,1\]/,
  );
  bad(
    { model: "m", feature: "f", batchSize: 1.5 },
    /: batchSize: expected an integer >= 0, got 1\.5/,
  );
  bad({ kind: "detector", preset: "yolox-nano" }, /is a detector/);
  assert.throws(() => loadModelConfig("no-such-preset", "encoder"), /not a encoder preset/);
});
