import assert from "node:assert/strict";
import { test } from "node:test";
import { epochBatches } from "../../src/align/batches.js";
import {
  byScoreDescending,
  recallSum,
  retrievalMetrics,
  summarise,
} from "../../src/align/retrieval.js";
import { retrievalMarkdown } from "../../src/align/retrieval-report.js";
import { Rng } from "../../src/core/index.js";

test("summarise: recall at 1/5/10 in percent and the median rank", () => {
  const m = summarise([1, 2, 6, 11, 3]);
  assert.equal(m.r1, 20);
  assert.equal(m.r5, 60);
  assert.equal(m.r10, 80);
  assert.equal(m.medianRank, 3);
  assert.equal(summarise([1, 4, 7, 9]).medianRank, 5.5);
});

test("retrievalMetrics ranks by hand: annotation takes the best true sentence, search the image", () => {
  // 3 images, 6 sentences; sentence l belongs to image imageOf[l].
  const imageOf = Int32Array.of(0, 0, 1, 1, 2, 2);
  // biome-ignore format: one row per image
  const S = Float32Array.from([
    9, 1, 8, 0, 0, 0, // image 0: its sentence 0 is best -> rank 1
    5, 0, 1, 2, 7, 0, // image 1: best true is sentence 3 (2), beaten by 5 and 7 -> rank 3
    0, 0, 0, 0, 3, 4, // image 2: sentence 5 best -> rank 1
  ]);
  const r = retrievalMetrics(S, 3, imageOf);
  assert.deepEqual(r.annotation, { r1: 200 / 3, r5: 100, r10: 100, medianRank: 1 });
  // Search ranks per sentence: s0: image 0 (9) first -> 1; s1: 1 vs 0, 0 -> 1; s2: image 1 has 1,
  // image 0 has 8 -> 2; s3: 2 beats 0, 0 -> 1; s4: image 2 has 3, image 1 has 7 -> 2; s5: 4 -> 1.
  assert.deepEqual(r.search, { r1: 400 / 6, r5: 100, r10: 100, medianRank: 1 });
  assert.equal(recallSum(r), 200 / 3 + 200 + 400 / 6 + 200);
});

test("retrievalMetrics counts ties against the model, so constant scores are at chance", () => {
  const images = 20;
  const imageOf = Int32Array.from({ length: 100 }, (_, l) => Math.floor(l / 5));
  const r = retrievalMetrics(new Float32Array(images * 100), images, imageOf);
  assert.equal(r.annotation.r10, 0);
  assert.equal(r.search.r1, 0);
  assert.equal(r.search.medianRank, 20);
});

test("retrievalMetrics ranks NaN scores last and never counts a NaN truth as a hit", () => {
  const imageOf = Int32Array.of(0, 1, 2);
  const nan = Number.NaN;
  // A diverged model: every score NaN. Before, every comparison with NaN was false: all rank 1.
  const dead = retrievalMetrics(new Float32Array(9).fill(nan), 3, imageOf);
  for (const m of [dead.annotation, dead.search]) {
    assert.deepEqual(m, { r1: 0, r5: 0, r10: 0, medianRank: Number.POSITIVE_INFINITY });
  }
  assert.equal(recallSum(dead), 0);
  // biome-ignore format: one row per image
  const S = Float32Array.from([
    1, nan, 0, // image 0: its sentence first; a NaN rival does not outrank it
    nan, 2, 3, // image 1: its sentence beaten by 3 only -> rank 2
    0, 0, nan, // image 2: its own score NaN -> never found
  ]);
  const r = retrievalMetrics(S, 3, imageOf);
  assert.deepEqual(r.annotation, { r1: 100 / 3, r5: 200 / 3, r10: 200 / 3, medianRank: 2 });
  // Search: s0 rank 1 (NaN for image 1 ranks last); s1 rank 1; s2 NaN truth -> never found.
  assert.deepEqual(r.search, { r1: 200 / 3, r5: 200 / 3, r10: 200 / 3, medianRank: 1 });
});

test("byScoreDescending sorts best first with NaN after every number", () => {
  const sorted = [0.5, Number.NaN, 3, Number.NEGATIVE_INFINITY, Number.NaN, -1].sort(
    byScoreDescending,
  );
  assert.deepEqual(sorted, [3, 0.5, -1, Number.NEGATIVE_INFINITY, Number.NaN, Number.NaN]);
});

test("epochBatches uses every sentence once and never puts an image twice in a batch", () => {
  const sentencesOf = Array.from({ length: 23 }, (_, i) =>
    Array.from({ length: i % 3 === 0 ? 4 : 5 }, (_, k) => Int32Array.of(i, k)),
  );
  const batches = epochBatches(sentencesOf, 10, new Rng(1));
  const seen = new Set<string>();
  for (const batch of batches) {
    assert.ok(batch.length >= 2 && batch.length <= 10);
    assert.equal(new Set(batch.map((p) => p.image)).size, batch.length);
    for (const p of batch) {
      assert.equal(p.sentence[0], p.image);
      seen.add(`${p.sentence[0]}/${p.sentence[1]}`);
    }
  }
  const total = sentencesOf.reduce((n, s) => n + s.length, 0);
  // Only a lone pair at the end of a pass may be dropped.
  assert.ok(seen.size >= total - 5 && seen.size <= total);
  assert.deepEqual(
    epochBatches(sentencesOf, 10, new Rng(1)).map((b) => b.map((p) => p.image)),
    batches.map((b) => b.map((p) => p.image)),
  );
});

test("retrievalMarkdown puts the paper's Flickr8K row above ours", () => {
  const r = { r1: 20, r5: 45, r10: 60, medianRank: 7 };
  const md = retrievalMarkdown(
    [{ label: "ours", result: { images: 1000, sentences: 5000, annotation: r, search: r } }],
    "test",
    "flickr8k",
  );
  assert.match(
    md,
    /\| paper .*\| 16\.5 \| 40\.6 \| 54\.2 \| 7\.6 \| 11\.8 \| 32\.1 \| 44\.7 \| 12\.4 \|/,
  );
  assert.match(md, /\| ours \| 20\.0 \| 45\.0 \| 60\.0 \| 7 \|/);
  assert.match(md, /1000 images and 5000 sentences/);
});
