import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadSplitFeatures } from "../../../src/align/image-features.js";
import { retrievalMetrics, splitSentences } from "../../../src/align/retrieval.js";
import { AlignmentFusion } from "../../../src/align/score-fusion.js";
import { trainAlignment } from "../../../src/align/train.js";
import { Describer } from "../../../src/app/describer.js";
import { BundleCache, loadBundle, writeBundle } from "../../../src/app/model-bundle.js";
import { PIXEL_STATS_SETUP } from "../../../src/app/vision-setup.js";
import { evalGenCommand } from "../../../src/cli/commands/eval-gen.js";
import { evalRetrievalCommand } from "../../../src/cli/commands/eval-retrieval.js";
import { loadDataset } from "../../../src/data/load.js";
import { FeatureStore } from "../../../src/vision/feature-store.js";
import { type TrainedWorld, trainedWorld } from "../../app/fixtures.js";

/**
 * eval-retrieval and eval-gen given a bundle score it as search and describe use it, and read
 * only the evaluated split's codes: the store here holds the val images alone.
 */
let dir: string;
let trained: TrainedWorld;
let fusedBundle: string;
let valStore: string;
let home: string | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-eval-bundle-"));
  trained = await trainedWorld(dir, { images: 30 });
  // A bundle as a user gets one: fused search models, an ensemble and a caption rerank.
  // The second search model reads the whole image only, so the fusion ranks unlike either.
  const dataset = loadDataset(trained.world.datasetPath);
  const splits = loadSplitFeatures(
    FeatureStore.open(join(dir, "features")),
    dataset,
    ["train", "val"],
    1,
  );
  const whole = trainAlignment(dataset, splits.get("train")!, splits.get("val")!, {
    out: join(dir, "align-r1"),
    model: { embed: 48, hidden: 32, wordDim: 24, regions: 1 },
    train: { epochs: 1, batchSize: 10, lr: 3e-4, dropout: 0, seed: 2 },
  });
  const fusion = join(dir, "fusion.json");
  new AlignmentFusion([
    { ...AlignmentFusion.ofCheckpoint(trained.alignment).members[0], weight: 2 },
    { ...AlignmentFusion.ofCheckpoint(whole.bestPath).members[0], weight: 1 },
  ]).save(fusion);
  fusedBundle = join(dir, "fused-bundle");
  writeBundle(fusedBundle, {
    alignment: fusion,
    generator: trained.generator,
    generatorEnsemble: [trained.generator],
    captionRerank: { weight: 0.5, beam: 3 },
    vision: PIXEL_STATS_SETUP,
  });
  const full = FeatureStore.open(join(dir, "features"));
  valStore = join(dir, "features-val");
  const val = new Set(
    trained.world.world.images.filter((im) => im.split === "val").map((im) => im.filename),
  );
  const out = FeatureStore.openForWriting(valStore, {
    encoder: full.meta.encoder,
    dim: full.meta.dim,
    regionsPerImage: full.meta.regionsPerImage,
    detector: full.meta.detector,
  });
  out.append([...full.entries()].filter((e) => val.has(e.filename)));
  home = process.env.IMAGESENT_HOME;
  process.env.IMAGESENT_HOME = join(dir, "home");
});

after(() => {
  if (home === undefined) delete process.env.IMAGESENT_HOME;
  else process.env.IMAGESENT_HOME = home;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a command with console.log captured; returns its exit code and what it printed. */
async function captured(
  run: () => number | undefined | Promise<number | undefined>,
): Promise<{ rc: number | undefined; out: string }> {
  const lines: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (line: unknown) => lines.push(String(line));
  console.error = () => {};
  try {
    const rc = await run();
    return { rc, out: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test("eval-retrieval --model BUNDLE scores with the bundle's searchFusion, one row, from a val-only store", async () => {
  const data = ["--dataset", trained.world.datasetPath, "--features", valStore, "--split", "val"];
  new BundleCache().add("tiny-fused", fusedBundle);
  const { rc, out } = await captured(() =>
    evalRetrievalCommand.run([
      ...["--model", "tiny-fused", "--model", trained.alignment],
      ...["--model", trained.bundleDir],
      ...data,
      "--json",
    ]),
  );
  assert.equal(rc, 0);
  const { rows } = JSON.parse(out);
  assert.equal(rows.length, 3);
  assert.equal(rows[0].model, "tiny-fused");
  assert.match(rows[0].label, /^bundle tiny-fused: fused: 2 x 20 regions \+ 1 x whole image only/);
  assert.match(rows[1].label, /^ours, 20 regions/);
  assert.match(rows[2].label, /^bundle bundle: 20 regions \(/);

  // What search scores with, by hand: the bundle's fusion on the val images.
  const bundle = loadBundle(fusedBundle);
  const dataset = loadDataset(trained.world.datasetPath);
  const split = loadSplitFeatures(FeatureStore.open(valStore), dataset, ["val"], 20).get("val")!;
  const { sentences, imageOf } = splitSentences(split.images);
  const S = bundle.search.scores(split.features, split.images.length, sentences);
  assert.deepEqual(rows[0].result, retrievalMetrics(S, split.images.length, imageOf));
});

test("eval-gen --model BUNDLE decodes as describe does (ensemble, beam, rerank) from a val-only store", async () => {
  const valImages = trained.world.world.images.filter((im) => im.split === "val");
  const args = [
    ...["--model", fusedBundle, "--dataset", trained.world.datasetPath],
    ...["--features", valStore, "--split", "val", "--samples", String(valImages.length)],
  ];
  const { rc, out } = await captured(() => evalGenCommand.run([...args, "--json"]));
  assert.equal(rc, 0);
  const ev = JSON.parse(out);
  assert.equal(ev.targets, valImages.length);
  assert.deepEqual(
    ev.skipped.map((s: { name: string }) => s.name),
    ["nearest neighbour"],
  );
  assert.match(ev.skipped[0].reason, /needs the train codes: .*features-val lacks the codes of/);
  assert.equal(ev.nearestNeighbourVerbatim, null);
  assert.ok(!ev.rows.some((r: { name: string }) => r.name === "nearest neighbour"));
  const row = "ensemble of 2, beam 3, length norm 0.7, reranked (weight 0.5)";
  assert.equal(ev.bundle.describeRow, `RNN, ${row}`);
  assert.ok(ev.rows.some((r: { name: string }) => r.name === ev.bundle.describeRow));

  // Describe's captions of the same images and regions are the row's, image for image.
  assert.equal(ev.samples.length, valImages.length);
  const describer = await Describer.load(fusedBundle);
  try {
    for (const sample of ev.samples) {
      const image = valImages.find((im) => im.filename === sample.key)!;
      const d = await describer.describe(join(trained.world.imagesDir, image.filename), {
        regions: image.regions,
      });
      assert.equal(sample.captions[row], d.caption, image.filename);
    }
  } finally {
    await describer.close();
  }

  // The plain text names the row and says why nearest neighbour is missing.
  const text = await captured(() => evalGenCommand.run(args));
  assert.equal(text.rc, 0);
  assert.match(text.out, /skipped nearest neighbour: needs the train codes/);
  assert.match(text.out, /describe captions as the row 'RNN, ensemble of 2, beam 3/);
});

test("eval-gen with the train codes keeps nearest neighbour; a store lacking val images is refused, the split named", async () => {
  const base = ["--model", trained.bundleDir, "--dataset", trained.world.datasetPath];
  const full = await captured(() =>
    evalGenCommand.run([...base, "--features", join(dir, "features"), "--split", "val", "--json"]),
  );
  assert.equal(full.rc, 0);
  const ev = JSON.parse(full.out);
  assert.deepEqual(ev.skipped, []);
  assert.ok(ev.rows.some((r: { name: string }) => r.name === "nearest neighbour"));
  // No captionRerank: describe decodes the default beam, unreranked.
  assert.equal(ev.bundle.describeRow, "RNN, beam 7, length norm 0.7");
  assert.throws(
    () => evalGenCommand.run([...base, "--features", valStore, "--split", "test"]),
    /features-val: no features for \d+ test images/,
  );
  assert.throws(
    () => evalRetrievalCommand.run([...base, "--features", valStore, "--split", "test"].slice(0)),
    /features-val: lacks \d+ test images/,
  );
  assert.throws(
    () => evalGenCommand.run([...base, "--features", valStore, "--ensemble", trained.generator]),
    /--ensemble: a bundle captions with its own generatorEnsemble/,
  );
});
