import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { saveCheckpoint } from "../../src/core/checkpoint.js";
import { Params } from "../../src/core/params.js";
import { Rng } from "../../src/core/rng.js";
import { Tensor } from "../../src/core/tensor.js";
import { ciderDAgainst, documentFrequencies } from "../../src/eval/cider.js";
import type { CaptionSplit } from "../../src/generate/caption-data.js";
import { SnippetConsensus } from "../../src/generate/snippet-consensus.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-consensus-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const DIM = 8;
const words = (s: string) => s.split(" ");
/**
 * Three kinds of region, 12 each, each strong on two dimensions of its own (dimensions 2 and 5
 * are noise only), each kind with its own snippets.
 */
const KINDS = [
  { axis: 0, snippets: ["a black dog", "the dog"] },
  { axis: 3, snippets: ["a red ball", "a ball"] },
  { axis: 6, snippets: ["green grass"] },
];

function code(rng: Rng, axis: number): number[] {
  return Array.from(
    { length: DIM },
    (_, j) => (j === axis || j === axis + 1 ? 5 : 0) + 1 + 0.3 * rng.normal(),
  );
}

function trainSplit(): CaptionSplit {
  const rng = new Rng(3);
  const targets = [];
  const rows: number[] = [];
  for (const [k, kind] of KINDS.entries()) {
    for (let i = 0; i < 12; i++) {
      targets.push({
        key: `im${k}-${i}.jpg#1`,
        filename: `im${k}-${i}.jpg`,
        region: 1,
        references: kind.snippets.map(words),
      });
      rows.push(...code(rng, kind.axis));
    }
  }
  return { targets, features: Float32Array.from(rows), sentences: [] };
}

/** Cosine nearest neighbours as the consensus defines them, computed in the full space. */
function bruteForce(c: SnippetConsensus, train: CaptionSplit, query: Float32Array, k: number) {
  const unit = (m: Float32Array) => {
    const out = Float32Array.from(m);
    for (let o = 0; o < out.length; o += DIM) {
      const n = Math.hypot(...out.subarray(o, o + DIM));
      for (let j = 0; j < DIM; j++) out[o + j] /= n;
    }
    return out;
  };
  const keys = unit(c.normalizer.apply(train.features));
  const q = unit(c.normalizer.apply(query));
  const mean = new Float64Array(DIM);
  for (let o = 0; o < keys.length; o += DIM) for (let j = 0; j < DIM; j++) mean[j] += keys[o + j];
  for (let j = 0; j < DIM; j++) mean[j] /= keys.length / DIM;
  const centred = (v: Float32Array) => Array.from(v, (x, j) => x - mean[j]);
  const cos = (a: number[], b: number[]) =>
    a.reduce((s, x, j) => s + x * b[j], 0) / (Math.hypot(...a) * Math.hypot(...b));
  const qc = centred(q);
  const sims = train.targets.map((_, t) => cos(qc, centred(keys.subarray(t * DIM, (t + 1) * DIM))));
  return Array.from(sims.keys())
    .sort((a, b) => sims[b] - sims[a])
    .slice(0, k);
}

test("with every principal direction kept, the neighbours are the full space's cosine ones", () => {
  const train = trainSplit();
  const c = SnippetConsensus.fit(train, DIM, DIM);
  assert.equal(c.regions, 36);
  const rng = new Rng(11);
  const query = Float32Array.from([...code(rng, 0), ...code(rng, 3), ...code(rng, 6)]);
  const near = c.neighbours(query, 5);
  for (let r = 0; r < 3; r++) {
    assert.deepEqual(
      Array.from(near[r]),
      bruteForce(c, train, query.subarray(r * DIM, (r + 1) * DIM), 5),
    );
    // All five of the region's own kind.
    for (const t of near[r]) assert.equal(Math.floor(t / 12), r);
  }
});

test("a phrase scores by CIDEr-D against the nearest regions' snippets, df from all train regions", () => {
  const train = trainSplit();
  const c = SnippetConsensus.fit(train, DIM, 2);
  const rng = new Rng(5);
  const query = Float32Array.from([...code(rng, 0), ...code(rng, 3)]);
  const candidates = ["a black dog", "a red ball", "grass"].map(words);
  const [dogRegion, ballRegion] = c.scores(query, [candidates, candidates], 4);
  assert.ok(dogRegion[0] > dogRegion[1] && dogRegion[0] > dogRegion[2], `${dogRegion}`);
  assert.ok(ballRegion[1] > ballRegion[0], `${ballRegion}`);
  // The value: ciderDAgainst the 4 neighbours' snippets (8 references), df over the 36 regions.
  const df = documentFrequencies(train.targets.map((t) => t.references));
  const refs = Array.from(c.neighbours(query.subarray(0, DIM), 4)[0]).flatMap(
    (t) => train.targets[t].references,
  );
  assert.deepEqual(dogRegion, ciderDAgainst(candidates, refs, df));
});

test("a region that is not finite has no neighbours and every phrase scores 0", () => {
  const c = SnippetConsensus.fit(trainSplit(), DIM, 3);
  const query = new Float32Array(DIM).fill(Number.NaN);
  assert.deepEqual(Array.from(c.neighbours(query, 3)[0]), []);
  assert.deepEqual(c.scores(query, [[words("a black dog")]], 3), [[0]]);
});

test("saved and loaded (float16), it finds the same neighbours and scores", () => {
  const c = SnippetConsensus.fit(trainSplit(), DIM, 4);
  const path = join(dir, "consensus.ckpt");
  c.save(path);
  const back = SnippetConsensus.load(path);
  assert.equal(back.projection.dims, 4);
  assert.deepEqual(back.snippets, c.snippets);
  const rng = new Rng(9);
  const query = Float32Array.from([...code(rng, 0), ...code(rng, 6)]);
  assert.deepEqual(
    back.neighbours(query, 6).map((n) => Array.from(n)),
    c.neighbours(query, 6).map((n) => Array.from(n)),
  );
  const candidates = [
    ["a", "black", "dog"],
    ["green", "grass"],
  ];
  const [a, b] = [
    back.scores(query, [candidates, candidates], 6),
    c.scores(query, [candidates, candidates], 6),
  ];
  assert.deepEqual(a, b);
});

test("a file that is not a consensus, or whose snippets are damaged, fails naming it", () => {
  const other = join(dir, "other.ckpt");
  const params = new Params();
  params.add("w", new Tensor(Float32Array.of(1), [1]));
  saveCheckpoint(other, { params, config: { kind: "imagesent-generator" } });
  assert.throws(() => SnippetConsensus.load(other), /other\.ckpt: not a snippet consensus file/);
  const c = SnippetConsensus.fit(trainSplit(), DIM, 2);
  const bad = join(dir, "bad.ckpt");
  const keep = new Params();
  keep.add("mean", new Tensor(c.projection.mean, [DIM]));
  keep.add("basis", new Tensor(c.projection.basis, [DIM, 2]));
  keep.add("keys", new Tensor(c.keys, [36, 2]));
  const snippets = c.snippets.map((s) => s.map((w) => w.join(" ")));
  snippets[4] = [];
  saveCheckpoint(bad, {
    params: keep,
    config: { kind: "imagesent-snippet-consensus", featureDim: DIM, dims: 2 },
    meta: { normalizer: c.normalizer.toJSON(), snippets },
  });
  assert.throws(() => SnippetConsensus.load(bad), /bad\.ckpt: .*meta\.snippets\[4\]/);
  writeFileSync(bad, "not a checkpoint");
  assert.throws(() => SnippetConsensus.load(bad), /bad\.ckpt/);
});

test("fitting needs regions with codes", () => {
  assert.throws(
    () => SnippetConsensus.fit({ targets: [], features: new Float32Array(0), sentences: [] }, DIM),
    /0 regions/,
  );
});
