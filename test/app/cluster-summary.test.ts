import assert from "node:assert/strict";
import { test } from "node:test";
import { ClusterSummary, kMeans } from "../../src/app/cluster-summary.js";
import { NO_RECORD } from "../../src/app/record-file.js";
import { RegionSketch } from "../../src/app/region-sketch.js";
import { Rng } from "../../src/core/index.js";
import { randomMemberQuery } from "../support/member-queries.js";

const ids = (n: number) => Int32Array.from({ length: n }, (_, k) => k);

test("kMeans: seeds from the longest row and the farthest from the seeds, then Lloyd's", () => {
  // Four 1-d rows: seeds 11 (the longest) and 0 (farthest from 11); the groups {10, 11}, {0, 1}.
  assert.deepEqual(Array.from(kMeans(Float32Array.of(0, 10, 1, 11), 4, 1, 2)), [10.5, 0.5]);
  // 2-d: seeds (4, 5) (the first of the two longest) and (-1, 0) (50 from it); the groups are
  // the three rows near (4, 4) and the two near (-1, 0).
  const rows = Float32Array.of(4, 4, 4, 5, 5, 4, -1, 0, -1, 1);
  const third = Math.fround(13 / 3);
  assert.deepEqual(Array.from(kMeans(rows, 5, 2, 2)), [third, third, -1, 0.5]);
  // As many means as rows: the rows.
  assert.deepEqual(Array.from(kMeans(Float32Array.of(1, 2, 3), 3, 1, 3)), [1, 2, 3]);
});

test("with a mean per region at full length, the cluster summary scores as the sketch does", () => {
  const rng = new Rng(3);
  const members = [
    { regions: 3, embed: 7 },
    { regions: 1, embed: 5 },
  ];
  const images = 20;
  const vs = members.map((m) =>
    Float32Array.from({ length: images * m.regions * m.embed }, () => rng.normal()),
  );
  const sketch = RegionSketch.fit(vs, images, members, 4);
  const sketches = sketch.encode(vs, ids(images));
  // A hole among the records.
  new DataView(sketches.buffer).setInt32(5 * sketch.recordBytes, NO_RECORD, true);
  const clusters = new ClusterSummary(sketch, 4, 3);
  assert.deepEqual(clusters.rows, [3, 1]);
  // id, 4 scales, then 3 x 4 + 1 x 4 values.
  assert.equal(clusters.recordBytes, 4 + 16 + 16);
  const records = clusters.encode(sketches, images);
  const view = new DataView(records.buffer);
  for (let k = 0; k < images; k++)
    assert.equal(view.getInt32(k * clusters.recordBytes, true), k === 5 ? NO_RECORD : k);
  const weights = [0.7, 1.3];
  const query = sketch.prepare(randomMemberQuery(members, 4, rng));
  const got = clusters.score(records, images, query, weights);
  const want = sketch.score(sketches, images, query, weights, false);
  Array.from(want.ids).forEach((id, k) => {
    assert.ok(Math.abs(got[id] - want.scores[k]) < 1e-4 * (1 + Math.abs(want.scores[k])), `${id}`);
  });
});

test("fewer means than regions: each word's best mean scores at most its best region, at least the regions' mean", () => {
  const rng = new Rng(5);
  const members = [{ regions: 8, embed: 6 }];
  const images = 30;
  const vs = [Float32Array.from({ length: images * 8 * 6 }, () => rng.normal())];
  const sketch = RegionSketch.fit(vs, images, members, 6);
  const sketches = sketch.encode(vs, ids(images));
  const records = new ClusterSummary(sketch, 6, 2).encode(sketches, images);
  const single = new ClusterSummary(sketch, 6, 1).encode(sketches, images);
  const query = sketch.prepare(randomMemberQuery(members, 3, rng));
  const got = new ClusterSummary(sketch, 6, 2).score(records, images, query, [1]);
  const mean = new ClusterSummary(sketch, 6, 1).score(single, images, query, [1]);
  const best = sketch.score(sketches, images, query, [1], false).scores;
  // Within the int8 rounding of the means (a few hundredths of the scores' spread here).
  for (let k = 0; k < images; k++) {
    assert.ok(got[k] <= best[k] + 0.05, `image ${k}: ${got[k]} > ${best[k]}`);
    assert.ok(got[k] >= mean[k] - 0.05, `image ${k}: ${got[k]} < ${mean[k]}`);
  }
  assert.ok(got.some((g, k) => g > mean[k] + 0.1));
});
