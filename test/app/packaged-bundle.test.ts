import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Describer } from "../../src/app/describer.js";
import { BundleCache } from "../../src/app/model-bundle.js";
import { ModelRegistry } from "../../src/vision/model-registry.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

const PHOTO = "data/flickr8k/originals/1000268201_693b08cb0e.jpg";
const MODELS = ["models/mobilenetv2-12-int8.onnx", "models/yolox_nano.onnx"];

test("the packaged flickr8k bundle describes a Flickr8k photo: a person among the regions, a caption about people", {
  skip: skipUnlessShared(PHOTO, ...MODELS),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-packaged-"));
  try {
    const shared = sharedDir()!;
    const registry = new ModelRegistry(join(dir, "models"));
    registry.add("mobilenetv2-12-int8", join(shared, MODELS[0]));
    registry.add("yolox_nano", join(shared, MODELS[1]));
    // An empty cache: 'default' falls back to the packaged bundle.
    const describer = await Describer.load("default", {
      registry,
      bundles: new BundleCache(join(dir, "bundles")),
    });
    try {
      // "A child in a pink dress is climbing up a set of stairs in an entry way ."
      const d = await describer.describe(join(shared, PHOTO));
      assert.equal(d.width, 375);
      assert.equal(d.height, 500);
      assert.equal(d.regions.length, 19);
      assert.ok(
        d.regions.some((r) => r.source === "detection" && r.label === "person"),
        JSON.stringify(d.regions.map((r) => r.label ?? r.source)),
      );
      assert.match(d.caption, /\b(man|woman|girl|boy|child|people|person)\b/, d.caption);
      const phrased = d.regions.filter((r) => (r.caption ?? "").length > 0).length;
      assert.ok(phrased >= 10, `${phrased} of 19 regions have a phrase`);
    } finally {
      await describer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
