import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import type { Box, RgbImage } from "../../src/vision/image.js";
import { PixelStatsEncoder } from "../../src/vision/pixel-stats-encoder.js";
import type { Background } from "../../src/world/background.js";
import { hslToRgb } from "../../src/world/colour.js";
import { renderScene } from "../../src/world/render.js";
import {
  COLOUR_HSL,
  type ColourName,
  type ShapeName,
  type SizeName,
} from "../../src/world/scene.js";

const NOISY: Background = {
  kind: "noisy",
  tone: "light",
  rgb: [190, 185, 180],
  rgb2: [190, 185, 180],
  angle: 0,
  period: 10,
  noiseSeed: 3,
};

/** One object drawn alone at `box`, decoded back to pixels. */
async function draw(shape: ShapeName, colour: ColourName, box: Box, size: SizeName = "big") {
  const rgb = hslToRgb(...COLOUR_HSL[colour]);
  const scene = {
    width: 224,
    height: 224,
    background: NOISY,
    objects: [{ shape, colour, size, rgb, box }],
  };
  const { data, info } = await sharp(await renderScene(scene))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) } as RgbImage;
}

async function features(
  encoder: PixelStatsEncoder,
  image: RgbImage,
  box: Box,
): Promise<Float32Array> {
  return encoder.encode(image, [box]);
}

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

const BOX: Box = { x1: 60, y1: 70, x2: 140, y2: 150 };
/** The same object seen through a box a few pixels off, as a detector would give it. */
const NEAR: Box = { x1: 56, y1: 73, x2: 143, y2: 152 };

test("encodes boxes.length x dim finite values, and names its configuration", async () => {
  const encoder = new PixelStatsEncoder({ dim: 64, grid: 3, seed: 2 });
  assert.equal(encoder.name, "pixel-stats(dim=64,grid=3,seed=2)");
  assert.equal(encoder.dim, 64);
  const image = await draw("circle", "red", BOX);
  const boxes = [BOX, { x1: 0, y1: 0, x2: 224, y2: 224 }, { x1: 10.5, y1: 3.2, x2: 11, y2: 4 }];
  const out = await encoder.encode(image, boxes);
  assert.equal(out.length, 3 * 64);
  assert.ok(out.every(Number.isFinite));
  assert.equal((await encoder.encode(image, [])).length, 0);
  await encoder.close();
});

test("the same seed gives the same features, another seed others", async () => {
  const image = await draw("star", "blue", BOX);
  const a = await features(new PixelStatsEncoder({ seed: 5 }), image, BOX);
  const b = await features(new PixelStatsEncoder({ seed: 5 }), image, BOX);
  const c = await features(new PixelStatsEncoder({ seed: 6 }), image, BOX);
  assert.deepEqual(a, b);
  assert.ok(distance(a, c) > 1);
});

test("rejects a dimension or grid that is not a positive integer", () => {
  assert.throws(() => new PixelStatsEncoder({ dim: 0 }), /dim must be a positive integer/);
  assert.throws(() => new PixelStatsEncoder({ grid: 1.5 }), /grid must be a positive integer/);
});

test("objects differing in colour, shape or size lie farther apart than two crops of one", async () => {
  const encoder = new PixelStatsEncoder();
  const redCircle = await draw("circle", "red", BOX);
  const same = distance(
    await features(encoder, redCircle, BOX),
    await features(encoder, redCircle, NEAR),
  );
  const reference = await features(encoder, redCircle, BOX);
  const others: [string, RgbImage, Box][] = [
    ["orange circle", await draw("circle", "orange", BOX), BOX],
    ["blue circle", await draw("circle", "blue", BOX), BOX],
    ["red square", await draw("square", "red", BOX), BOX],
    ["red diamond", await draw("diamond", "red", BOX), BOX],
    ["red star", await draw("star", "red", BOX), BOX],
  ];
  const small: Box = { x1: 80, y1: 90, x2: 112, y2: 122 };
  others.push(["small red circle", await draw("circle", "red", small, "small"), small]);
  for (const [what, image, box] of others) {
    const d = distance(reference, await features(encoder, image, box));
    assert.ok(d > 1.5 * same, `${what}: ${d.toFixed(2)} vs ${same.toFixed(2)} for the same circle`);
  }
});
