import assert from "node:assert/strict";
import test from "node:test";
import type { RgbImage } from "../../src/vision/image.js";
import { DEFAULT_PREPROCESS, type PreprocessConfig } from "../../src/vision/model-config.js";
import {
  boxesToBatch,
  boxToImage,
  ImagePyramid,
  normalisation,
  planWarp,
  writeWarp,
} from "../../src/vision/preprocess.js";

const cfg = (over: Partial<PreprocessConfig>): PreprocessConfig => ({
  ...DEFAULT_PREPROCESS,
  ...over,
});
const raw = cfg({ scale: 1, mean: [0, 0, 0], std: [1, 1, 1], padValue: 0 });

function image(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return { width, height, data };
}

test("stretch maps the box onto the whole input", () => {
  const w = planWarp(200, 100, { x1: 10, y1: 20, x2: 110, y2: 70 }, cfg({}));
  assert.deepEqual(w.src, { x: 10, y: 20, w: 100, h: 50 });
  assert.deepEqual(w.dst, { x: 0, y: 0, w: 224, h: 224 });
});

test("context padding grows the box as R-CNN does, padding outside the image", () => {
  const inside = planWarp(
    1000,
    1000,
    { x1: 400, y1: 400, x2: 592, y2: 592 },
    cfg({ contextPadding: 16 }),
  );
  assert.deepEqual(inside.src, { x: 384, y: 384, w: 224, h: 224 }, "192 px box + 16 px each side");
  assert.deepEqual(inside.dst, { x: 0, y: 0, w: 224, h: 224 });
  const corner = planWarp(
    192,
    192,
    { x1: 0, y1: 0, x2: 192, y2: 192 },
    cfg({ contextPadding: 16 }),
  );
  assert.deepEqual(corner.src, { x: 0, y: 0, w: 192, h: 192 });
  assert.deepEqual(corner.dst, { x: 16, y: 16, w: 192, h: 192 });
});

test("crop takes the centred part with the input's aspect ratio", () => {
  const w = planWarp(300, 100, { x1: 0, y1: 0, x2: 300, y2: 100 }, cfg({ resize: "crop" }));
  assert.deepEqual(w.src, { x: 100, y: 0, w: 100, h: 100 });
});

test("letterbox keeps the aspect ratio; boxToImage maps detections back", () => {
  const base = cfg({ width: 416, height: 416, resize: "letterbox", letterboxAlign: "top-left" });
  const w = planWarp(500, 375, { x1: 0, y1: 0, x2: 500, y2: 375 }, base);
  assert.deepEqual(w.dst, { x: 0, y: 0, w: 416, h: 312 });
  assert.deepEqual(boxToImage({ x1: 0, y1: 0, x2: 416, y2: 312 }, w), {
    x1: 0,
    y1: 0,
    x2: 500,
    y2: 375,
  });
  const centred = planWarp(
    500,
    375,
    { x1: 0, y1: 0, x2: 500, y2: 375 },
    { ...base, letterboxAlign: "center" },
  );
  assert.deepEqual(centred.dst, { x: 0, y: 52, w: 416, h: 312 });
  assert.deepEqual(boxToImage({ x1: 0, y1: 52, x2: 416, y2: 364 }, centred), {
    x1: 0,
    y1: 0,
    x2: 500,
    y2: 375,
  });
});

test("normalises (pixel * scale - mean) / std per channel, in RGB or BGR order", () => {
  const img = image(4, 4, () => [255, 0, 51]);
  const c = cfg({ width: 2, height: 2, mean: [0.5, 0, 0], std: [0.5, 1, 0.2] });
  const rgb = boxesToBatch(img, [{ x1: 0, y1: 0, x2: 4, y2: 4 }], c).data;
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-5;
  const expect = [1, 0, 1];
  for (let k = 0; k < 3; k++)
    for (let i = 0; i < 4; i++) assert.ok(close(rgb[k * 4 + i], expect[k]), `${k}`);
  const bgr = boxesToBatch(img, [{ x1: 0, y1: 0, x2: 4, y2: 4 }], {
    ...c,
    channelOrder: "bgr",
  }).data;
  assert.ok(close(bgr[0], 1) && close(bgr[4], 0) && close(bgr[8], 1), "blue plane first");
  const nhwc = boxesToBatch(img, [{ x1: 0, y1: 0, x2: 4, y2: 4 }], { ...c, layout: "nhwc" }).data;
  assert.ok(close(nhwc[0], 1) && close(nhwc[1], 0) && close(nhwc[2], 1) && close(nhwc[3], 1));
});

test("padding takes the configured colour; 'mean' becomes 0", () => {
  const img = image(8, 4, () => [200, 200, 200]);
  const box = { x1: 0, y1: 0, x2: 8, y2: 4 };
  const lb = {
    ...raw,
    width: 8,
    height: 8,
    resize: "letterbox" as const,
    letterboxAlign: "top-left" as const,
    padValue: 114,
  };
  const out = boxesToBatch(img, [box], lb).data;
  assert.equal(out[0], 200);
  assert.equal(out[7 * 8 + 7], 114, "bottom rows are padding");
  const mean = boxesToBatch(img, [box], cfg({ width: 8, height: 8, resize: "letterbox" })).data;
  assert.ok(Math.abs(mean[7 * 8]) < 0.02);
});

test("an input-sized box is copied exactly", () => {
  const img = image(6, 5, (x, y) => [x * 10, y * 20, 7]);
  const out = boxesToBatch(img, [{ x1: 0, y1: 0, x2: 6, y2: 5 }], {
    ...raw,
    width: 6,
    height: 5,
  }).data;
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 6; x++) {
      assert.equal(out[y * 6 + x], x * 10);
      assert.equal(out[30 + y * 6 + x], y * 20);
    }
  }
});

test("large reductions average rather than alias (pyramid)", () => {
  const checker = image(64, 64, (x, y) => ((x + y) % 2 === 0 ? [255, 255, 255] : [0, 0, 0]));
  const out = new Float32Array(8 * 8 * 3);
  const c = { ...raw, width: 8, height: 8 };
  const pyramid = new ImagePyramid(checker);
  const norm = normalisation(c);
  const warp = planWarp(64, 64, { x1: 0, y1: 0, x2: 64, y2: 64 }, c);
  assert.equal(pyramid.levelFor(warp, norm).factor, 8, "an 8x reduction samples the 8x level");
  writeWarp(pyramid.levelFor(warp, norm), warp, c, norm.pad, out, 0);
  for (const v of out) assert.ok(Math.abs(v - 127.5) < 2, `got ${v}`);
});
