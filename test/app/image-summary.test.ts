import assert from "node:assert/strict";
import { test } from "node:test";
import { ImageSummary } from "../../src/app/image-summary.js";
import { NO_RECORD } from "../../src/app/record-file.js";
import { RegionSketch } from "../../src/app/region-sketch.js";
import { Rng } from "../../src/core/index.js";
import { randomMemberQuery } from "../support/member-queries.js";

/** Random member vectors (images x regions x embed) for each member. */
function memberVectors(
  members: readonly { regions: number; embed: number }[],
  images: number,
  rng: Rng,
): Float32Array[] {
  return members.map((m) =>
    Float32Array.from({ length: images * m.regions * m.embed }, () => rng.normal()),
  );
}

/** Random member vectors of `images` images, a sketch of 4 values fitted to them, their records. */
function sketched(
  members: readonly { regions: number; embed: number }[],
  images: number,
  rng: Rng,
) {
  const vs = memberVectors(members, images, rng);
  const sketch = RegionSketch.fit(vs, images, members, 4);
  return {
    sketch,
    sketches: sketch.encode(
      vs,
      Int32Array.from({ length: images }, (_, k) => k),
    ),
  };
}

test("a summary is each member's sketch rows averaged over the regions, leading values, weighted", () => {
  const images = 40;
  const { sketch, sketches } = sketched(
    [
      { regions: 2, embed: 6 },
      { regions: 1, embed: 5 },
    ],
    images,
    new Rng(3),
  );
  const summary = new ImageSummary(sketch, 3);
  assert.equal(summary.width, 6);
  assert.equal(summary.recordBytes, 16);
  const weights = [0.5, 2];
  const records = summary.encode(sketches, images, weights);
  // The sketch record as documented: id, a scale per row (3 rows), a length per row, member 0's
  // two rows of 4 int8 values, member 1's one row.
  const sv = new DataView(sketches.buffer);
  const s8 = new Int8Array(sketches.buffer);
  const rv = new DataView(records.buffer);
  const r8 = new Int8Array(records.buffer);
  for (const k of [0, 17, 39]) {
    const at = k * sketch.recordBytes;
    const row = (r: number, j: number) =>
      sv.getFloat32(at + 4 + 4 * r, true) * s8[at + 28 + 4 * r + j];
    const want = [
      ...[0, 1, 2].map((j) => 0.5 * ((row(0, j) + row(1, j)) / 2)),
      ...[0, 1, 2].map((j) => 2 * row(2, j)),
    ];
    assert.equal(rv.getInt32(k * 16, true), k);
    const scale = rv.getFloat32(k * 16 + 4, true);
    want.forEach((w, j) => {
      assert.ok(
        Math.abs(scale * r8[k * 16 + 8 + j] - w) <= scale / 2 + 1e-6,
        `image ${k} value ${j}`,
      );
    });
  }
});

test("with one region per image, the summary's score is the sketch's score less its offsets", () => {
  const rng = new Rng(5);
  const members = [
    { regions: 1, embed: 8 },
    { regions: 1, embed: 6 },
  ];
  const images = 30;
  const { sketch, sketches } = sketched(members, images, rng);
  const summary = new ImageSummary(sketch, 4);
  const weights = [0.7, 1.3];
  const records = summary.encode(sketches, images, weights);
  const query = sketch.prepare(randomMemberQuery(members, 3, rng));
  const got = summary.scores(records, images, summary.query(query));
  const want = sketch.score(sketches, images, query, weights, false).scores;
  const offsets = query.reduce(
    (s, m, i) => s + weights[i] * m.offsets.reduce((a, b) => a + b, 0),
    0,
  );
  want.forEach((w, k) => {
    // The summary's own int8 rounding: within 1.5% of the score's range.
    assert.ok(
      Math.abs(got[k] - (w - offsets)) < 0.015 * (1 + Math.abs(w - offsets)) + 0.05,
      `image ${k}`,
    );
  });
});

test("best: the top scores by hand, holes and NaN left out, in id order", () => {
  const rng = new Rng(7);
  const members = [{ regions: 1, embed: 4 }];
  const vs = memberVectors(members, 8, rng);
  const summary = new ImageSummary(RegionSketch.fit(vs, 8, members, 2), 2);
  assert.equal(summary.recordBytes, 12);
  // Six records of (scale; a, b) against q = (1, -1): 1 x (3 - 1) = 2, 2 x (5 - 0) = 10,
  // a hole that would score 100, NaN, 0.5 x (-4 - 0) = -2, 1 x (9 - 2) = 7.
  const rows: [number, number, number, number][] = [
    [0, 1, 3, 1],
    [1, 2, 5, 0],
    [NO_RECORD, 1, 100, 0],
    [3, Number.NaN, 1, 1],
    [4, 0.5, -4, 0],
    [5, 1, 9, 2],
  ];
  const bytes = new Uint8Array(rows.length * 12);
  const view = new DataView(bytes.buffer);
  rows.forEach(([id, scale, a, b], k) => {
    view.setInt32(12 * k, id, true);
    view.setFloat32(12 * k + 4, scale, true);
    view.setInt8(12 * k + 8, a);
    view.setInt8(12 * k + 9, b);
  });
  const q = Float32Array.of(1, -1);
  assert.deepEqual(Array.from(summary.scores(bytes, 6, q)).slice(0, 2), [2, 10]);
  assert.deepEqual(summary.best(bytes, 6, q, 2), [1, 5]);
  assert.deepEqual(summary.best(bytes, 6, q, 3), [0, 1, 5]);
  assert.deepEqual(summary.best(bytes, 6, q, 10), [0, 1, 4, 5]);
  assert.deepEqual(summary.best(bytes, 6, q, 0), []);
});

test("best finds the same images as sorting every score, through its sampled floor", () => {
  const rng = new Rng(9);
  const members = [{ regions: 1, embed: 20 }];
  const vs = memberVectors(members, 30, rng);
  const summary = new ImageSummary(RegionSketch.fit(vs, 30, members, 16), 16);
  const records = 20_000;
  const bytes = new Uint8Array(records * summary.recordBytes);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < records; k++) {
    const at = k * summary.recordBytes;
    view.setInt32(at, k % 97 === 5 ? NO_RECORD : k, true);
    view.setFloat32(at + 4, 0.01 + rng.uniform(), true);
    // Many equal rows, so that ties are decided by id.
    const same = k % 10 === 0;
    for (let j = 0; j < 16; j++) view.setInt8(at + 8 + j, same ? 3 : Math.round(rng.normal() * 40));
  }
  const q = Float32Array.from({ length: 16 }, () => rng.normal());
  const scores = summary.scores(bytes, records, q);
  const order = Array.from(scores.keys())
    .filter((k) => k % 97 !== 5)
    .sort((a, b) => scores[b] - scores[a] || a - b);
  for (const count of [1, 50, 777, 5000]) {
    const want = order.slice(0, count).sort((a, b) => a - b);
    assert.deepEqual(summary.best(bytes, records, q, count), want, `count ${count}`);
  }
  // The 3,000 best removed: the first floor keeps too few live records and is lowered.
  for (const k of order.slice(0, 3000)) view.setInt32(k * summary.recordBytes, NO_RECORD, true);
  const want = order.slice(3000, 5000).sort((a, b) => a - b);
  assert.deepEqual(summary.best(bytes, records, q, 2000), want);
});
