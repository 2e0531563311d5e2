import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { evaluateRetrieval, retrievalMetrics } from "../../src/align/retrieval.js";
import {
  AlignmentFusion,
  firstRegions,
  memberScores,
  scoreSpread,
  tuneFusionWeights,
} from "../../src/align/score-fusion.js";
import { Rng } from "../../src/core/index.js";
import type { ImageEntry } from "../../src/data/dataset.js";
import { InputError } from "../../src/errors.js";
import { tinyAlignmentModel } from "../support/tiny-alignment-model.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-fusion-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const DIM = 6;
// A normaliser that is not the identity, so each member's own normalisation is exercised.
const model = (seed: number, regions: number) =>
  tinyAlignmentModel(seed, { featureDim: DIM, regions, shift: 2 });

const sentences = [
  ["a", "dog", "runs"],
  ["the", "red", "ball"],
  ["a", "dog", "on", "the", "beach"],
  ["red", "ball", "on", "beach"],
];
const IMAGES = 3;
const REGIONS = 3;
const rng = new Rng(4);
const features = Float32Array.from({ length: IMAGES * REGIONS * DIM }, () => rng.normal());

test("firstRegions keeps each image's first regions; all of them is the same array", () => {
  // 2 images x 3 regions x 1-d: region r of image k holds 10k + r.
  const x = Float32Array.of(0, 1, 2, 10, 11, 12);
  assert.deepEqual(Array.from(firstRegions(x, 2, 3, 1, 1)), [0, 10]);
  assert.deepEqual(Array.from(firstRegions(x, 2, 3, 2, 1)), [0, 1, 10, 11]);
  assert.equal(firstRegions(x, 2, 3, 3, 1), x);
  assert.throws(() => firstRegions(x, 2, 2, 1, 1), /6 values for 2 images x 2 regions x 1/);
  assert.throws(() => firstRegions(x, 2, 3, 4, 1), /4 regions of 3/);
});

test("scoreSpread is the standard deviation", () => {
  assert.equal(scoreSpread(Float32Array.of(1, 3)), 1);
  assert.equal(scoreSpread(Float32Array.of(2, 4, 4, 4, 5, 5, 7, 9)), 2);
});

test("tuneFusionWeights takes the grid weight that fixes what the first member ranks wrong", () => {
  // Sentence l belongs to image l. M0 ranks sentence 1 second for image 1 and image 0 second for
  // sentence 0; M1 (the identity) ranks everything right. With spreads 1/sqrt(2) and 1/2, the
  // fused matrix at relative weight 1 is [[3.41, 0], [2.83, 3.41]]: every rank 1.
  const M0 = Float32Array.of(1, 0, 2, 1);
  const M1 = Float32Array.of(1, 0, 0, 1);
  const imageOf = Int32Array.of(0, 1);
  const tuned = tuneFusionWeights([M0, M1], 2, imageOf, [0, 1, 5]);
  assert.deepEqual(tuned.relative, [1, 1]);
  assert.ok(Math.abs(tuned.spreads[0] - Math.SQRT1_2) < 1e-6);
  assert.equal(tuned.spreads[1], 0.5);
  assert.equal(tuned.result.annotation.r1, 100);
  assert.equal(tuned.result.search.r1, 100);
  // A member that only adds noise keeps weight 0: the first member alone.
  const alone = tuneFusionWeights([M1, M0], 2, imageOf, [0, 1]);
  assert.deepEqual(alone.relative, [1, 0]);
});

test("a member whose scores are NaN never wins a weight nor makes the fusion look perfect", () => {
  const good = Float32Array.of(1, 0, 2, 1);
  const broken = Float32Array.of(Number.NaN, 0, 0, Number.NaN);
  const imageOf = Int32Array.of(0, 1);
  const tuned = tuneFusionWeights([good, broken], 2, imageOf, [0, 1, 5]);
  assert.deepEqual(tuned.relative, [1, 0]);
  assert.deepEqual(tuned.result, retrievalMetrics(good, 2, imageOf));
  assert.equal(tuned.spreads[1], 1, "no spread among its finite scores: left unscaled");
  // Weighted 0 in a fusion, its NaN scores do not reach the sum.
  const m = model(1, REGIONS);
  const nanModel = model(2, REGIONS);
  nanModel.params.all()[0].tensor.data.fill(Number.NaN);
  const fusion = new AlignmentFusion([
    { model: m, checkpoint: "a", weight: 1 },
    { model: nanModel, checkpoint: "b", weight: 0 },
  ]);
  const fused = fusion.scores(features, IMAGES, sentences);
  const alone = new AlignmentFusion([{ model: m, checkpoint: "a", weight: 1 }]);
  assert.deepEqual(fused, alone.scores(features, IMAGES, sentences));
  assert.ok(fused.every(Number.isFinite));
});

test("a one-model fusion scores as the model does; members read their own first regions", () => {
  const r3 = model(1, 3);
  const r1 = model(2, 1);
  const images = Array.from({ length: IMAGES }, (_, k) => ({
    sentences: k < 2 ? [{ tokens: sentences[2 * k] }, { tokens: sentences[2 * k + 1] }] : [],
  })) as unknown as ImageEntry[];
  const direct = evaluateRetrieval(r3, images, r3.normalize(features)).scores;
  const one = new AlignmentFusion([{ model: r3, checkpoint: "r3.ckpt", weight: 1 }]);
  assert.deepEqual(one.scores(features, IMAGES, sentences), direct);

  const fused = new AlignmentFusion([
    { model: r3, checkpoint: "r3.ckpt", weight: 0.5 },
    { model: r1, checkpoint: "r1.ckpt", weight: 2 },
  ]);
  assert.equal(fused.regions, 3);
  const wholeImages = firstRegions(features, IMAGES, REGIONS, 1, DIM);
  const S1 = memberScores(r1, wholeImages, IMAGES, 1, sentences);
  const S = fused.scores(features, IMAGES, sentences);
  for (let i = 0; i < S.length; i++) {
    assert.ok(Math.abs(S[i] - (0.5 * direct[i] + 2 * S1[i])) < 1e-5, `S[${i}]`);
  }
});

test("a saved fusion loads from anywhere, its checkpoints relative to the file", () => {
  const r3 = model(1, 3);
  const r1 = model(2, 1);
  mkdirSync(join(dir, "runs", "a"), { recursive: true });
  mkdirSync(join(dir, "runs", "b"), { recursive: true });
  r3.save(join(dir, "runs", "a", "best.ckpt"));
  r1.save(join(dir, "runs", "b", "best.ckpt"));
  const path = join(dir, "runs", "fused.json");
  new AlignmentFusion([
    { model: r3, checkpoint: join(dir, "runs", "a", "best.ckpt"), weight: 0.7 },
    { model: r1, checkpoint: join(dir, "runs", "b", "best.ckpt"), weight: 0.3 },
  ]).save(path);
  const loaded = AlignmentFusion.load(path);
  assert.deepEqual(
    loaded.members.map((m) => m.weight),
    [0.7, 0.3],
  );
  const expected = new AlignmentFusion([
    { model: r3, checkpoint: "a", weight: 0.7 },
    { model: r1, checkpoint: "b", weight: 0.3 },
  ]).scores(features, IMAGES, sentences);
  assert.deepEqual(loaded.scores(features, IMAGES, sentences), expected);

  const bad = (json: unknown, message: RegExp) => {
    const file = join(dir, "runs", "bad.json");
    writeFileSync(file, JSON.stringify(json));
    assert.throws(
      () => AlignmentFusion.load(file),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      String(message),
    );
  };
  bad({ format: "other" }, /bad\.json: format: expected "imagesent-alignment-fusion", got "other"/);
  bad(
    { format: "imagesent-alignment-fusion", members: [] },
    /bad\.json: members: expected a non-empty list of objects, got \[\]/,
  );
  bad(
    { format: "imagesent-alignment-fusion", members: [{ checkpoint: "a/best.ckpt" }] },
    /bad\.json: members\[0\]\.weight: expected a finite number, missing/,
  );
});
