import assert from "node:assert/strict";
import { test } from "node:test";
import { countPhrases, emptyCounts, rate } from "../../src/mrf/phrase-accuracy.js";

// "a big red circle left of a small blue square": circle is object 0, square object 1.
const refs = [-1, 0, 0, 0, -1, -1, -1, 1, 1, 1];
const objects = [
  { box: { x1: 10, y1: 10, x2: 60, y2: 60 } },
  { box: { x1: 120, y1: 100, x2: 200, y2: 180 } },
];
const regionBoxes = [
  { x1: 0, y1: 0, x2: 224, y2: 224 }, // 0: whole image
  { x1: 12, y1: 8, x2: 62, y2: 58 }, // 1: on the circle (IoU ~0.85)
  { x1: 118, y1: 104, x2: 196, y2: 184 }, // 2: on the square
  { x1: 10, y1: 10, x2: 110, y2: 110 }, // 3: loose circle box (IoU 0.25)
];

test("a perfect alignment is right in every view; non-naming segments are not scored", () => {
  const counts = countPhrases({
    objects,
    refs,
    regionBoxes,
    segments: [
      { start: 0, end: 4, region: 1, score: 1 },
      { start: 4, end: 7, region: 0, score: 0.1 },
      { start: 7, end: 10, region: 2, score: 1 },
    ],
  });
  assert.deepEqual(counts, {
    segments: { correct: 2, total: 2 },
    phrases: { correct: 2, total: 2 },
    words: { correct: 6, total: 6 },
  });
});

test("fragmented, merged and misplaced phrases count against each view as documented", () => {
  const counts = countPhrases({
    objects,
    refs,
    regionBoxes,
    segments: [
      // "a big" on the loose box: names the circle, wrong box.
      { start: 0, end: 2, region: 3, score: 1 },
      // "red circle left of a small": the circle's region, names circle 2x and square 1x.
      { start: 2, end: 8, region: 1, score: 1 },
      // "blue square" on the square's region.
      { start: 8, end: 10, region: 2, score: 1 },
    ],
  });
  assert.deepEqual(counts.segments, { correct: 2, total: 3 });
  // The circle's phrase is split over two segments; the square's is split too.
  assert.deepEqual(counts.phrases, { correct: 0, total: 2 });
  // big: wrong; red, circle: right; small: on the circle's box, wrong; blue, square: right.
  assert.deepEqual(counts.words, { correct: 4, total: 6 });
});

test("one region for the whole sentence is right for one object at most", () => {
  const counts = countPhrases({
    objects,
    refs,
    regionBoxes,
    segments: [{ start: 0, end: 10, region: 2, score: 1 }],
  });
  // A 3-3 tie names the first object mentioned, the circle, so the segment is wrong.
  assert.deepEqual(counts.segments, { correct: 0, total: 1 });
  assert.deepEqual(counts.phrases, { correct: 1, total: 2 });
  assert.deepEqual(counts.words, { correct: 3, total: 6 });
});

test("counts accumulate over sentences and rate divides them", () => {
  const into = emptyCounts();
  const segments = [{ start: 0, end: 10, region: 1, score: 1 }];
  countPhrases({ objects, refs, regionBoxes, segments }, into);
  countPhrases({ objects, refs, regionBoxes, segments }, into);
  assert.deepEqual(into.phrases, { correct: 2, total: 4 });
  assert.equal(rate(into.phrases), 0.5);
  assert.equal(rate({ correct: 0, total: 0 }), 0);
});
