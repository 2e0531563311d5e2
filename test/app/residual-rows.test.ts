import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ImageIndex } from "../../src/app/image-index.js";
import type { RegionCodec } from "../../src/app/region-codes.js";
import { RegionSketch } from "../../src/app/region-sketch.js";
import type { MemberQuery } from "../../src/app/region-vectors.js";
import { addRestored, residualRows, residualScores } from "../../src/app/residual-rows.js";
import { Rng } from "../../src/core/index.js";
import { InputError } from "../../src/errors.js";
import { randomMemberQuery } from "../support/member-queries.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-residual-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const members = [
  { regions: 4, embed: 24 },
  { regions: 1, embed: 16 },
];
const weights = [0.7, 0.4];

/**
 * `images` images whose region vectors lie near a space of 3 directions a member (as real
 * vectors lie near their top principal directions), plus noise of `noise`.
 */
function vectors(images: number, rng: Rng, noise = 0.05): Float32Array[] {
  return members.map((m) => {
    const basis = Array.from({ length: 3 }, () =>
      Float32Array.from({ length: m.embed }, () => rng.normal()),
    );
    const v = new Float32Array(images * m.regions * m.embed);
    for (let r = 0; r < images * m.regions; r++) {
      const c = [rng.normal(), rng.normal(), rng.normal()];
      for (let j = 0; j < m.embed; j++)
        v[r * m.embed + j] =
          2 + c[0] * basis[0][j] + c[1] * basis[1][j] + c[2] * basis[2][j] + noise * rng.normal();
    }
    return v;
  });
}

/** sum_m w_m sum_t max_i v^m_i . s^m_t, in doubles. */
function exact(vs: readonly Float32Array[], images: number, queries: readonly MemberQuery[]) {
  return Array.from({ length: images }, (_, k) => {
    let S = 0;
    members.forEach((m, i) => {
      for (let t = 0; t < queries[i].rows; t++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let r = 0; r < m.regions; r++) {
          let dot = 0;
          for (let j = 0; j < m.embed; j++)
            dot += vs[i][(k * m.regions + r) * m.embed + j] * queries[i].vectors[t * m.embed + j];
          best = Math.max(best, dot);
        }
        S += weights[i] * best;
      }
    });
    return S;
  });
}

/** `vectors` of `images` images, their fine sketches of 4 values (fitted to them) and residual rows. */
function residuals(images: number, rng: Rng) {
  const vs = vectors(images, rng);
  const fine = RegionSketch.fit(vs, images, members, 4);
  const records = fine.encode(
    vs,
    Int32Array.from({ length: images }, (_, k) => k),
  );
  return { vs, fine, records, rs: residualRows(vs, fine, records, images) };
}

test("residual rows are what the fine sketch leaves over: restored, they give the vectors back", () => {
  const images = 20;
  const { vs, fine, records, rs } = residuals(images, new Rng(3));
  members.forEach((_, i) => {
    let left = 0;
    let whole = 0;
    for (let j = 0; j < vs[i].length; j++) {
      left += Math.abs(rs[i][j]);
      whole += Math.abs(vs[i][j]);
    }
    // Three directions and the mean carry the vectors: what is left is the noise and rounding.
    assert.ok(left < 0.1 * whole, `member ${i}: ${left} of ${whole}`);
  });
  addRestored(rs, fine, records, images);
  members.forEach((_, i) => {
    for (let j = 0; j < vs[i].length; j++)
      assert.ok(Math.abs(rs[i][j] - vs[i][j]) < 1e-4, `member ${i} value ${j}`);
  });
});

test("residual scores are the fused S_kl of the vectors, and a row that is not a number ranks its image as NaN", () => {
  const rng = new Rng(4);
  const images = 12;
  const { vs, fine, records, rs } = residuals(images, rng);
  const ones = members.map((m) => new Float32Array(images * m.regions).fill(1));
  // Scaled by half, with scales of 2: the scale of each row multiplies its residual's product.
  const halves = rs.map((r) => r.map((x) => x / 2));
  const twos = members.map((m) => new Float32Array(images * m.regions).fill(2));
  const queries = randomMemberQuery(members, 3, rng);
  const want = exact(vs, images, queries);
  for (const [r, s] of [
    [rs, ones],
    [halves, twos],
  ] as const) {
    const got = residualScores(fine, records, r, s, images, queries, weights);
    for (let k = 0; k < images; k++)
      assert.ok(Math.abs(got[k] - want[k]) < 1e-3 * (1 + Math.abs(want[k])), `image ${k}`);
  }
  rs[0][5 * 4 * 24 + 7] = Number.NaN;
  const got = residualScores(fine, records, rs, ones, images, queries, weights);
  assert.ok(Number.isNaN(got[5]));
  assert.ok(got.every((x, k) => k === 5 || Number.isFinite(x)));
});

test("an int8-residual index scores its images as float32 does far more closely than an int8 one, at the same bytes", async () => {
  const rng = new Rng(6);
  const images = 300;
  // Near copies: what int8's rounding of whole vectors confuses.
  const vs = vectors(images, rng, 0.02);
  const queries = randomMemberQuery(members, 4, rng);
  const want = exact(vs, images, queries);
  const ids = Array.from({ length: images }, (_, k) => k);
  const errors = new Map<RegionCodec, number>();
  const sizes = new Map<RegionCodec, number>();
  for (const codec of ["int8", "int8-residual"] as const) {
    const index = await ImageIndex.openForWriting(join(dir, codec), {
      bundle: "test",
      bundleName: "test",
      vision: { encoder: "test", dim: 3, regionsPerImage: 4, detector: null },
      members,
      weights,
      codec,
      fineSketchDims: 4,
    });
    const box = { x1: 0, y1: 0, x2: 1, y2: 1 };
    await index.addEmbedded(
      ids.map((k) => ({
        key: `image-${k}`,
        size: -1,
        mtime: -1,
        width: 1,
        height: 1,
        regions: Array.from({ length: 4 }, () => ({ box, source: "whole" as const })),
        features: new Float32Array(12),
      })),
      vs,
      { members: members.map((m, i) => ({ ...m, weight: weights[i] })) } as never,
    );
    const stored = index.scoreStored(ids, queries, weights)!;
    assert.deepEqual(stored.ids, ids);
    errors.set(codec, Math.max(...want.map((w, k) => Math.abs(stored.scores[k] - w))));
    // The decoded vectors (similar images, the rebuild's source) are v, restored.
    const back = index.vectors([7, 3]);
    assert.deepEqual(back.ids, [7, 3]);
    for (let j = 0; j < 4 * 24; j++)
      assert.ok(Math.abs(back.vs[0][j] - vs[0][7 * 4 * 24 + j]) < 0.1, `${codec} value ${j}`);
    await index.close();
    sizes.set(codec, statSync(join(dir, codec, "vectors.bin")).size);
  }
  assert.ok(
    errors.get("int8-residual")! < errors.get("int8")! / 3,
    `int8 ${errors.get("int8")}, int8-residual ${errors.get("int8-residual")}`,
  );
  assert.equal(sizes.get("int8-residual"), sizes.get("int8"));
});

test("an int8-residual index without fine sketches is refused in one line", async () => {
  await assert.rejects(
    ImageIndex.openForWriting(join(dir, "no-fine"), {
      bundle: "test",
      bundleName: "test",
      vision: { encoder: "test", dim: 3, regionsPerImage: 4, detector: null },
      members,
      weights,
      codec: "int8-residual",
      fineSketchDims: 0,
    }),
    (e: Error) => e instanceof InputError && /int8-residual .*fine sketches/.test(e.message),
  );
});
