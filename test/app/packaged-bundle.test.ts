import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Describer } from "../../src/app/describer.js";
import { BundleCache, loadBundle } from "../../src/app/model-bundle.js";
import { Searcher } from "../../src/app/searcher.js";
import { FUNCTION_WORDS } from "../../src/generate/region-phrases.js";
import { MIN_GROUNDING_CONFIDENCE } from "../../src/mrf/phrase-grounding.js";
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
    const cache = new BundleCache(join(dir, "bundles"));
    const describer = await Describer.load("default", { registry, bundles: cache });
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
      // Every region has a phrase and its confidence; the bundle's threshold shows some of them.
      assert.ok(
        d.regions.every((r) => r.phrase && r.phrase.text.length > 0),
        "a phrase each",
      );
      const shown = d.regions.filter((r) => r.caption).length;
      assert.ok(shown >= 1, `${shown} of 19 regions show a phrase`);
      const { minConfidence } = loadBundle("default", cache).manifest.regionPhrases!;
      for (const r of d.regions) {
        const p = r.phrase!;
        const words = p.text.split(" ");
        assert.ok(!FUNCTION_WORDS.includes(words[words.length - 1]), p.text);
        if (p.shown) assert.ok(p.confidence >= minConfidence, p.text);
        if (p.hidden === "low-confidence") assert.ok(p.confidence < minConfidence, p.text);
      }
      // The caption's noun phrases, each on a region (the bundle has a grounding file): the
      // person phrase on a person box, and the regions carrying a shown phrase listed first.
      const words = d.caption.split(" ");
      assert.ok(d.phrases.length >= 2, JSON.stringify(d.phrases));
      for (const p of d.phrases) {
        assert.equal(p.text, words.slice(p.start, p.end).join(" "));
        if (p.region >= 0) assert.deepEqual(p.box, d.regions[p.region].box);
        assert.equal(p.shown, p.confidence >= MIN_GROUNDING_CONFIDENCE);
      }
      const person = d.phrases.find((p) => /\b(man|woman|girl|boy|child|person)\b/.test(p.text))!;
      assert.equal(d.regions[person.region]?.label, "person", JSON.stringify(person));
      const carrying = d.regions.map(
        (r, i) => r.caption !== undefined || d.phrases.some((p) => p.shown && p.region === i),
      );
      assert.ok(
        carrying.indexOf(false) === -1 || !carrying.slice(carrying.indexOf(false)).includes(true),
      );
    } finally {
      await describer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("search with the packaged bundle grounds the query's noun phrases on each top hit", {
  skip: skipUnlessShared(PHOTO, ...MODELS),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-packaged-search-"));
  const shared = sharedDir()!;
  const registry = new ModelRegistry(join(dir, "models"));
  registry.add("mobilenetv2-12-int8", join(shared, MODELS[0]));
  registry.add("yolox_nano", join(shared, MODELS[1]));
  const searcher = Searcher.open("flickr8k", join(dir, "index"), { registry });
  try {
    const photos = readdirSync(join(shared, "data/flickr8k/originals")).slice(0, 4);
    await searcher.index(photos.map((f) => join(shared, "data/flickr8k/originals", f)));
    const query = "a man in a blue shirt sits on a bench";
    const { hits } = await searcher.search(query, 4, { withPhrases: 4 });
    const words = query.split(" ");
    const nouns = new Set(["a man", "a blue shirt", "a bench"]);
    let grounded = 0;
    for (const hit of hits) {
      for (const p of hit.phrases!) {
        grounded++;
        assert.ok(nouns.has(p.phrase), p.phrase);
        assert.equal(p.phrase, words.slice(p.start, p.end).join(" "));
        assert.ok(p.score >= MIN_GROUNDING_CONFIDENCE, `${p.phrase} ${p.score}`);
      }
    }
    assert.ok(grounded > 0, "some phrase is grounded");
  } finally {
    await searcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
