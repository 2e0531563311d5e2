import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";
import sharp, { type Color } from "sharp";
import { InputError } from "../../src/errors.js";
import { decodeImage } from "../../src/vision/decode.js";

const solid = (width: number, height: number, background: Color, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background } });

test("decodes grayscale to three equal channels", async () => {
  const png = await solid(4, 3, { r: 100, g: 100, b: 100 }).grayscale().png().toBuffer();
  const img = await decodeImage(png);
  assert.equal(img.data.length, 4 * 3 * 3);
  assert.ok(img.data.every((v) => v === 100));
});

test("reduces 16-bit images to 8 bits", async () => {
  const png = await solid(2, 2, { r: 200, g: 10, b: 30 }).toColourspace("rgb16").png().toBuffer();
  assert.equal((await sharp(png).metadata()).depth, "ushort");
  const img = await decodeImage(png);
  assert.deepEqual(Array.from(img.data.subarray(0, 3)), [200, 10, 30]);
});

test("composites alpha onto white", async () => {
  const png = await solid(2, 1, { r: 0, g: 0, b: 0, alpha: 0 }, 4).png().toBuffer();
  assert.deepEqual(Array.from((await decodeImage(png)).data), [255, 255, 255, 255, 255, 255]);
});

test("converts CMYK to RGB", async () => {
  const jpg = await solid(2, 1, { r: 255, g: 0, b: 0 }).toColourspace("cmyk").jpeg().toBuffer();
  assert.equal((await sharp(jpg).metadata()).space, "cmyk");
  const [r, g, b] = (await decodeImage(jpg)).data;
  assert.ok(r > 200 && g < 40 && b < 40, `red stays red: ${r},${g},${b}`);
});

test("applies EXIF orientation", async () => {
  const jpg = await solid(4, 2, "#f00").jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImage(jpg);
  assert.deepEqual([img.width, img.height], [2, 4]);
});

test("an unreadable file is an InputError naming it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-decode-"));
  const bad = join(dir, "broken.jpg");
  const jpg = await solid(40, 30, "#0f0").jpeg().toBuffer();
  writeFileSync(bad, jpg.subarray(0, 100));
  await assert.rejects(
    decodeImage(bad),
    (e: Error) => e instanceof InputError && e.message.includes(bad),
  );
  await assert.rejects(decodeImage(join(dir, "missing.png")), /missing\.png/);
  await assert.rejects(decodeImage(Buffer.from("not an image"), "bytes.jpg"), /bytes\.jpg/);
});
