import assert from "node:assert/strict";
import { test } from "node:test";
import { fromFloat16 } from "../../src/core/float16.js";
import { groundSpans } from "../../src/mrf/phrase-grounding.js";
import {
  choleskySolve,
  fitWordProbe,
  PROBE_RIDGE,
  packWordProbe,
  probeScores,
  unpackWordProbe,
} from "../../src/mrf/word-probe.js";
import type { Region } from "../../src/vision/image.js";

const close = (a: ArrayLike<number>, b: readonly number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (const [i, v] of b.entries()) assert.ok(Math.abs(a[i] - v) < tol, `${i}: ${a[i]} vs ${v}`);
};

test("choleskySolve solves a symmetric positive definite system by hand", () => {
  // [[4, 2], [2, 3]] x = [2, 1]: the inverse is [[3, -2], [-2, 4]] / 8, so x = [0.5, 0].
  const b = Float64Array.of(2, 1);
  choleskySolve(Float64Array.of(4, 2, 2, 3), b, 2, 1);
  close(b, [0.5, 0]);
  // Two right-hand sides at once (rows of B): columns [2, 1] and [4, 2] -> [0.5, 0] and [1, 0].
  const two = Float64Array.of(2, 4, 1, 2);
  choleskySolve(Float64Array.of(4, 2, 2, 3), two, 2, 2);
  close(two, [0.5, 1, 0, 0]);
  assert.throws(
    () => choleskySolve(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1), 2, 1),
    /not positive definite \(row 1\)/,
  );
});

test("fitWordProbe is the ridge regression of the word indicators on the centred codes", () => {
  const images = [
    { code: Float32Array.of(1, 0), captions: [["a", "dog"]] },
    {
      code: Float32Array.of(0, 1),
      captions: [
        ["a", "cat"],
        ["a", "cat"],
      ],
    },
  ];
  const probe = fitWordProbe(images, 2, 1);
  assert.deepEqual(probe.words, ["a", "dog", "cat"]);
  // X_c = [[.5, -.5], [-.5, .5]], X_cᵀX_c = [[.5, -.5], [-.5, .5]] (trace 1, λ = PROBE_RIDGE / 2);
  // X_cᵀ y_dog = [.5, -.5], an eigenvector of eigenvalue 1, so w_dog = [.5, -.5] / (1 + λ);
  // "a" is said of both images: w = 0.
  const l = PROBE_RIDGE / 2;
  // The weights are kept at fp16 (11 significant bits).
  const column = (k: number) => [fromFloat16(probe.weights[k]), fromFloat16(probe.weights[3 + k])];
  close(column(0), [0, 0]);
  close(column(1), [0.5 / (1 + l), -0.5 / (1 + l)], 5e-4);
  close(column(2), [-0.5 / (1 + l), 0.5 / (1 + l)], 5e-4);
  // Words of fewer images than the minimum get no probe.
  assert.deepEqual(fitWordProbe(images, 2, 2).words, ["a"]);
  assert.deepEqual(fitWordProbe([], 2).words, []);
});

test("probeScores scores each region's code with the last word's column; unknown words none", () => {
  const probe = fitWordProbe(
    [
      { code: Float32Array.of(1, 0), captions: [["dog"]] },
      { code: Float32Array.of(0, 1), captions: [["cat"]] },
    ],
    2,
    1,
  );
  // Region 0 looks like the dog image, region 1 like the cat image.
  const codes = Float32Array.of(0.9, 0.1, 0.2, 0.8);
  const dog = probeScores(probe, codes, 2, ["the", "dog"]);
  assert.ok(dog && dog[0] > dog[1]);
  const cat = probeScores(probe, codes, 2, ["a", "cat"]);
  assert.ok(cat && cat[1] > cat[0]);
  assert.equal(probeScores(probe, codes, 2, ["a", "horse"]), null);
  const back = unpackWordProbe(packWordProbe(probe), "file.json", { path: "probe" });
  assert.deepEqual(back.words, probe.words);
  assert.deepEqual(back.weights, probe.weights);
  const infinite = Buffer.from(Uint16Array.of(0, 0x7c00, 0, 0).buffer).toString("base64");
  assert.throws(
    () =>
      unpackWordProbe({ ...packWordProbe(probe), weights: infinite }, "file.json", {
        path: "probe",
      }),
    /file.json: probe.weights: weight 1 is not finite/,
  );
  assert.throws(
    () => unpackWordProbe({ ...packWordProbe(probe), dim: 0 }, "file.json", { path: "probe" }),
    /file.json: probe.dim/,
  );
});

test("groundSpans adds the probe's z-score: the region whose code looks like the word wins", () => {
  const probe = fitWordProbe(
    [
      { code: Float32Array.of(1, 0), captions: [["dog"]] },
      { code: Float32Array.of(0, 1), captions: [["cat"]] },
    ],
    2,
    1,
  );
  const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });
  // Two boxes of one size at one distance from the centre: only the probe tells them apart.
  const regions: Region[] = [
    { box: box(0, 25, 50, 75), source: "fallback" },
    { box: box(50, 25, 100, 75), source: "fallback" },
  ];
  const codes = Float32Array.of(0.1, 0.9, 0.9, 0.1);
  const scores = { matrix: { scores: new Float32Array(0), regions: 2, words: 0 }, positions: [] };
  const knowledge = {
    association: { classes: [], words: new Map() },
    worn: new Map(),
    several: new Map(),
    place: new Map(),
    probe,
  };
  const tokens = ["a", "dog"];
  const spans = [{ start: 0, end: 2 }];
  assert.equal(groundSpans(tokens, regions, scores, spans, knowledge, null)[0].region, 0);
  assert.equal(groundSpans(tokens, regions, scores, spans, knowledge, codes)[0].region, 1);
  assert.equal(groundSpans(["a", "cat"], regions, scores, spans, knowledge, codes)[0].region, 0);
  assert.throws(
    () => groundSpans(tokens, regions, scores, spans, knowledge, codes.subarray(0, 3)),
    /3 code values for 2 regions of 2/,
  );
});
