import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { AlignmentFusion } from "../../src/align/score-fusion.js";
import { main } from "../../src/cli/main.js";
import { Vocabulary } from "../../src/data/vocabulary.js";
import { InputError } from "../../src/errors.js";
import {
  loadSplitRerank,
  repeatsWordPair,
  rerankCaptions,
  rerankWithAlignment,
} from "../../src/generate/alignment-rerank.js";
import { loadCaptionData } from "../../src/generate/caption-data.js";
import type { Caption } from "../../src/generate/decoding.js";
import { TINY_WORDS, tinyAlignmentModel } from "../support/tiny-alignment-model.js";
import { tinyWorld } from "./fixtures.js";

const caption = (words: number[], logProb: number): Caption => ({
  words,
  logProb,
  finished: true,
});

test("rerankCaptions orders by logProb / length^alpha + weight x image score, by hand", () => {
  // Tokens are words + END: 2, 4 and 3. At alpha 1 the rank scores are -1, -0.5 and -0.5.
  const beam = [caption([1], -2), caption([1, 2, 3], -2), caption([4, 5], -1.5)];
  const S = [0.1, 0.4, 1.5];
  // weight 0: the beam's own order by rank score (ties keep the beam's order).
  assert.deepEqual(rerankCaptions(beam, S, 0, 1), [beam[1], beam[2], beam[0]]);
  // weight 1: -0.9, -0.1, 1.0.
  assert.deepEqual(rerankCaptions(beam, S, 1, 1), [beam[2], beam[1], beam[0]]);
  // alpha 0 ranks logProb: -2 + 0.5 x 0.1 = -1.95, -2 + 0.2 = -1.8, -1.5 + 0.75 = -0.75.
  assert.deepEqual(rerankCaptions(beam, S, 0.5, 0), [beam[2], beam[1], beam[0]]);
  assert.throws(() => rerankCaptions(beam, [1, 2], 1, 1), /2 image scores for 3 captions/);
});

test("captions that repeat a word pair go after the others, however well they score", () => {
  assert.equal(repeatsWordPair([1, 2, 3, 1, 2]), true);
  assert.equal(repeatsWordPair([1, 1, 1]), true);
  assert.equal(repeatsWordPair([1, 2, 2, 1]), false);
  assert.equal(repeatsWordPair([]), false);
  // "a black hat and a black hat" (1 2 3 4 1 2 3) against "a black hat" (1 2 3).
  const beam = [caption([1, 2, 3, 4, 1, 2, 3], -3), caption([1, 2, 3], -2), caption([5, 6], -9)];
  assert.deepEqual(rerankCaptions(beam, [9, 1, 0], 1, 0), [beam[1], beam[2], beam[0]]);
});

test("rerankWithAlignment scores each caption's words against the image's regions", () => {
  const model = tinyAlignmentModel(4, { featureDim: 6, regions: 3 });
  const fusion = new AlignmentFusion([{ model, checkpoint: "tiny.ckpt", weight: 1 }]);
  // The generator's vocabulary orders the words differently from the alignment model's.
  const vocabulary = Vocabulary.fromSentences([[...TINY_WORDS].reverse()], { minCount: 1 });
  const ids = (s: string) => vocabulary.encode(s.split(" "));
  const sentences = ["a dog runs on the beach", "a red ball", "the dog", "a dog on the red ball"];
  const beam = sentences.map((s, i) => caption(ids(s), -1 - i * 1e-3));
  const features = Float32Array.from({ length: 3 * 6 }, (_, i) => Math.sin(1.7 * i));
  const S = fusion.scores(
    features,
    1,
    sentences.map((s) => s.split(" ")),
  );
  const byScore = [...S.keys()].sort((a, b) => S[b] - S[a]).map((i) => beam[i]);
  assert.notDeepEqual(byScore, beam, "the image scores order the beam differently");
  // A weight that swamps the nearly equal logProbs orders by S alone; weight 0 keeps the beam.
  const rerank = (weight: number) =>
    rerankWithAlignment(beam, vocabulary, features, { scorer: fusion, weight }, 0);
  assert.deepEqual(rerank(1e6), byScore);
  assert.deepEqual(rerank(0), beam);
  assert.throws(
    () =>
      rerankWithAlignment(beam, vocabulary, features.subarray(1), { scorer: fusion, weight: 1 }, 0),
    (e: unknown) =>
      e instanceof InputError && /17 feature values are not whole 6-d/.test(e.message),
  );
});

test("loadSplitRerank gives each target its image's regions, in target order", () => {
  const world = tinyWorld();
  const model = tinyAlignmentModel(2, { featureDim: 8, regions: 2 });
  const fusion = new AlignmentFusion([{ model, checkpoint: "tiny.ckpt", weight: 1 }]);
  const vocabulary = Vocabulary.fromSentences([TINY_WORDS], { minCount: 1 });
  const data = loadCaptionData(world.dataset, world.store, vocabulary, { mode: "fullframe" });
  const targets = [...data.splits.test.targets].reverse();
  const r = loadSplitRerank(fusion, world.store, world.dataset, "test", targets);
  assert.equal(r.regions, 2);
  targets.forEach((t, i) => {
    const stored = world.store.get(t.filename)!.features;
    assert.deepEqual(r.features.subarray(i * 16, (i + 1) * 16), stored.subarray(0, 16));
  });
  const wide = new AlignmentFusion([
    { model: tinyAlignmentModel(2, { featureDim: 6 }), checkpoint: "wide.ckpt", weight: 1 },
  ]);
  assert.throws(
    () => loadSplitRerank(wide, world.store, world.dataset, "test", targets),
    /8-d features, the alignment model wide\.ckpt takes 6-d/,
  );
});

test("eval-gen --rerank adds reranked rows; at weight 0 they are the plain beam's", async () => {
  const world = tinyWorld();
  const alignment = join(world.dir, "align.ckpt");
  tinyAlignmentModel(3, { featureDim: 8, regions: 3 }).save(alignment);
  const out = join(world.dir, "gen");
  const common = ["--dataset", world.datasetPath, "--features", world.storeDir];
  const errors: string[] = [];
  const [error, log] = [console.error, console.log];
  console.error = (line: string) => errors.push(String(line));
  console.log = () => {};
  try {
    const small = ["--hidden", "8", "--embed", "4", "--min-count", "1", "--epochs", "2"];
    assert.equal(await main(["train-gen", ...common, "--out", out, ...small]), 0);
    const markdown = join(world.dir, "captions.md");
    const evalArgs = ["eval-gen", "--model", join(out, "best.ckpt"), ...common, "--beam", "3"];
    const rerank = ["--rerank", alignment, "--rerank-beam", "3", "--rerank-weight", "0,2"];
    assert.equal(await main([...evalArgs, ...rerank, "--markdown", markdown]), 0);
    const text = readFileSync(markdown, "utf8");
    const row = (name: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`| ours: RNN, ${name} |`));
      assert.ok(line, `row ${name}`);
      return line.slice(line.indexOf(name) + name.length);
    };
    assert.equal(
      row("beam 3, length norm 0.7, reranked (weight 0)"),
      row("beam 3, length norm 0.7"),
    );
    row("beam 3, length norm 0.7, reranked (weight 2)");
    assert.match(text, /The reranked rows decode a wider beam .* `[^`]*align\.ckpt`/);

    assert.equal(await main([...evalArgs, "--rerank-weight", "1"]), 2);
    assert.equal(await main([...evalArgs, "--rerank", alignment, "--rerank-beam", "1"]), 2);
    assert.match(errors.join("\n"), /--rerank-weight and --rerank-beam need --rerank MODEL/);
    assert.match(
      errors.join("\n"),
      /--rerank-beam: expected comma-separated integers >= 2, got "1"/,
    );
  } finally {
    console.error = error;
    console.log = log;
  }
});
