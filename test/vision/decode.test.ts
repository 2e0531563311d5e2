import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import sharp, { type Color } from "sharp";
import { InputError } from "../../src/errors.js";
import { checkPixelLimit, decodeImage, TooManyPixelsError } from "../../src/vision/decode.js";

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
  after(() => rmSync(dir, { recursive: true, force: true }));
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

test("maxPixels refuses an image of more pixels, by its header, before decoding it", async () => {
  const png = await solid(300, 200, "#00f").png().toBuffer();
  await assert.rejects(
    decodeImage(png, "wide.png", { maxPixels: 50_000 }),
    (e: Error) =>
      e instanceof TooManyPixelsError &&
      e instanceof InputError &&
      e.message === "wide.png is 300 x 200 pixels (0.06 megapixels); the limit is 0.05 megapixels",
  );
  assert.equal((await decodeImage(png, "wide.png", { maxPixels: 60_000 })).width, 300);
  const dir = mkdtempSync(join(tmpdir(), "imagesent-decode-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "wide.png");
  writeFileSync(file, png);
  await assert.rejects(decodeImage(file, undefined, { maxPixels: 1_000 }), (e: Error) =>
    e.message.startsWith(`${file} is 300 x 200 pixels`),
  );
  // Without the option, the image decodes as before.
  assert.equal((await decodeImage(file)).height, 200);
});

test("checkPixelLimit reads only the header: a 10000 x 10000 PNG is refused at once", async () => {
  // Grayscale compresses a single colour to a few hundred KB; decoding it would take 300 MB.
  const png = await solid(10_000, 10_000, "#777")
    .toColourspace("b-w")
    .png({ compressionLevel: 9 })
    .toBuffer();
  const rss = process.memoryUsage().rss;
  const start = performance.now();
  await assert.rejects(
    checkPixelLimit(png, 40_000_000, "big.png"),
    /^TooManyPixelsError: big\.png is 10000 x 10000 pixels \(100 megapixels\); the limit is 40 megapixels$/,
  );
  assert.ok(performance.now() - start < 1_000);
  assert.ok(process.memoryUsage().rss - rss < 100_000_000);
  await assert.rejects(
    checkPixelLimit(Buffer.from("not an image"), 10, "x.png"),
    (e: Error) => e instanceof InputError && /^x\.png: cannot decode image/.test(e.message),
  );
});
