import assert from "node:assert/strict";
import { join } from "node:path";
import test from "node:test";
import { InputError } from "../../src/errors.js";
import { decodeImage } from "../../src/vision/decode.js";
import { Detector } from "../../src/vision/detector.js";
import { DETECTOR_PRESETS } from "../../src/vision/model-config.js";
import { ModelRegistry } from "../../src/vision/model-registry.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

test("YOLOX-Nano finds the dogs of a Flickr photo, boxes in image pixels", {
  skip: skipUnlessShared(
    "models/yolox_nano.onnx",
    "data/flickr8k/originals/1030985833_b0902ea560.jpg",
  ),
}, async () => {
  const shared = sharedDir()!;
  const config = {
    ...DETECTOR_PRESETS["yolox-nano"],
    model: join(shared, "models/yolox_nano.onnx"),
  };
  const detector = await Detector.load(config, new ModelRegistry(join(shared, "none")));
  const image = await decodeImage(
    join(shared, "data/flickr8k/originals/1030985833_b0902ea560.jpg"),
  );
  const found = await detector.detect(image);
  await detector.close();
  const dogs = found.filter((d) => d.label === "dog");
  assert.ok(dogs.length >= 1, `found: ${found.map((d) => d.label).join(", ")}`);
  assert.ok(dogs[0].score > 0.5);
  for (const d of found) {
    assert.ok(
      d.box.x1 >= 0 && d.box.y1 >= 0 && d.box.x2 <= image.width && d.box.y2 <= image.height,
    );
    assert.ok(d.score >= config.scoreThreshold);
  }
  const scores = found.map((d) => d.score);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    "best first",
  );
});

test("a detector config that does not fit the model is an InputError", {
  skip: skipUnlessShared("models/yolox_nano.onnx"),
}, async () => {
  const config = {
    ...DETECTOR_PRESETS["yolox-nano"],
    model: join(sharedDir()!, "models/yolox_nano.onnx"),
    labels: ["just one class"],
  };
  await assert.rejects(
    Detector.load(config, new ModelRegistry(join(sharedDir()!, "none"))),
    (e: Error) => e instanceof InputError && /does not fit its detector config/.test(e.message),
  );
});
