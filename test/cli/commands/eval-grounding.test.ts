import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AlignmentFusion } from "../../../src/align/score-fusion.js";
import { FeatureStore } from "../../../src/vision/feature-store.js";
import type { Box, Region } from "../../../src/vision/image.js";
import { assertClearError, runCli } from "../../support/cli-run.js";
import { tinyAlignmentModel } from "../../support/tiny-alignment-model.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-eval-grounding-"));
after(() => rmSync(root, { recursive: true, force: true }));

const box = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });

const annotation = (objects: string) =>
  `<annotation>\n<size><width>200</width><height>100</height><depth>3</depth></size>\n${objects}</annotation>`;
const boxObject = (chain: number, [x1, y1, x2, y2]: number[]) =>
  `<object><name>${chain}</name><bndbox><xmin>${x1}</xmin><ymin>${y1}</ymin><xmax>${x2}</xmax><ymax>${y2}</ymax></bndbox></object>\n`;

/**
 * Two val images stored at 100 x 50, annotated at 200 x 100. Image 1000: the dog's box
 * (21..100, 21..80, 1-based) is exactly its detection (10, 10)-(50, 40) once scaled; chain 2 has
 * no box. Image 2000: "the beach" is the whole image, its largest other region covers 45%.
 */
function writeData(): { dataset: string; entities: string; features: string } {
  const dataset = join(root, "flickr8k");
  mkdirSync(dataset);
  writeFileSync(
    join(dataset, "Flickr8k.token.txt"),
    [
      "1000_ab.jpg#0\tA dog runs on the beach today .",
      "1000_ab.jpg#1\tThe red dog runs .",
      "2000_cd.jpg#0\tThe beach .",
      "3000_ef.jpg#0\tA ball .",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dataset, "Flickr_8k.trainImages.txt"), "3000_ef.jpg\n");
  writeFileSync(join(dataset, "Flickr_8k.devImages.txt"), "1000_ab.jpg\n2000_cd.jpg\n");
  writeFileSync(join(dataset, "Flickr_8k.testImages.txt"), "");
  const entities = join(root, "entities");
  mkdirSync(join(entities, "Annotations"), { recursive: true });
  mkdirSync(join(entities, "Sentences"));
  writeFileSync(
    join(entities, "Annotations", "1000.xml"),
    annotation(
      `${boxObject(1, [21, 21, 100, 80])}<object><name>2</name><scene>1</scene><nobndbox>1</nobndbox></object>\n`,
    ),
  );
  writeFileSync(
    join(entities, "Sentences", "1000.txt"),
    "[/EN#1/animals A dog] runs on [/EN#2/scene the beach] [/EN#0/notvisual today] .\n" +
      "[/EN#1/animals The red dog] runs .\n",
  );
  writeFileSync(
    join(entities, "Annotations", "2000.xml"),
    annotation(boxObject(3, [1, 1, 200, 100])),
  );
  writeFileSync(join(entities, "Sentences", "2000.txt"), "[/EN#3/scene The beach] .\n");
  const features = join(root, "features");
  const store = FeatureStore.openForWriting(features, {
    encoder: "test",
    dim: 6,
    regionsPerImage: 3,
    detector: "test",
  });
  const whole: Region = { box: box(0, 0, 100, 50), source: "whole" };
  const stored = (filename: string, id: number, regions: Region[]) => ({
    filename,
    id,
    width: 100,
    height: 50,
    regions,
    features: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + id)),
  });
  store.append([
    stored("1000_ab.jpg", 1, [
      whole,
      { box: box(10, 10, 50, 40), source: "detection", label: "dog", score: 0.9 },
      { box: box(50, 0, 100, 50), source: "fallback" },
    ]),
    stored("2000_cd.jpg", 2, [
      whole,
      { box: box(0, 0, 45, 50), source: "fallback" },
      { box: box(60, 0, 100, 50), source: "fallback" },
    ]),
  ]);
  return { dataset, entities, features };
}

let data: ReturnType<typeof writeData>;
let checkpoint: string;
before(() => {
  data = writeData();
  checkpoint = join(root, "model.ckpt");
  const model = tinyAlignmentModel(3);
  model.save(checkpoint);
  new AlignmentFusion([{ model, checkpoint, weight: 1 }]).save(join(root, "fusion.json"));
});

const args = (model: string, extra: string[] = []) => [
  "eval-grounding",
  "--model",
  model,
  "--features",
  data.features,
  "--dataset",
  data.dataset,
  "--entities",
  data.entities,
  ...extra,
];

test("eval-grounding counts every chooser on the val split by the protocol", async () => {
  const r = await runCli(args(checkpoint, ["--json"]));
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.split, "val");
  assert.equal(json.beta, 1);
  assert.deepEqual([json.images, json.sentences, json.regions], [2, 3, 3]);
  assert.deepEqual(json.leftOut, { notVisual: 1, noBox: 1 });
  // "a dog", "the red dog" (on the dog's detection) and "the beach" (the whole image 2000). The
  // fixture has no train images, so the learned chooser has no association table: it gets the
  // dogs by the detector's own label name and the beach by its whole-image prior.
  const correct = Object.fromEntries(
    Object.entries(json.choosers).map(([c, v]) => [c, (v as { correct: number }).correct]),
  );
  assert.deepEqual(
    { ...correct, best: 0, mrf: 0, random: 0 },
    {
      best: 0,
      mrf: 0,
      random: 0,
      whole: 1,
      largest: 0,
      typeRule: 2,
      wordLabel: 2,
      learned: 3,
      upperBound: 3,
    },
  );
  for (const v of Object.values(json.choosers)) assert.equal((v as { total: number }).total, 3);
  assert.deepEqual(json.choosers.typeRule.byType.animals, { correct: 2, total: 2, rate: 1 });
  assert.deepEqual(json.detectorRegions, { correct: 1, total: 6, rate: 1 / 6 });

  // A fusion grounds with its first model: the same counts.
  const fused = await runCli(args(join(root, "fusion.json"), ["--json"]));
  assert.equal(fused.code, 0, fused.stderr);
  assert.deepEqual(JSON.parse(fused.stdout), json);
});

test("eval-grounding prints the table and writes it as Markdown with the command", async () => {
  const md = join(root, "out", "grounding.md");
  const r = await runCli(args(checkpoint, ["--beta", "0", "--markdown", md]));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| always the whole image \| 33\.3% \|/);
  assert.match(r.stdout, /chain MRF \(beta 0\)/);
  assert.match(
    r.stdout,
    /2 images, 3 sentences, 3 phrases with a box \(left out: 1 notvisual, 1 without a box\)/,
  );
  const text = readFileSync(md, "utf8");
  assert.match(text, /^# Phrase grounding on Flickr30k Entities \(val split\)/);
  assert.match(text, /\| the largest detection whose class fits [^|]*\| 66\.7% \|/);
  assert.ok(text.includes(`imagesent eval-grounding ${args(checkpoint).slice(1).join(" ")}`));
});

test("eval-grounding refuses missing annotations, malformed files and incomplete stores clearly", async () => {
  const lacking = await runCli(args(checkpoint, ["--split", "train"]));
  assertClearError(
    lacking,
    /lacks the annotations of 1 of the 1 train images \(e\.g\. 3000_ef\.jpg\)/,
    "missing",
  );
  const xml = join(data.entities, "Annotations", "2000.xml");
  const good = readFileSync(xml, "utf8");
  writeFileSync(xml, good.replace("<xmax>200</xmax>", "<xmax>2x0</xmax>"));
  try {
    assertClearError(await runCli(args(checkpoint)), `${xml}:3: <xmax>`, "malformed xml");
  } finally {
    writeFileSync(xml, good);
  }
  const empty = join(root, "empty-store");
  FeatureStore.openForWriting(empty, {
    encoder: "test",
    dim: 6,
    regionsPerImage: 3,
    detector: null,
  });
  const r = await runCli([...args(checkpoint).map((a) => (a === data.features ? empty : a))]);
  assertClearError(r, /lacks 2 of the 2 val images/, "store");
  assertClearError(
    await runCli(["eval-grounding", "--model", checkpoint]),
    "--features is required",
    "flags",
  );
});
