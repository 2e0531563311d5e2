import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as root from "../src/index.js";
import { packageRoot } from "../src/package-root.js";

const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8"));

test("the package root is the user-facing API, without the research internals", () => {
  for (const name of [
    "Describer",
    "Searcher",
    "writeBundle",
    "loadBundle",
    "BundleCache",
    "loadDataset",
    "readKarpathyDataset",
    "scoreCaptions",
    "bleu",
    "ciderD",
    "meteor",
    "InputError",
  ]) {
    assert.ok(name in root, `${name} is exported`);
  }
  for (const name of [
    "clearTape",
    "give",
    "take",
    "result",
    "Tensor",
    "backward",
    "AlignmentModel",
    "beamSearch",
    "alignChain",
    "generateWorld",
    "worldBetaGrid",
    "ShapeDetector",
    "readOnnxGraph",
  ]) {
    assert.ok(!(name in root), `${name} is not exported from the root`);
  }
  assert.ok(Object.keys(root).length < 60, `${Object.keys(root).length} names at the root`);
});

test("each package.json exports subpath has its types and its module, and holds the internals", async () => {
  const exportsMap = manifest.exports as Record<
    string,
    string | { types: string; default: string }
  >;
  assert.ok(exportsMap["."], "the root is kept");
  const where: Record<string, string> = {
    "./core": "clearTape",
    "./data": "Vocabulary",
    "./vision": "FeatureStore",
    "./align": "AlignmentModel",
    "./mrf": "alignChain",
    "./generate": "beamSearch",
    "./eval": "ciderD",
    "./app": "openVisionModels",
    "./world": "generateWorld",
  };
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (subpath === "./package.json") continue;
    assert.ok(typeof target === "object", subpath);
    const js = target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts");
    assert.equal(target.types, target.default.replace(/\.js$/, ".d.ts"), subpath);
    assert.ok(existsSync(join(packageRoot, js)), `${subpath}: ${js}`);
    if (subpath === ".") continue;
    // The module as this test runs: dist/src/... from dist/test, src/... (through tsx) from test.
    const mod = await import(
      new URL(target.default.replace(/^\.\/dist\//, "../"), import.meta.url).href
    );
    assert.ok(where[subpath], `${subpath} is expected`);
    assert.ok(where[subpath] in mod, `${subpath} exports ${where[subpath]}`);
  }
  assert.deepEqual(
    Object.keys(exportsMap)
      .filter((k) => k !== "." && k !== "./package.json")
      .sort(),
    Object.keys(where).sort(),
  );
});
