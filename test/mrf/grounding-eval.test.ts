import assert from "node:assert/strict";
import test from "node:test";
import { Rng } from "../../src/core/rng.js";
import type { EntityAnnotation } from "../../src/data/flickr30k-entities.js";
import {
  bestRegion,
  type Chooser,
  countGrounding,
  emptyGroundingCounts,
  type GroundingImage,
  type GroundingPhrase,
  groundablePhrases,
  largestRegion,
  unionBox,
} from "../../src/mrf/grounding-eval.js";
import { groundingTable } from "../../src/mrf/grounding-report.js";
import { rate } from "../../src/mrf/phrase-accuracy.js";
import type { SentenceScores } from "../../src/mrf/phrase-alignment.js";
import { iou } from "../../src/vision/boxes.js";
import type { Box, Region } from "../../src/vision/image.js";

const box = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });

test("the union of a phrase's boxes, and its IoU with a region", () => {
  const u = unionBox([box(10, 20, 30, 40), box(25, 5, 50, 35)]);
  assert.deepEqual(u, box(10, 5, 50, 40));
  // A region (0,0,40,40): intersection 30 x 35 = 1050, union 1600 + 40 x 35 - 1050 = 1950.
  assert.equal(iou(box(0, 0, 40, 40), u), 1050 / 1950);
  assert.throws(() => unionBox([]), RangeError);
});

test("the protocol leaves out notvisual phrases and chains without a box, and scales the rest", () => {
  const annotation: EntityAnnotation = {
    width: 200,
    height: 100,
    boxes: new Map([["5", [box(20, 10, 100, 60), box(0, 50, 40, 100)]]]),
    scene: new Set(["7"]),
    noBox: new Set(["7"]),
  };
  const leftOut = { notVisual: 0, noBox: 0 };
  const phrases = groundablePhrases(
    [
      { chain: "5", types: ["people", "other"], start: 0, end: 2 },
      { chain: "0", types: ["notvisual"], start: 3, end: 4 },
      { chain: "7", types: ["scene"], start: 5, end: 7 },
    ],
    annotation,
    100,
    200,
    leftOut,
  );
  // Union (0,10)-(100,100) in 200x100 pixels, stored at 100x200: x halves, y doubles.
  assert.deepEqual(phrases, [
    { start: 0, end: 2, types: ["people", "other"], truth: box(0, 20, 50, 200) },
  ]);
  assert.deepEqual(leftOut, { notVisual: 1, noBox: 1 });
});

test("bestRegion sums the phrase's columns; no columns gives region 0; largestRegion filters", () => {
  // 3 regions x 3 words: column sums over words 0 and 2 are 1, 5, 5 -> region 1 (first of a tie).
  const scores = Float32Array.from([0, 9, 1, 2, -9, 3, 4, 0, 1]);
  assert.equal(bestRegion(scores, 3, 3, [0, 2]), 1);
  assert.equal(bestRegion(scores, 3, 3, [1]), 0);
  assert.equal(bestRegion(scores, 3, 3, []), 0);
  const regions: Region[] = [
    { box: box(0, 0, 10, 10), source: "whole" },
    { box: box(0, 0, 5, 5), source: "detection", label: "dog" },
    { box: box(0, 0, 2, 8), source: "fallback" },
  ];
  assert.equal(
    largestRegion(regions, () => true),
    0,
  );
  assert.equal(
    largestRegion(regions, (r) => r.source !== "whole"),
    1,
  );
  assert.equal(
    largestRegion(regions, (r) => r.label === "cat"),
    undefined,
  );
});

/** A sentence's score matrix from its columns (each a region's scores) and their token positions. */
function scored(columns: number[][], positions: number[], regions: number): SentenceScores {
  const words = columns.length;
  const scores = new Float32Array(regions * words);
  columns.forEach((col, t) => {
    col.forEach((v, i) => {
      scores[i * words + t] = v;
    });
  });
  return { matrix: { scores, regions, words }, positions };
}

const REGIONS: Region[] = [
  { box: box(0, 0, 100, 100), source: "whole" }, // area 10000
  { box: box(10, 10, 50, 90), source: "detection", label: "person", score: 0.9 }, // 3200
  { box: box(60, 50, 90, 80), source: "detection", label: "dog", score: 0.8 }, // 900
  { box: box(0, 0, 60, 60), source: "fallback" }, // 3600: the largest but the whole image
  { box: box(20, 60, 40, 80), source: "detection", label: "car", score: 0.5 }, // 400
];

const phrase = (start: number, end: number, types: string[], truth: Box): GroundingPhrase => ({
  start,
  end,
  types,
  truth,
});

/**
 * Five phrases over three sentences, each chooser's outcome worked out by hand:
 *
 * P1 "a man" (people, on the person box). Columns: "a" scores region 3 at 5, "man" region 1 at 2
 *    and region 3 at 1: the sum favours region 3 (IoU 2000/4800 < 0.5, wrong), the MRF at beta 0
 *    puts "man" on region 1 (right).
 * P2 "a dog" (animals, on the dog box): sum 3 on region 2 (right), the MRF too.
 * P3 "the park" (scene, nearly the whole image): no known word, so best and MRF fall back to the
 *    whole image (right); the largest region (3600 / 9500) is not.
 * P4 "ride" (vehicles, on the car box): region 4 scores 1, the rest 0 (right); the type rule
 *    takes the car, the word rule finds no class in "ride" and takes the largest region (wrong).
 * P5 "sky" (other and scene, a box no region covers): wrong for every chooser.
 */
const IMAGE: GroundingImage = {
  regions: REGIONS,
  codes: null,
  sentences: [
    {
      tokens: ["a", "man", "with", "a", "dog"],
      scores: scored(
        [
          [0, 0, 0, 5, 0],
          [0, 2, 0, 1, 0],
          [0, 0, 0, 1, 0],
          [0, 0, 3, 0, 0],
        ],
        [0, 1, 3, 4],
        5,
      ),
      phrases: [
        phrase(0, 2, ["people"], box(10, 10, 50, 90)),
        phrase(3, 5, ["animals"], box(60, 50, 90, 80)),
      ],
    },
    {
      tokens: ["the", "park", "ride"],
      scores: scored([[0, 0, 0, 0, 1]], [2], 5),
      phrases: [
        phrase(0, 2, ["scene"], box(0, 0, 100, 95)),
        phrase(2, 3, ["vehicles"], box(20, 60, 40, 80)),
      ],
    },
    {
      tokens: ["sky", "above"],
      scores: scored(
        [
          [1, 0, 0, 0, 0],
          [1, 0, 0, 0, 0],
        ],
        [0, 1],
        5,
      ),
      phrases: [phrase(0, 1, ["other", "scene"], box(70, 0, 100, 20))],
    },
  ],
};

test("each chooser on a hand-made image, overall and by phrase type", () => {
  const counts = emptyGroundingCounts(0);
  countGrounding(IMAGE, new Rng(1), counts);
  const correct = (c: Chooser) => counts.choosers[c].overall.correct;
  const expected: Record<Exclude<Chooser, "random" | "learned">, number> = {
    best: 3, // P2 P3 P4
    mrf: 4, // P1 P2 P3 P4
    whole: 1, // P3
    largest: 0,
    typeRule: 3, // P1 P2 P4
    wordLabel: 2, // P1 P2
    upperBound: 4, // all but P5
  };
  for (const [c, n] of Object.entries(expected)) {
    assert.equal(correct(c as Chooser), n, c);
    assert.equal(counts.choosers[c as Chooser].overall.total, 5, c);
  }
  assert.equal(counts.choosers.random.overall.total, 5);
  // Without a word-class association the learned row is not counted.
  assert.equal(counts.choosers.learned.overall.total, 0);
  // P5 is both other and scene: scene has P3 (right) and P5 (wrong).
  assert.deepEqual(counts.choosers.best.byType, {
    people: { correct: 0, total: 1 },
    animals: { correct: 1, total: 1 },
    scene: { correct: 1, total: 2 },
    vehicles: { correct: 1, total: 1 },
    other: { correct: 0, total: 1 },
  });
  assert.deepEqual(counts.choosers.mrf.byType.people, { correct: 1, total: 1 });
  assert.deepEqual(counts.detectorRegions, { correct: 3, total: 5 });
  assert.equal(counts.images, 1);
  assert.equal(counts.sentences, 3);
  assert.equal(counts.regions, 5);
  // Beta 0 splits "a man" and "a dog" word by word, and "sky above" is one segment longer
  // than "sky"; only "ride" is a segment of its own.
  assert.deepEqual(counts.oneSegment, { correct: 1, total: 5 });
  const table = groundingTable(counts).join("\n");
  assert.match(table, /\| the best of the 5 regions for the phrase [^|]*\| 60\.0% \| 0\.0% \|/);
  assert.match(table, /\| phrases \| 5 \| 1 \| 0 \| 0 \| 1 \| 1 \| 0 \| 2 \| 1 \|/);
  assert.match(table, /Regions from the detector: 60\.0% of 5/);
});

test("a phrase is one MRF segment when its known words are exactly a segment's, which beta decides", () => {
  // "dog" prefers region 2, "runs" region 1 (regions 0 to 3).
  const image: GroundingImage = {
    regions: REGIONS.slice(0, 4),
    codes: null,
    sentences: [
      {
        tokens: ["dog", "runs"],
        scores: scored(
          [
            [0, 0, 3, 0],
            [0, 1, 0, 0],
          ],
          [0, 1],
          4,
        ),
        phrases: [phrase(0, 1, ["animals"], box(60, 50, 90, 80))],
      },
    ],
  };
  const at = (beta: number) => {
    const counts = emptyGroundingCounts(beta);
    countGrounding(image, new Rng(1), counts);
    return counts;
  };
  // Beta 0: "dog" alone on region 2. Beta 5: both words on region 2 (3 + 0 + 5 > 3 + 1), so the
  // phrase is only part of a segment, still on the dog.
  assert.deepEqual(at(0).oneSegment, { correct: 1, total: 1 });
  assert.deepEqual(at(5).oneSegment, { correct: 0, total: 1 });
  assert.equal(at(5).choosers.mrf.overall.correct, 1);
});

test("the random chooser is seeded and right about as often as one region in R is", () => {
  const R = 4;
  const regions: Region[] = [
    { box: box(0, 0, 100, 100), source: "whole" },
    { box: box(0, 0, 10, 10), source: "fallback" },
    { box: box(50, 50, 60, 60), source: "fallback" },
    { box: box(20, 0, 40, 20), source: "fallback" },
  ];
  const sentences = Array.from({ length: 400 }, () => ({
    tokens: ["x"],
    scores: scored([[0, 0, 0, 0]], [0], R),
    phrases: [phrase(0, 1, ["other"], box(50, 50, 60, 60))],
  }));
  const run = (seed: number) => {
    const counts = emptyGroundingCounts(1);
    countGrounding({ regions, codes: null, sentences }, new Rng(seed), counts);
    return counts.choosers.random.overall;
  };
  const a = run(7);
  assert.deepEqual(run(7), a);
  assert.notDeepEqual(run(8), a);
  assert.ok(Math.abs(rate(a) - 1 / R) < 0.06, `random accuracy ${rate(a)}`);
  assert.equal(run(7).total, 400);
});

test("scores for another number of regions than the image has are refused", () => {
  const image: GroundingImage = {
    regions: REGIONS,
    codes: null,
    sentences: [{ tokens: ["a"], scores: scored([[1, 2]], [0], 2), phrases: [] }],
  };
  assert.throws(() => countGrounding(image, new Rng(1), emptyGroundingCounts(1)), /2 regions/);
});
