import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AlignmentFusion } from "../../src/align/score-fusion.js";
import { ImageIndex } from "../../src/app/image-index.js";
import type { ModelBundle } from "../../src/app/model-bundle.js";
import { RegionEmbedder } from "../../src/app/region-vectors.js";
import { rankingPlan, Searcher } from "../../src/app/searcher.js";
import { Rng } from "../../src/core/index.js";
import { randomMemberQuery } from "../support/member-queries.js";
import { tinyAlignmentModel } from "../support/tiny-alignment-model.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-search-rank-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("search ranks an image whose score is NaN last, not first, exactly, by sketch and through the summaries", async () => {
  const model = tinyAlignmentModel(1);
  const { featureDim, regions } = model.config;
  const fusion = new AlignmentFusion([{ model, checkpoint: "tiny", weight: 1 }]);
  const embedder = new RegionEmbedder(fusion, regions);
  const indexDir = join(dir, "index");
  const index = await ImageIndex.openForWriting(indexDir, {
    bundle: embedder.fingerprint(),
    bundleName: "tiny",
    vision: { encoder: "test", dim: featureDim, regionsPerImage: regions, detector: null },
    members: embedder.members.map((m) => ({ regions: m.regions, embed: m.model.config.embed })),
    weights: embedder.members.map((m) => m.weight),
  });
  const rng = new Rng(2);
  const box = { x1: 0, y1: 0, x2: 10, y2: 10 };
  await index.add(
    Array.from({ length: 5 }, (_, i) => {
      const features = Float32Array.from({ length: regions * featureDim }, () => rng.normal());
      // The first image: a comparator that reads NaN as "equal" kept it at the top.
      if (i === 0) features[3] = Number.NaN;
      return {
        key: `image-${i}`,
        size: -1,
        mtime: -1,
        width: 10,
        height: 10,
        regions: Array.from({ length: regions }, () => ({ box, source: "whole" as const })),
        features,
      };
    }),
    embedder,
  );
  await index.close();
  const bundle = { alignment: model, search: fusion, dir: undefined };
  const searcher = Searcher.open(bundle as unknown as ModelBundle, indexDir);
  try {
    for (const ranking of [
      { exactBelow: 1000 },
      { exactBelow: 0 },
      { exactBelow: 0, scanBelow: 0, shortlist: 5 },
    ]) {
      const { hits } = await searcher.search("a dog runs on the beach", 5, {
        withPhrases: 0,
        ...ranking,
      });
      assert.equal(hits.length, 5);
      assert.equal(hits[4].image, "image-0");
      assert.ok(Number.isNaN(hits[4].score));
      for (let i = 1; i < 4; i++) assert.ok(hits[i - 1].score >= hits[i].score, `hit ${i}`);
      const four = await searcher.search("a dog", 4, { withPhrases: 0, ...ranking });
      assert.ok(!four.hits.some((h) => h.image === "image-0"));
    }
  } finally {
    await searcher.close();
  }
});

test("scoreEach gives each query the fused S_kl that score gives it alone, the sum over words of the best region's dot product", () => {
  const model = tinyAlignmentModel(3);
  const { featureDim, regions, embed } = model.config;
  const fusion = new AlignmentFusion([
    { model, checkpoint: "a", weight: 0.5 },
    { model: tinyAlignmentModel(4), checkpoint: "b", weight: 2 },
  ]);
  const embedder = new RegionEmbedder(fusion, regions);
  const rng = new Rng(5);
  const images = 4;
  const vs = embedder.embed(
    Float32Array.from({ length: images * regions * featureDim }, () => rng.normal()),
    images,
  );
  const members = embedder.members.map(() => ({ embed }));
  const queries = [2, 1, 3].map((rows) => randomMemberQuery(members, rows, rng));
  const each = embedder.scoreEach(vs, images, queries);
  queries.forEach((q, n) => {
    const alone = embedder.score(vs, images, q);
    for (let k = 0; k < images; k++) {
      let want = 0;
      embedder.members.forEach((m, i) => {
        for (let t = 0; t < q[i].rows; t++) {
          let best = Number.NEGATIVE_INFINITY;
          for (let r = 0; r < m.regions; r++) {
            let dot = 0;
            for (let j = 0; j < embed; j++)
              dot += vs[i][(k * m.regions + r) * embed + j] * q[i].vectors[t * embed + j];
            best = Math.max(best, dot);
          }
          want += m.weight * best;
        }
      });
      assert.ok(Math.abs(each[n][k] - want) < 1e-4 * (1 + Math.abs(want)), `query ${n} image ${k}`);
      assert.ok(Math.abs(each[n][k] - alone[k]) < 1e-5 * (1 + Math.abs(want)));
    }
  });
});

test("rankingPlan sizes each stage from the index's size: shortlists and the sketches read grow with it", () => {
  // 15,000 images (not past scanBelow): every sketch, the best 800 by fine sketch, 200 exactly.
  assert.deepEqual(rankingPlan(15_000, true, 10), {
    shortlist: undefined,
    sketched: 5000,
    refine: 800,
    exact: 200,
    everything: false,
  });
  // 10^5: a shortlist of 10,000 (5% is 5,000); 0.4 of it is 4,000, fewer than `sketched`.
  assert.deepEqual(rankingPlan(100_000, true, 10), {
    shortlist: 10_000,
    sketched: 5000,
    refine: 800,
    exact: 200,
    everything: false,
  });
  // 10^6: 5% is 50,000; 50,000 / 80 = 625 exactly, 4 x 625 = 2,500 by fine sketch, 0.4 x
  // 50,000 = 20,000 sketches read.
  assert.deepEqual(rankingPlan(1_000_000, true, 10), {
    shortlist: 50_000,
    sketched: 20_000,
    refine: 2500,
    exact: 625,
    everything: false,
  });
  // Without fine sketches: 50,000 / 50 = 1,000 exactly.
  assert.deepEqual(rankingPlan(1_000_000, false, 10), {
    shortlist: 50_000,
    sketched: 20_000,
    refine: undefined,
    exact: 1000,
    everything: false,
  });
  // Without the share, `sketched` alone; never fewer than go on to the fine sketches.
  assert.equal(rankingPlan(1_000_000, true, 10, { sketchedShare: 0 }).sketched, 5000);
  assert.equal(rankingPlan(1_000_000, true, 10, { sketched: 1, sketchedShare: 0 }).sketched, 2500);
  // k above the candidates: k exactly, 4k by fine sketch.
  assert.deepEqual(rankingPlan(1_000_000, true, 3000), {
    shortlist: 50_000,
    sketched: 20_000,
    refine: 12_000,
    exact: 3000,
    everything: false,
  });
  // Small indexes are scored exactly throughout, fine sketches or not.
  assert.deepEqual(rankingPlan(500, true, 10), {
    shortlist: undefined,
    sketched: 5000,
    refine: undefined,
    exact: 200,
    everything: true,
  });
});
