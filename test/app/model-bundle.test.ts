import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AlignmentModel } from "../../src/align/model.js";
import { AlignmentFusion } from "../../src/align/score-fusion.js";
import { DEFAULT_REGION_BEAM, type DescribeOptions, Describer } from "../../src/app/describer.js";
import { ImageIndex } from "../../src/app/image-index.js";
import {
  BUNDLE_FILE,
  BundleCache,
  loadBundle,
  type ModelBundle,
  PACKAGED_DEFAULT,
  readBundleManifest,
  writeBundle,
} from "../../src/app/model-bundle.js";
import { regionFeatures } from "../../src/app/region-features.js";
import { Searcher } from "../../src/app/searcher.js";
import { openVisionModels, PIXEL_STATS_SETUP } from "../../src/app/vision-setup.js";
import { modelsCommand } from "../../src/cli/commands/models.js";
import { loadCheckpoint } from "../../src/core/checkpoint.js";
import { InputError } from "../../src/errors.js";
import { rerankCaptions } from "../../src/generate/alignment-rerank.js";
import { beamSearch } from "../../src/generate/decoding.js";
import {
  decodeRegionPhrases,
  type RegionPhraseDecoding,
} from "../../src/generate/region-phrases.js";
import { SnippetConsensus } from "../../src/generate/snippet-consensus.js";
import { DEFAULT_BETA } from "../../src/mrf/phrase-alignment.js";
import { FeatureStore } from "../../src/vision/feature-store.js";
import { type TrainedWorld, trainedWorld } from "./fixtures.js";

let dir: string;
let trained: TrainedWorld;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-bundle-"));
  trained = await trainedWorld(dir, { images: 40 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** `imagesent models bundle create OUT` with the fixture's checkpoints, for the synthetic world. */
function createWorldBundle(out: string, ...extra: string[]) {
  return modelsCommand.run([
    "bundle",
    "create",
    out,
    "--alignment",
    trained.alignment,
    "--generator",
    trained.generator,
    "--encoder",
    "pixel-stats",
    "--detector",
    "world-shapes",
    ...extra,
  ]);
}

test("a written bundle holds float16 checkpoints that score as the originals do", () => {
  const manifest = readBundleManifest(trained.bundleDir);
  assert.equal(manifest.beta, DEFAULT_BETA);
  assert.deepEqual(manifest.vision, PIXEL_STATS_SETUP);
  const stored = loadCheckpoint(join(trained.bundleDir, manifest.alignment));
  assert.ok([...stored.tensors.values()].every((t) => t.dtype === "f16"));
  assert.equal(stored.optimizerState, null);
  assert.ok(
    statSync(join(trained.bundleDir, manifest.alignment)).size <
      0.6 * statSync(trained.alignment).size,
  );

  const original = AlignmentModel.load(trained.alignment).model;
  const bundle = loadBundle(trained.bundleDir);
  const image = trained.world.world.images[0];
  const features = new Float32Array(20 * original.config.featureDim).map((_, i) =>
    Math.sin(i * 0.37),
  );
  const a = original.wordRegionScores(features, image.sentences[0].tokens).scores;
  const b = bundle.alignment.wordRegionScores(features, image.sentences[0].tokens).scores;
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 0.02 * (1 + Math.abs(a[i])));
  assert.ok(bundle.regionGenerator, "the fixture's bundle has a region generator");
});

test("a bundle loads by name from the cache after 'add', and unknown names say how to add one", () => {
  const cache = new BundleCache(join(dir, "cache"));
  assert.deepEqual(cache.list(), []);
  cache.add("world", trained.bundleDir);
  assert.deepEqual(cache.list(), ["world"]);
  const bundle = loadBundle("world", cache);
  assert.equal(bundle.dir, join(dir, "cache", "world"));
  assert.equal(
    bundle.generator.vocabulary.size,
    loadBundle(trained.bundleDir).generator.vocabulary.size,
  );
  assert.throws(
    () => loadBundle("nothere", cache),
    (e: unknown) => e instanceof InputError && /models bundle add nothere DIR/.test(e.message),
  );
  assert.throws(() => loadBundle("./no/such/dir", cache), /bundle folder not found/);
  assert.equal(cache.remove("world"), true);
  assert.deepEqual(cache.list(), []);
});

test("names not in the cache are found among the packaged bundles; 'default' means the packaged default", () => {
  const packagedDir = join(dir, "packaged");
  const cache = new BundleCache(join(dir, "empty-cache"), packagedDir);
  assert.deepEqual(cache.packaged(), []);
  cpSync(trained.bundleDir, join(packagedDir, PACKAGED_DEFAULT), { recursive: true });
  assert.deepEqual(cache.packaged(), [PACKAGED_DEFAULT]);
  assert.equal(loadBundle(PACKAGED_DEFAULT, cache).dir, join(packagedDir, PACKAGED_DEFAULT));
  assert.equal(loadBundle("default", cache).dir, join(packagedDir, PACKAGED_DEFAULT));
  cache.add("default", trained.bundleDir);
  assert.equal(loadBundle("default", cache).dir, join(dir, "empty-cache", "default"));
  assert.throws(
    () => loadBundle("other", cache),
    (e: unknown) =>
      e instanceof InputError &&
      new RegExp(`packaged bundles \\(${PACKAGED_DEFAULT}\\)`).test(e.message),
  );
});

test("'imagesent models bundle create' packs checkpoints with the vision setup named by flags", async () => {
  const out = join(dir, "created");
  const code = await createWorldBundle(out, "--beta", "2", "--description", "a test world");
  assert.equal(code, 0);
  const manifest = readBundleManifest(out);
  assert.deepEqual(manifest.vision, {
    encoder: { kind: "pixel-stats" },
    detector: "world-shapes",
    regions: 20,
  });
  assert.equal(manifest.beta, 2);
  assert.equal(manifest.description, "a test world");
  assert.equal(manifest.regionGenerator, undefined);
  assert.equal(
    loadBundle(out).alignment.config.featureDim,
    loadBundle(trained.bundleDir).alignment.config.featureDim,
  );
  await assert.rejects(
    async () => modelsCommand.run(["bundle", "create", out, "--alignment", trained.alignment]),
    (e: unknown) =>
      e instanceof InputError && /expected DIR, --alignment and --generator/.test(e.message),
  );
  await assert.rejects(
    async () => createWorldBundle(out, "--regions", "30"),
    /--regions: expected an integer from 1 to 20, got "30"/,
  );
});

test("a bundle from a fusion carries every model, and search scores with their weights", async () => {
  // The trained 20-region model and an untrained whole-image one: weights 0.7 and 0.3.
  const main = AlignmentModel.load(trained.alignment).model;
  const whole = new AlignmentModel(
    { ...main.config, regions: 1 },
    main.vocabulary,
    main.normalizer,
    5,
  );
  const wholePath = join(dir, "whole.ckpt");
  whole.save(wholePath);
  const fusion = new AlignmentFusion([
    { model: main, checkpoint: trained.alignment, weight: 0.7 },
    { model: whole, checkpoint: wholePath, weight: 0.3 },
  ]);
  const fusionPath = join(dir, "fused.json");
  fusion.save(fusionPath);
  const out = join(dir, "fused-bundle");
  writeBundle(out, {
    alignment: fusionPath,
    generator: trained.generator,
    vision: PIXEL_STATS_SETUP,
  });
  const manifest = readBundleManifest(out);
  assert.equal(manifest.alignment, "alignment.ckpt");
  assert.deepEqual(manifest.searchFusion, [
    { checkpoint: "alignment.ckpt", weight: 0.7 },
    { checkpoint: "alignment-2.ckpt", weight: 0.3 },
  ]);
  const cache = new BundleCache(join(dir, "fusion-cache"));
  const bundle = loadBundle(cache.add("fused", out));
  assert.equal(bundle.search.members.length, 2);
  assert.equal(bundle.search.members[0].model, bundle.alignment);

  const tests = trained.world.world.images.filter((im) => im.split === "test").slice(0, 4);
  const path = (name: string) => join(trained.world.imagesDir, name);
  const searcher = Searcher.open(bundle, join(dir, "fused-index"));
  await searcher.index(
    tests.map((im) => ({ name: im.filename, image: path(im.filename), regions: im.regions })),
  );
  const tokens = tests[0].sentences[0].tokens;
  const { hits } = await searcher.search(tokens.join(" "), tests.length, { withPhrases: 0 });
  await searcher.close();
  const index = await ImageIndex.open(join(dir, "fused-index"));
  const stored = [];
  for await (const batch of index.scanFeatures()) stored.push(...batch);
  await index.close();
  const raw = new Float32Array(stored.flatMap((im) => Array.from(im.features)));
  const expected = fusion.scores(raw, stored.length, [tokens]);
  for (const hit of hits) {
    const k = stored.findIndex((im) => im.key === hit.image);
    // The bundle's weights are float16: scores agree to about 1%.
    assert.ok(Math.abs(hit.score - expected[k]) < 0.02 * (1 + Math.abs(expected[k])), hit.image);
  }

  const json = JSON.parse(readFileSync(join(out, BUNDLE_FILE), "utf8"));
  const bad = (searchFusion: unknown, pattern: RegExp) => {
    writeFileSync(join(out, BUNDLE_FILE), JSON.stringify({ ...json, searchFusion }));
    assert.throws(
      () => loadBundle(out),
      (e: unknown) => e instanceof InputError && pattern.test(e.message),
      String(pattern),
    );
  };
  bad([], /searchFusion: expected a non-empty list/);
  bad(
    [{ checkpoint: "alignment-2.ckpt", weight: 1 }],
    /searchFusion\[0\]\.checkpoint: expected "alignment.ckpt"/,
  );
  bad(
    [{ checkpoint: "alignment.ckpt", weight: "x" }],
    /searchFusion\[0\]\.weight: expected a finite number/,
  );
});

test("a bundle with a generator ensemble captions with all of them; the same model twice is the model", async () => {
  const out = join(dir, "ensemble-bundle");
  const code = await createWorldBundle(out, "--generator-ensemble", trained.generator);
  assert.equal(code, 0);
  assert.deepEqual(readBundleManifest(out).generatorEnsemble, ["generator-2.ckpt"]);
  const cache = new BundleCache(join(dir, "ensemble-cache"));
  const bundle = loadBundle(cache.add("ensemble", out));
  assert.equal(bundle.generatorEnsemble.length, 1);
  const image = join(trained.world.imagesDir, trained.world.world.images[0].filename);
  const alone = await Describer.load(trained.bundleDir);
  const together = await Describer.load(bundle);
  try {
    const a = await alone.describe(image);
    const b = await together.describe(image);
    assert.ok(a.caption.length > 0);
    assert.equal(b.caption, a.caption);
  } finally {
    await alone.close();
    await together.close();
  }
});

test("a bundle with captionRerank: describe takes the beam's caption the search models score best", async () => {
  const out = join(dir, "rerank-bundle");
  assert.equal(await createWorldBundle(out, "--rerank-weight", "1000", "--rerank-beam", "4"), 0);
  const bundle = loadBundle(out);
  assert.deepEqual(bundle.manifest.captionRerank, { weight: 1000, beam: 4 });
  // The expected captions, worked out from the parts: the generator's beam of 4, each caption
  // scored by the bundle's alignment model against the image's 20 regions.
  const vision = await openVisionModels(bundle.manifest.vision, { baseDir: out });
  const g = bundle.generator;
  const dim = g.model.config.featureDim;
  const expected = async (image: string) => {
    const r = await regionFeatures(vision, image);
    const beam = beamSearch(g.model.stepper(g.normalizer.apply(r.features.subarray(0, dim))), {
      beam: 4,
      lengthNormalization: 0.7,
    });
    const S = bundle.search.scoreEmbedded(
      bundle.search.embedImages(r.features, 1, r.features.length / dim),
      1,
      beam.map((c) => g.vocabulary.decode(c.words)),
    );
    const words = (c: { words: number[] }) => g.vocabulary.decode(c.words).join(" ");
    return { plain: words(beam[0]), reranked: words(rerankCaptions(beam, S, 1000, 0.7)[0]) };
  };
  const reranked = await Describer.load(bundle);
  const off = await Describer.load(bundle, { rerankWeight: 0, beam: 4 });
  let changed = 0;
  try {
    for (const entry of trained.world.world.images.slice(0, 6)) {
      const image = join(trained.world.imagesDir, entry.filename);
      const want = await expected(image);
      if (want.reranked !== want.plain) changed++;
      assert.equal((await reranked.describe(image)).caption, want.reranked);
      assert.equal((await off.describe(image)).caption, want.plain);
    }
  } finally {
    await vision.encoder.close();
    await reranked.close();
    await off.close();
  }
  assert.ok(changed > 0, "reranking changes some of the captions");
  await assert.rejects(
    async () => createWorldBundle(join(dir, "rerank-bad"), "--rerank-beam", "4"),
    /--rerank-beam: applies only with --rerank-weight/,
  );
});

/**
 * Describes four world images with `bundle` as loaded and with `off` (its region ranking turned
 * off), checking each region's phrase against decodeRegionPhrases with `decoding(true)` and
 * `decoding(false)`; returns how many regions the ranking changed.
 */
async function describedAsDecoded(
  bundle: ModelBundle,
  dir: string,
  off: DescribeOptions,
  decoding: (on: boolean) => RegionPhraseDecoding,
): Promise<number> {
  const g = bundle.regionGenerator!;
  const dim = g.model.config.featureDim;
  const vision = await openVisionModels(bundle.manifest.vision, { baseDir: dir });
  const phrases = (features: Float32Array, on: boolean) =>
    decodeRegionPhrases(g, features.subarray(dim), decoding(on)).map((p) => p?.words.join(" "));
  const ranked = await Describer.load(bundle);
  const plain = await Describer.load(bundle, off);
  let changed = 0;
  try {
    for (const entry of trained.world.world.images.slice(0, 4)) {
      const image = join(trained.world.imagesDir, entry.filename);
      const { features } = await regionFeatures(vision, image);
      const want = { ranked: phrases(features, true), plain: phrases(features, false) };
      changed += want.ranked.filter((p, i) => p !== want.plain[i]).length;
      const said = async (d: Describer) =>
        (await d.describe(image)).regions.map((r) => r.phrase?.text);
      assert.deepEqual(await said(ranked), want.ranked);
      assert.deepEqual(await said(plain), want.plain);
    }
  } finally {
    await vision.encoder.close();
    await ranked.close();
    await plain.close();
  }
  return changed;
}

test("a bundle with regionRerank: describe reranks each region's phrase beam on that region", async () => {
  const out = join(dir, "region-rerank-bundle");
  const args = ["--region-generator", trained.generator, "--region-rerank-weight", "1000"];
  assert.equal(await createWorldBundle(out, ...args, "--region-rerank-beam", "4"), 0);
  const bundle = loadBundle(out);
  assert.deepEqual(bundle.manifest.regionRerank, { weight: 1000, beam: 4 });
  const changed = await describedAsDecoded(bundle, out, { regionRerankWeight: 0 }, (on) => ({
    beam: on ? 4 : DEFAULT_REGION_BEAM,
    ...(on ? { rerank: { scorer: bundle.search, weight: 1000 } } : {}),
  }));
  assert.ok(changed > 0, "reranking changes some of the phrases");
  await assert.rejects(
    async () => createWorldBundle(join(dir, "region-rerank-bad"), "--region-rerank-beam", "4"),
    /--region-rerank-beam: applies only with --region-rerank-weight/,
  );
});

test("a bundle with regionConsensus: describe ranks each region's beam by its snippets' consensus", async () => {
  // A consensus of the world's train images: each image's regions said to be its first
  // sentence's first three words.
  const store = FeatureStore.open(join(dir, "features"));
  const train = trained.world.world.images.filter((im) => im.split === "train");
  const dim = store.meta.dim;
  const rows = train.flatMap((im) => {
    const stored = store.get(im.filename)!;
    return [1, 2].map((r) => ({ im, code: stored.features.subarray(r * dim, (r + 1) * dim) }));
  });
  const consensus = SnippetConsensus.fit(
    {
      targets: rows.map(({ im }, i) => ({
        key: `${im.filename}#${i}`,
        filename: im.filename,
        region: 1,
        references: [im.sentences[0].tokens.slice(0, 3)],
      })),
      features: Float32Array.from(rows.flatMap(({ code }) => [...code])),
      sentences: [],
    },
    dim,
    4,
  );
  const file = join(dir, "world-consensus.ckpt");
  consensus.save(file);
  const out = join(dir, "region-consensus-bundle");
  const args = ["--region-generator", trained.generator, "--region-consensus", file];
  const weight = ["--region-consensus-weight", "1000", "--region-consensus-neighbours", "3"];
  assert.equal(await createWorldBundle(out, ...args, ...weight), 0);
  const bundle = loadBundle(out);
  assert.deepEqual(bundle.manifest.regionConsensus, {
    file: "region-consensus.ckpt",
    weight: 1000,
    neighbours: 3,
  });
  assert.deepEqual(bundle.regionConsensus!.snippets, consensus.snippets);
  const consensusOf = { consensus: bundle.regionConsensus!, weight: 1000, neighbours: 3 };
  const changed = await describedAsDecoded(bundle, out, { regionConsensusWeight: 0 }, (on) => ({
    beam: DEFAULT_REGION_BEAM,
    ...(on ? { consensus: consensusOf } : {}),
  }));
  assert.ok(changed > 0, "the consensus changes some of the phrases");
  await assert.rejects(
    async () => createWorldBundle(join(dir, "consensus-bad"), "--region-consensus-weight", "1"),
    /--region-consensus-weight and --region-consensus-neighbours apply only with --region-consensus FILE/,
  );
  await assert.rejects(
    async () =>
      createWorldBundle(join(dir, "consensus-bad"), "--region-consensus", trained.generator),
    /not a snippet consensus file/,
  );
  await assert.rejects(
    async () => Describer.load(trained.bundleDir, { regionConsensusWeight: 1 }),
    /regionConsensusWeight: the bundle has no snippet consensus/,
  );
});

test("a bad bundle.json is refused with the file and the field named", () => {
  const bad = join(dir, "bad");
  const manifest = JSON.parse(readFileSync(join(trained.bundleDir, BUNDLE_FILE), "utf8"));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...manifest, version: 2 }, /bundle\.json: version: this build reads version 1/],
    [{ ...manifest, beta: "high" }, /bundle\.json: beta: expected a number >= 0/],
    [{ ...manifest, generator: undefined }, /bundle\.json: generator: expected a checkpoint/],
    [
      { ...manifest, generatorEnsemble: "generator.ckpt" },
      /bundle\.json: generatorEnsemble: expected a list of checkpoint file names/,
    ],
    [
      { ...manifest, captionRerank: { weight: -1, beam: 7 } },
      /bundle\.json: captionRerank\.weight: expected a number >= 0, got -1/,
    ],
    [
      { ...manifest, captionRerank: { weight: 0.25, beam: 1.5 } },
      /bundle\.json: captionRerank\.beam: expected an integer from 2 to 100, got 1\.5/,
    ],
    [
      { ...manifest, captionRerank: 0.25 },
      /bundle\.json: captionRerank: expected an object \{"weight": W, "beam": N\}/,
    ],
    [
      { ...manifest, regionRerank: { weight: 0.15, beam: 0 } },
      /bundle\.json: regionRerank\.beam: expected an integer from 2 to 100, got 0/,
    ],
    [
      { ...manifest, regionConsensus: { file: "c.ckpt", weight: 0.6, neighbours: 0 } },
      /bundle\.json: regionConsensus\.neighbours: expected an integer from 1 to 200, got 0/,
    ],
    [
      { ...manifest, regionConsensus: { file: "../c.ckpt", weight: 0.6, neighbours: 10 } },
      /bundle\.json: regionConsensus\.file/,
    ],
    [
      { ...manifest, vision: { ...manifest.vision, regions: 30 } },
      /bundle\.json: vision\.regions: expected an integer from 1 to 20/,
    ],
    [
      { ...manifest, vision: { ...manifest.vision, detector: 5 } },
      /bundle\.json: vision\.detector: expected a preset name/,
    ],
  ];
  for (const [json, pattern] of cases) {
    rmSync(bad, { recursive: true, force: true });
    writeBundle(bad, {
      alignment: trained.alignment,
      generator: trained.generator,
      vision: PIXEL_STATS_SETUP,
    });
    writeFileSync(join(bad, BUNDLE_FILE), JSON.stringify(json));
    assert.throws(
      () => loadBundle(bad),
      (e: unknown) => e instanceof InputError && pattern.test(e.message),
      String(pattern),
    );
  }
});

test("writeBundle refuses a generator checkpoint given as the alignment model", () => {
  assert.throws(
    () =>
      writeBundle(join(dir, "swapped"), {
        alignment: trained.generator,
        generator: trained.generator,
        vision: PIXEL_STATS_SETUP,
      }),
    (e: unknown) => e instanceof InputError && /not an alignment model/.test(e.message),
  );
});
