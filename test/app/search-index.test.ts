import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as lancedb from "@lancedb/lancedb";
import { AlignmentFusion } from "../../src/align/score-fusion.js";
import {
  DEFAULT_FINE_SKETCH_DIMS,
  DEFAULT_SUMMARY_CLUSTERS,
  DEFAULT_SUMMARY_DIMS,
  ImageIndex,
} from "../../src/app/image-index.js";
import { loadBundle, type ModelBundle } from "../../src/app/model-bundle.js";
import { RegionEmbedder } from "../../src/app/region-vectors.js";
import { calibrateSearch, writeCalibration } from "../../src/app/search-calibration.js";
import { Searcher, type SearcherOptions } from "../../src/app/searcher.js";
import { CorruptFileError, InputError } from "../../src/errors.js";
import { FeatureStore } from "../../src/vision/feature-store.js";
import type { WorldImage } from "../../src/world/world-file.js";
import {
  type TrainedWorld,
  trainedWorld,
  withoutClusterSummaries,
  withoutFineSketches,
} from "./fixtures.js";

let dir: string;
let trained: TrainedWorld;
let bundle: ModelBundle;
let tests: WorldImage[];
const path = (im: WorldImage) => join(trained.world.imagesDir, im.filename);
const sentence = (im: WorldImage, i = 0) => im.sentences[i].tokens.join(" ");
/** Every test forces the ANN stage; small indexes are otherwise scored exactly throughout. */
const ann = { exactBelow: 0 };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-search-index-"));
  trained = await trainedWorld(dir, { images: 200, alignEpochs: 6 });
  bundle = loadBundle(trained.bundleDir);
  tests = trained.world.world.images.filter((im) => im.split === "test");
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A new index of `images` (by file, with the world's boxes as regions) under `name`. */
async function indexOf(
  name: string,
  images: readonly WorldImage[],
  b: ModelBundle = bundle,
  options: SearcherOptions = {},
) {
  const indexDir = join(dir, name);
  const searcher = Searcher.open(b, indexDir, options);
  const result = await searcher.index(
    images.map((im) => ({ name: path(im), image: path(im), regions: im.regions })),
  );
  assert.equal(result.added, images.length);
  return { indexDir, searcher };
}

/** The fused S_kl of every indexed image for a sentence, from the index's stored CNN codes. */
async function exactScores(indexDir: string, s: string): Promise<Map<string, number>> {
  const index = await ImageIndex.open(indexDir);
  const scores = new Map<string, number>();
  for await (const batch of index.scanFeatures()) {
    const features = new Float32Array(batch.length * batch[0].features.length);
    batch.forEach((im, k) => {
      features.set(im.features, k * im.features.length);
    });
    const S = bundle.search.scores(features, batch.length, [s.split(" ")]);
    batch.forEach((im, k) => {
      scores.set(im.key, S[k]);
    });
  }
  await index.close();
  return scores;
}

test("the candidate stages and the exact S_kl of the candidates rank as exact S_kl over all images does", async () => {
  const { indexDir, searcher } = await indexOf("ranking", tests);
  try {
    for (const im of tests.slice(0, 5)) {
      const exact = await exactScores(indexDir, sentence(im));
      const order = [...exact].sort((a, b) => b[1] - a[1]);
      const { hits } = await searcher.search(sentence(im), 10, { ...ann, withPhrases: 0 });
      assert.equal(hits.length, 10);
      assert.equal(hits[0].image, order[0][0], `top hit for "${sentence(im)}"`);
      assert.deepEqual(
        new Set(hits.map((h) => h.image)),
        new Set(order.slice(0, 10).map(([k]) => k)),
      );
      for (const h of hits) {
        const want = exact.get(h.image)!;
        assert.ok(
          Math.abs(h.score - want) <= 0.01 * Math.abs(want) + 1e-3,
          `${h.score} vs ${want}`,
        );
      }
      // With few candidates the approximate stage alone decides who is looked at: still the top.
      const few = await searcher.search(sentence(im), 3, { ...ann, candidates: 5, withPhrases: 0 });
      assert.equal(few.hits[0].image, order[0][0]);
      // So too when the fine sketches of the sketch stage's best 8 decide which 3 are scored
      // exactly.
      const fine = await searcher.search(sentence(im), 3, {
        ...ann,
        candidates: 3,
        refine: 8,
        withPhrases: 0,
      });
      assert.equal(fine.hits[0].image, order[0][0]);
      // Through the summaries (the path of indexes past scanBelow): a shortlist of every image,
      // by count or as a share of 1 of the index, is the scan; a shorter one still gives exact
      // scores to what it finds.
      for (const whole of [
        { shortlist: tests.length },
        { shortlist: 1, shortlistShare: 1 },
        { shortlist: tests.length, sketched: tests.length },
      ]) {
        const listed = await searcher.search(sentence(im), 10, {
          ...ann,
          scanBelow: 0,
          ...whole,
          withPhrases: 0,
        });
        assert.deepEqual(
          listed.hits.map((h) => h.image),
          hits.map((h) => h.image),
          JSON.stringify(whole),
        );
      }
      // The cluster summaries choose which few of the shortlist's sketches are scored.
      const clustered = await searcher.search(sentence(im), 1, {
        ...ann,
        scanBelow: 0,
        shortlist: tests.length,
        sketched: 6,
        sketchedShare: 0,
        refine: 6,
        candidates: 1,
        withPhrases: 0,
      });
      assert.equal(clustered.hits[0].image, order[0][0]);
      const short = await searcher.search(sentence(im), 10, {
        ...ann,
        scanBelow: 0,
        shortlist: 20,
        candidates: 20,
        withPhrases: 0,
      });
      assert.equal(short.hits.length, 10);
      for (const h of short.hits) {
        const want = exact.get(h.image)!;
        assert.ok(Math.abs(h.score - want) <= 0.01 * Math.abs(want) + 1e-3, `${h.image}`);
      }
      // Exact throughout (the default for small indexes) agrees.
      const flat = await searcher.search(sentence(im), 10, { withPhrases: 0 });
      assert.deepEqual(
        flat.hits.map((h) => h.image),
        hits.map((h) => h.image),
      );
    }
  } finally {
    await searcher.close();
  }
});

test("re-indexing skips unchanged files, embeds changed ones again, and removes on request", async () => {
  const images = tests.slice(0, 6);
  const files = images.map((im) => join(dir, `copy-${im.filename}`));
  images.forEach((im, i) => {
    cpSync(path(im), files[i]);
  });
  const indexDir = join(dir, "incremental");
  const searcher = Searcher.open(bundle, indexDir);
  try {
    assert.deepEqual(await searcher.index(files), {
      added: 6,
      reindexed: 0,
      skipped: 0,
      failures: [],
    });
    assert.deepEqual(await searcher.index(files), {
      added: 0,
      reindexed: 0,
      skipped: 6,
      failures: [],
    });
    // Another image's bytes under the first file's name, with a new mtime: embedded again.
    writeFileSync(files[0], readFileSync(files[1]));
    utimesSync(files[0], new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await searcher.index(files), {
      added: 0,
      reindexed: 1,
      skipped: 5,
      failures: [],
    });
    assert.equal(await searcher.size(), 6);
    const similar = await searcher.similar(files[1], 1);
    assert.equal(similar[0].image, files[0], "the re-indexed file now holds the other's image");
    assert.ok(similar[0].score > 0.999, `score ${similar[0].score}`);
    rmSync(files[2]);
    assert.deepEqual(await searcher.missingFiles(dir), [files[2]]);
    assert.equal(await searcher.remove([files[2], "not-indexed"]), 1);
    assert.equal(await searcher.size(), 5);
    const { hits } = await searcher.search(sentence(images[2]), 10, ann);
    assert.ok(!hits.some((h) => h.image === files[2]));
  } finally {
    await searcher.close();
  }
});

/** Rebuilds the index of `searcher`, of `count` images; a search then finds every one. */
async function rebuiltHits(searcher: Searcher, query: string, count: number) {
  assert.deepEqual(await searcher.rebuild(), { images: count });
  const { hits } = await searcher.search(query, count, { ...ann, withPhrases: 0 });
  assert.equal(hits.length, count);
  return hits;
}

test("an index of another bundle is refused; --rebuild re-embeds it for the new one", async () => {
  const images = tests.slice(0, 8);
  const { indexDir, searcher } = await indexOf("other-bundle", images);
  const first = await searcher.search(sentence(images[0]), 8, ann);
  await searcher.close();
  const reweighted: ModelBundle = {
    ...bundle,
    search: new AlignmentFusion([{ model: bundle.alignment, checkpoint: "x", weight: 0.5 }]),
  };
  const other = Searcher.open(reweighted, indexDir);
  try {
    await assert.rejects(
      other.search(sentence(images[0]), 3),
      (e: unknown) =>
        e instanceof InputError &&
        /built with another bundle/.test(e.message) &&
        /imagesent index --rebuild --out/.test(e.message),
    );
    await assert.rejects(other.index([path(images[0])]), /built with another bundle/);
    const hits = await rebuiltHits(other, sentence(images[0]), 8);
    // Half the weight, half the score: the vectors were embedded again from the stored codes.
    for (const h of hits) {
      const was = first.hits.find((f) => f.image === h.image)!.score;
      assert.ok(Math.abs(h.score - was / 2) <= 0.01 * Math.abs(was), `${h.score} vs ${was} / 2`);
    }
    await assert.rejects(
      Searcher.open(bundle, indexDir).search(sentence(images[0]), 3),
      /built with another bundle/,
    );
  } finally {
    await other.close();
  }
});

/**
 * The index in `indexDir`, of an older format (`format` names it), is refused with the command
 * that converts it; rebuilt, it ranks the first image's sentence as `fresh`, the same images
 * indexed anew, does. Returns both answers.
 */
async function assertConverted(
  indexDir: string,
  fresh: Searcher,
  images: typeof tests,
  format: RegExp,
  options: { readonly exactBelow?: number } = {},
) {
  const searcher = Searcher.open(bundle, indexDir);
  try {
    await assert.rejects(
      searcher.search(sentence(images[0]), 3),
      (e: unknown) =>
        e instanceof InputError &&
        e.message.includes(`imagesent index --rebuild --out ${indexDir}`) &&
        format.test(e.message),
    );
    assert.deepEqual(await searcher.rebuild(), { images: images.length });
    const query = { withPhrases: 0, ...options };
    const a = await searcher.search(sentence(images[0]), images.length, query);
    const b = await fresh.search(sentence(images[0]), images.length, query);
    assert.deepEqual(
      a.hits.map((h) => h.image),
      b.hits.map((h) => h.image),
    );
    return [a, b] as const;
  } finally {
    await searcher.close();
  }
}

test("an index of the first format is refused with the command that converts it, which does", async () => {
  const images = tests.slice(0, 5);
  const indexDir = join(dir, "legacy");
  const fresh = await indexOf("legacy-source", images);
  await fresh.searcher.close();
  const source = await ImageIndex.open(fresh.indexDir);
  const store = FeatureStore.openForWriting(join(indexDir, "features"), {
    encoder: source.manifest.vision.encoder,
    dim: source.manifest.vision.dim,
    regionsPerImage: source.manifest.vision.regionsPerImage,
    detector: source.manifest.vision.detector,
  });
  for await (const batch of source.scanFeatures()) {
    store.append(
      batch.map((im) => ({
        filename: im.key,
        id: -1,
        width: im.width,
        height: im.height,
        regions: im.regions,
        features: im.features,
      })),
    );
  }
  await source.close();
  store.close();
  writeFileSync(join(indexDir, "index.json"), '{"format": "imagesent-index", "version": 1}\n');
  const [a, b] = await assertConverted(indexDir, fresh.searcher, images, /first format/);
  // Scores as close as float16 codes re-embedded allow.
  a.hits.forEach((h, i) => {
    assert.ok(Math.abs(h.score - b.hits[i].score) < 1e-3 * Math.abs(h.score) + 1e-3);
  });
});

test("an index of the second format (vectors in images.lance) is refused with the command that converts it, which does", async () => {
  const images = tests.slice(0, 6);
  const fresh = await indexOf("second-format-source", images);
  await fresh.searcher.close();
  const indexDir = join(dir, "second-format");
  cpSync(fresh.indexDir, indexDir, { recursive: true });
  // What version 2 lacked: the record files and the sketch spaces.
  for (const f of ["vectors.bin", "sketch.bin", "sketch-projection.bin"]) {
    rmSync(join(indexDir, f));
  }
  const manifest = JSON.parse(readFileSync(join(indexDir, "index.json"), "utf8"));
  delete manifest.sketchDims;
  writeFileSync(join(indexDir, "index.json"), JSON.stringify({ ...manifest, version: 2 }));
  await assertConverted(indexDir, fresh.searcher, images, /second format/, ann);
});

test("an index written before summary.bin is searched by its sketches; its next writer writes it and drops the old ANN table", async () => {
  const images = tests.slice(0, 8);
  const fresh = await indexOf("summary-source", images);
  const want = await fresh.searcher.search(sentence(images[0]), 5, { ...ann, withPhrases: 0 });
  await fresh.searcher.close();
  const indexDir = join(dir, "before-summaries");
  cpSync(fresh.indexDir, indexDir, { recursive: true });
  // Written before the cluster summaries too.
  withoutClusterSummaries(indexDir);
  rmSync(join(indexDir, "summary.bin"));
  const manifest = JSON.parse(readFileSync(join(indexDir, "index.json"), "utf8"));
  delete manifest.summaryDims;
  writeFileSync(
    join(indexDir, "index.json"),
    JSON.stringify({ ...manifest, annDims: 128, annIndexedRows: 0 }),
  );
  writeFileSync(join(indexDir, "projection.bin"), "old");
  const db = await lancedb.connect(join(indexDir, "db"));
  await db.createTable("regions", [{ image: 0, region: 0 }]);
  db.close();
  const old = Searcher.open(bundle, indexDir);
  try {
    const got = await old.search(sentence(images[0]), 5, { ...ann, scanBelow: 0, withPhrases: 0 });
    assert.deepEqual(got.hits, want.hits);
    assert.deepEqual(await old.index([{ name: path(images[0]), image: path(images[0]) }]), {
      added: 0,
      reindexed: 0,
      skipped: 1,
      failures: [],
    });
  } finally {
    await old.close();
  }
  for (const file of ["summary.bin", "cluster-summary.bin"]) {
    assert.deepEqual(readFileSync(join(indexDir, file)), readFileSync(join(fresh.indexDir, file)));
  }
  const upgraded = JSON.parse(readFileSync(join(indexDir, "index.json"), "utf8"));
  assert.equal(upgraded.summaryDims, DEFAULT_SUMMARY_DIMS);
  assert.equal(upgraded.summaryClusters, DEFAULT_SUMMARY_CLUSTERS);
  assert.ok(!existsSync(join(indexDir, "projection.bin")));
  const after = await lancedb.connect(join(indexDir, "db"));
  assert.deepEqual(await after.tableNames(), ["images"]);
  after.close();
});

test("an index written before cluster-summary.bin is searched without it; its next writer writes it from sketch.bin", async () => {
  const images = tests.slice(0, 8);
  const fresh = await indexOf("cluster-source", images);
  const options = { ...ann, scanBelow: 0, shortlist: 8, sketched: 4, refine: 4, withPhrases: 0 };
  const want = await fresh.searcher.search(sentence(images[0]), 1, options);
  await fresh.searcher.close();
  const indexDir = join(dir, "before-cluster-summaries");
  cpSync(fresh.indexDir, indexDir, { recursive: true });
  withoutClusterSummaries(indexDir);
  const old = Searcher.open(bundle, indexDir);
  const upgrades: string[] = [];
  try {
    const got = await old.search(sentence(images[0]), 1, options);
    assert.equal(got.hits[0].image, want.hits[0].image);
    await old.index([{ name: path(images[0]), image: path(images[0]) }], {
      onUpgrade: (what, n, total) => upgrades.push(`${what} ${n}/${total}`),
    });
    assert.deepEqual((await old.search(sentence(images[0]), 1, options)).hits, want.hits);
  } finally {
    await old.close();
  }
  assert.deepEqual(upgrades, ["cluster summaries 8/8"]);
  assert.deepEqual(
    readFileSync(join(indexDir, "cluster-summary.bin")),
    readFileSync(join(fresh.indexDir, "cluster-summary.bin")),
  );
});

test("an index written before fine-sketch.bin is searched without it; its next writer writes it from vectors.bin", async () => {
  const images = tests.slice(0, 10);
  // int8, as every index written before fine sketches was (int8-residual needs them).
  const fresh = await indexOf("fine-source", images, bundle, { codec: "int8" });
  // A hole (a removed image) among the records that the fine sketches are written from.
  assert.equal(await fresh.searcher.remove([path(images[1])]), 1);
  const options = { ...ann, candidates: 3, refine: 5, withPhrases: 0 };
  const want = await fresh.searcher.search(sentence(images[0]), 3, options);
  await fresh.searcher.close();
  const indexDir = join(dir, "before-fine-sketches");
  cpSync(fresh.indexDir, indexDir, { recursive: true });
  withoutFineSketches(indexDir);
  const before = await ImageIndex.open(indexDir);
  assert.equal(before.hasFineSketches, false);
  await before.close();
  const old = Searcher.open(bundle, indexDir);
  try {
    const got = await old.search(sentence(images[0]), 3, options);
    assert.equal(got.hits[0].image, want.hits[0].image);
    await old.index([{ name: path(images[0]), image: path(images[0]) }]);
    // The fine sketches written from the stored vectors score as the fresh index's do.
    assert.deepEqual((await old.search(sentence(images[0]), 3, options)).hits, want.hits);
  } finally {
    await old.close();
  }
  const upgraded = JSON.parse(readFileSync(join(indexDir, "index.json"), "utf8"));
  assert.equal(upgraded.fineSketchDims, DEFAULT_FINE_SKETCH_DIMS);
  // Full length here (the test models' vectors are shorter than the fine sketches): their
  // scores are the exact S_kl up to int8 rounding.
  const exact = await exactScores(indexDir, sentence(images[0]));
  const index = await ImageIndex.open(indexDir);
  try {
    assert.equal(index.hasFineSketches, true);
    const embedder = new RegionEmbedder(bundle.search, index.manifest.vision.regionsPerImage);
    const { queries } = embedder.words(sentence(images[0]).split(" "));
    const weights = embedder.members.map((m) => m.weight);
    const fine = index.approximate(queries, weights, false, { refine: images.length });
    const keys = await index.imagesOf(Array.from(fine.ids));
    assert.equal(keys.length, images.length - 1);
    assert.ok(!keys.some((im) => im.key === path(images[1])));
    keys.forEach((im, k) => {
      const w = exact.get(im.key)!;
      assert.ok(
        Math.abs(fine.scores[k] - w) <= 0.02 * Math.abs(w) + 1e-2,
        `${fine.scores[k]} vs ${w}`,
      );
    });
  } finally {
    await index.close();
  }
});

test("an index whose record files are gone or cut short is refused naming the file and --rebuild, which writes them again", async () => {
  const images = tests.slice(0, 4);
  const damages: [string, (file: string) => void][] = [
    ["vectors.bin", (file) => rmSync(file)],
    ["fine-sketch-projection.bin", (file) => rmSync(file)],
    ["fine-sketch.bin", (file) => writeFileSync(file, readFileSync(file).subarray(0, 100))],
    ["cluster-summary.bin", (file) => writeFileSync(file, readFileSync(file).subarray(0, 101))],
  ];
  for (const [name, damage] of damages) {
    const { indexDir, searcher } = await indexOf(`records-gone-${name}`, images);
    await searcher.close();
    damage(join(indexDir, name));
    const again = Searcher.open(bundle, indexDir);
    try {
      await assert.rejects(
        again.search(sentence(images[0]), 3),
        (e: unknown) =>
          e instanceof CorruptFileError &&
          e.message.includes(join(indexDir, name)) &&
          e.message.includes("imagesent index --rebuild"),
        name,
      );
      await rebuiltHits(again, sentence(images[0]), 4);
    } finally {
      await again.close();
    }
  }
});

test("similar images: a copy of the query under another name first, the query itself left out", async () => {
  const images = tests.slice(0, 12);
  const indexDir = join(dir, "similar");
  const searcher = Searcher.open(bundle, indexDir);
  try {
    await searcher.index([
      ...images.map((im) => ({ name: im.filename, image: path(im), regions: im.regions })),
      { name: "copy.jpg", image: path(images[3]), regions: images[3].regions },
    ]);
    // Exactly, by every sketch, and through a shortlist of half the images by their summaries.
    for (const opts of [{}, ann, { ...ann, scanBelow: 0, shortlist: 6, candidates: 6 }]) {
      const hits = await searcher.similar(images[3].filename, 5, opts);
      assert.equal(hits.length, 5);
      assert.equal(hits[0].image, "copy.jpg");
      assert.ok(Math.abs(hits[0].score - 1) < 0.01, `score ${hits[0].score}`);
      assert.ok(!hits.some((h) => h.image === images[3].filename));
      for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
    }
    // A file that is not indexed is embedded with the bundle's vision setup.
    const byFile = await searcher.similar(path(images[5]), 2, { regions: images[5].regions });
    assert.equal(byFile[0].image, images[5].filename);
  } finally {
    await searcher.close();
  }
});

test("search names the query words the vocabulary lacks and says when nothing matches well", async () => {
  const val = trained.world.world.images.filter((im) => im.split === "val");
  const store = FeatureStore.open(join(dir, "features"));
  const features = new Float32Array(val.length * 20 * bundle.alignment.config.featureDim);
  val.forEach((im, k) => {
    features.set(store.get(im.filename)!.features, (k * features.length) / val.length);
  });
  const sentences = val.flatMap((im) => im.sentences.map((s) => s.tokens));
  const imageOf = Int32Array.from(val.flatMap((im, k) => im.sentences.map(() => k)));
  const calibrated = join(dir, "calibrated-bundle");
  cpSync(trained.bundleDir, calibrated, { recursive: true });
  const c = calibrateSearch(
    bundle.search,
    bundle.alignment,
    "val",
    features,
    val.length,
    sentences,
    imageOf,
  );
  assert.ok(c.relatedMedian > c.unrelatedMedian && c.threshold > c.unrelatedMedian);
  writeCalibration(calibrated, c);
  const target = tests[0];
  // Images none of whose sentences share a word of the query's other than "a"/"and".
  const words = new Set(
    sentence(target)
      .split(" ")
      .filter((w) => w.length > 3),
  );
  const unrelated = tests.filter((im) =>
    im.sentences.every((s) => !s.tokens.some((t) => words.has(t))),
  );
  assert.ok(unrelated.length >= 3, `${unrelated.length} unrelated images`);
  const { searcher: without } = await indexOf("unrelated", unrelated, loadBundle(calibrated));
  const { searcher: withIt } = await indexOf(
    "related",
    [target, ...unrelated],
    loadBundle(calibrated),
  );
  try {
    const good = await withIt.search(`${sentence(target)} zzzq`, 3);
    assert.deepEqual(good.unknownWords, ["zzzq"]);
    assert.equal(good.hits[0].image, path(target));
    assert.equal(good.goodMatch, true);
    assert.ok(good.hits[0].match! > good.hits[1].match!);
    const bad = await without.search(sentence(target), 3);
    assert.equal(bad.goodMatch, false, `best ${bad.hits[0].score}, threshold ${c.threshold}`);
    assert.deepEqual(bad.unknownWords, []);
    // Without a calibration the signal is absent rather than made up.
    const { searcher: plain } = await indexOf("plain", [target], bundle);
    assert.equal((await plain.search(sentence(target), 1)).goodMatch, null);
    await plain.close();
  } finally {
    await without.close();
    await withIt.close();
  }
});
