import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { writeBundle } from "../../src/app/model-bundle.js";
import { DEFAULT_PREPROCESS } from "../../src/vision/model-config.js";
import { writeUntrainedCheckpoints } from "../support/untrained-checkpoints.js";
import { quantizedModel } from "../vision/tiny-models.js";

const describerModule = new URL("../../src/app/describer.js", import.meta.url).href;
let dir: string;
let bundle: string;
let image: string;

// A bundle over a tiny ONNX encoder (3-d codes) with untrained models and 20 regions, so that
// describing runs onnxruntime and the encoder's resampling worker, as a real bundle's does.
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-describer-exit-"));
  const checkpoints = join(dir, "checkpoints");
  mkdirSync(checkpoints);
  const trained = writeUntrainedCheckpoints(checkpoints, 3);
  bundle = join(dir, "bundle");
  writeBundle(bundle, {
    alignment: trained.alignment,
    generator: trained.generator,
    regionGenerator: trained.generator,
    vision: {
      encoder: {
        kind: "encoder",
        model: "tiny.onnx",
        feature: "q",
        dequantize: "auto",
        pool: "mean",
        batchSize: 0,
        preprocess: { ...DEFAULT_PREPROCESS, width: 8, height: 8 },
      },
      encoderModel: "tiny.onnx",
      detector: null,
      regions: 20,
    },
  });
  writeFileSync(join(bundle, "tiny.onnx"), quantizedModel(8));
  image = join(dir, "photo.png");
  await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3a7" } })
    .png()
    .toFile(image);
});

after(() => rmSync(dir, { recursive: true, force: true }));

let scripts = 0;
/**
 * Runs `body` (ES module code, `Describer` in scope) as a script file in a child process with this
 * one's loader flags. A file, not `--input-type=module -e`: that flag would reach the resampling
 * worker too, which then fails to start and leaves nothing to keep the process alive.
 */
function child(body: string) {
  const script = join(dir, `script-${++scripts}.mjs`);
  writeFileSync(
    script,
    `const { Describer } = await import(${JSON.stringify(describerModule)});\n${body}`,
  );
  return spawnSync(process.execPath, [...process.execArgv, script], {
    encoding: "utf8",
    timeout: 30_000,
  });
}

test("a script that describes an image and never calls close() exits when its work is done", () => {
  const r = child(`
    const describer = await Describer.load(${JSON.stringify(bundle)});
    const d = await describer.describe(${JSON.stringify(image)});
    console.log(JSON.stringify({ regions: d.regions.length, caption: typeof d.caption }));
  `);
  assert.equal(r.error, undefined, `the child did not exit within 30 s: ${r.error?.message}`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { regions: 19, caption: "string" });
});

test("the describing itself is not cut short: two images in a row, awaited, both described", () => {
  const r = child(`
    const describer = await Describer.load(${JSON.stringify(bundle)});
    for (const n of [1, 2]) {
      const d = await describer.describe(${JSON.stringify(image)});
      console.log(n, d.regions.length);
    }
  `);
  assert.equal(r.error, undefined, `the child did not exit within 30 s: ${r.error?.message}`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["1 19", "2 19"]);
});
