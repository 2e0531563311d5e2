import assert from "node:assert/strict";
import test from "node:test";
import { DEFAULT_PREPROCESS } from "../../src/vision/model-config.js";
import { boxesToBatch, ImagePyramid, normalisation } from "../../src/vision/preprocess.js";
import { ResampleWorker } from "../../src/vision/resample-pool.js";

test("regions cut out with a worker equal those cut out on one thread", async () => {
  const width = 120;
  const height = 90;
  const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
  const image = { width, height, data };
  const config = { ...DEFAULT_PREPROCESS, width: 32, height: 24, contextPadding: 4 };
  const norm = normalisation(config);
  const boxes = Array.from({ length: 7 }, (_, i) => ({
    x1: i * 5,
    y1: i * 3,
    x2: 60 + i * 8,
    y2: 40 + i * 7,
  }));
  const expected = boxesToBatch(image, boxes, config, norm).data;
  const worker = new ResampleWorker();
  try {
    const out = new Float32Array(expected.length);
    for (let round = 0; round < 2; round++) {
      out.fill(Number.NaN);
      await worker.batch(new ImagePyramid(image), boxes, config, norm, out);
      assert.deepEqual(out, expected);
    }
    assert.ok(worker.healthy);
  } finally {
    await worker.close();
  }
});
