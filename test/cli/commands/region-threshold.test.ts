import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadBundle, writeBundle } from "../../../src/app/model-bundle.js";
import { PIXEL_STATS_SETUP } from "../../../src/app/vision-setup.js";
import { FUNCTION_WORDS } from "../../../src/generate/region-phrases.js";
import { FeatureStore } from "../../../src/vision/feature-store.js";
import { assertClearError, runCli } from "../../support/cli-run.js";
import { TINY_WORDS } from "../../support/tiny-alignment-model.js";
import { writeFlickr8kFolder, writeRandomStore } from "../../support/tiny-flickr8k.js";
import { writeUntrainedCheckpoints } from "../../support/untrained-checkpoints.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-region-threshold-"));
after(() => rmSync(root, { recursive: true, force: true }));

const DIM = 6;
const VAL = ["2000_ba.jpg", "2001_bb.jpg", "2002_bc.jpg"];
/** Every word the untrained generator can say but the function words: any phrase it makes agrees. */
const CONTENT = TINY_WORDS.filter((w) => !FUNCTION_WORDS.includes(w)).join(" ");

interface Data {
  readonly dataset: string;
  readonly entities: string;
  readonly store: string;
  readonly bundle: string;
}

/**
 * Three val images of 100 x 50 whose halves are two entities (chain 1 left, chain 2 right), each
 * named by a phrase of every content word; a store of their whole image, the two halves and a
 * box that matches no entity; a bundle of untrained models whose region generator says some of
 * those words.
 */
function writeData(): Data {
  const dataset = join(root, "flickr8k");
  const entities = join(root, "entities");
  for (const d of [join(entities, "Annotations"), join(entities, "Sentences")]) {
    mkdirSync(d, { recursive: true });
  }
  const box = (chain: number, x1: number, x2: number) =>
    `<object><name>${chain}</name><bndbox><xmin>${x1 + 1}</xmin><ymin>1</ymin><xmax>${x2}</xmax><ymax>50</ymax></bndbox></object>\n`;
  for (const file of VAL) {
    const id = file.split("_")[0];
    writeFileSync(
      join(entities, "Annotations", `${id}.xml`),
      `<annotation>\n<size><width>100</width><height>50</height><depth>3</depth></size>\n${box(1, 0, 50)}${box(2, 50, 100)}</annotation>\n`,
    );
    writeFileSync(
      join(entities, "Sentences", `${id}.txt`),
      `[/EN#1/other a ${CONTENT}] beside [/EN#2/other the ${CONTENT}] .\n`,
    );
  }
  writeFlickr8kFolder(dataset, { val: VAL }, `a ${CONTENT} beside the ${CONTENT} .`);

  const storeDir = writeRandomStore(
    join(root, "features"),
    VAL,
    DIM,
    [
      { box: { x1: 0, y1: 0, x2: 100, y2: 50 }, source: "whole" },
      { box: { x1: 0, y1: 0, x2: 50, y2: 50 }, source: "fallback" },
      { box: { x1: 50, y1: 0, x2: 100, y2: 50 }, source: "fallback" },
      { box: { x1: 40, y1: 10, x2: 60, y2: 40 }, source: "fallback" },
    ],
    6,
  );
  const paths = writeUntrainedCheckpoints(root, DIM);
  const bundle = join(root, "bundle");
  writeBundle(bundle, {
    alignment: paths.alignment,
    generator: paths.generator,
    regionGenerator: paths.generator,
    vision: { ...PIXEL_STATS_SETUP, detector: null },
  });
  return { dataset, entities, store: storeDir, bundle };
}

let data: Data;
before(() => {
  data = writeData();
});

const args = (extra: string[] = [], over: Partial<Data> = {}) => [
  "region-threshold",
  "--bundle",
  over.bundle ?? data.bundle,
  "--features",
  over.store ?? data.store,
  "--dataset",
  over.dataset ?? data.dataset,
  "--entities",
  over.entities ?? data.entities,
  ...extra,
];

interface Sample {
  filename: string;
  region: number;
  phrase: string;
  confidence: number;
  references?: string[];
  agrees?: boolean;
}

test("region-threshold phrases every val region as describe does and judges those on an entity's box", async () => {
  const r = await runCli(args(["--json"]));
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.split, "val");
  assert.equal(json.images, 3);
  const samples: Sample[] = json.samples;
  assert.equal(samples.length, 9, "3 regions an image (not the whole image)");
  for (const s of samples) {
    const words = s.phrase.split(" ");
    assert.ok(words.length > 0 && !FUNCTION_WORDS.includes(words[words.length - 1]), s.phrase);
    assert.ok(s.confidence < 0);
  }
  // The halves match chains 1 and 2; the middle box matches neither (IoU < 0.5).
  const judged = samples.filter((s) => s.references);
  assert.deepEqual(
    judged.map((s) => s.region),
    [1, 2, 1, 2, 1, 2],
  );
  assert.ok(
    judged.every((s) => s.agrees),
    "every phrase names a word of its entity",
  );
  assert.ok(samples.filter((s) => s.region === 3).every((s) => s.agrees === undefined));
  // All judged phrases agree: the fit is one step, and every confidence reaches it.
  const lowest = Math.min(...judged.map((s) => s.confidence));
  assert.equal(json.minConfidence, lowest);
  assert.deepEqual(
    json.curve.map((c: { agreement: number; phrases: number }) => [c.agreement, c.phrases]),
    [[1, 6]],
  );
  assert.equal(json.summary.shown, samples.filter((s) => s.confidence >= lowest).length);
});

test("--write stores the threshold in the bundle, which describe then reads", async () => {
  const r = await runCli(args(["--write"]));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^threshold \(agreement >= 50\.0%\): minConfidence -\d/m);
  assert.match(r.stderr, /wrote regionPhrases \{"minConfidence":-[\d.]+,"labelScore":0\.5\} into /);
  const manifest = loadBundle(data.bundle).manifest;
  const json = JSON.parse(readFileSync(join(data.bundle, "bundle.json"), "utf8"));
  assert.deepEqual(manifest.regionPhrases, json.regionPhrases);
  assert.ok(manifest.regionPhrases!.minConfidence < 0);
  assert.equal(json.generator, "generator.ckpt", "the rest of bundle.json is kept");
});

test("bad flags and data are one line naming what is wrong", async () => {
  assertClearError(
    await runCli(["region-threshold", "--bundle", data.bundle]),
    "--features is required",
    "no store",
  );
  assertClearError(
    await runCli(args(["--precision", "0"])),
    '--precision: expected a number above 0, got "0"',
    "precision 0",
  );
  assertClearError(
    await runCli(args(["--precision", "1.5"])),
    /--precision: expected a number/,
    "precision 1.5",
  );
  const empty = join(root, "empty-features");
  FeatureStore.openForWriting(empty, {
    encoder: "test",
    dim: DIM,
    regionsPerImage: 4,
    detector: null,
  }).close();
  assertClearError(
    await runCli(args([], { store: empty })),
    `${empty}: lacks 3 of the 3 val images (e.g. 2000_ba.jpg)`,
    "a store without the val images",
  );
});
