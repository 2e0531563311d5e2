import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type EntityAnnotation,
  type EntityImage,
  parseEntitySentence,
} from "../../src/data/flickr30k-entities.js";
import { entityRegions } from "../../src/generate/entity-regions.js";

/** Five marked captions of one image, as a Sentences file has them. */
const LINES = [
  "[/EN#1/people A man] in [/EN#2/clothing a red jacket] walks [/EN#3/animals two dogs] .",
  "[/EN#1/people The man] and [/EN#3/animals his dogs] cross [/EN#4/scene the street] .",
  "[/EN#5/people Someone] walks outside [/EN#0/notvisual today] .",
  "[/EN#1/people A man] walks [/EN#3/animals the dogs] while [/EN#1/people the man] smiles .",
  "[/EN#6/people A person] in [/EN#2/clothing red] .",
];

function image(annotation: EntityAnnotation): EntityImage {
  return {
    image: { filename: "42_ab.jpg", id: 7, split: "val", sentences: [] },
    flickr30kId: "42",
    annotation,
    sentences: LINES.map((line, i) => ({
      ...parseEntitySentence(line, `42.txt:${i + 1}`),
      sentenceId: null,
    })),
  };
}

test("one region per boxed chain, its references every phrase of the chain across the captions", () => {
  const regions = entityRegions(
    image({
      width: 500,
      height: 375,
      boxes: new Map([
        ["1", [{ x1: 10, y1: 20, x2: 110, y2: 300 }]],
        ["2", [{ x1: 30, y1: 60, x2: 90, y2: 150 }]],
        // Two dogs, two boxes: the region is the box around both.
        [
          "3",
          [
            { x1: 200, y1: 250, x2: 260, y2: 330 },
            { x1: 300, y1: 240, x2: 380, y2: 340 },
          ],
        ],
        // A chain with a box that no caption names has no reference.
        ["9", [{ x1: 0, y1: 0, x2: 5, y2: 5 }]],
      ]),
      scene: new Set(["4"]),
      noBox: new Set(["5", "6"]),
    }),
  );
  // In the order chains are first named; 4 (scene), 5 and 6 (no box) and 0 (notvisual) are left out.
  assert.deepEqual(
    regions.map((r) => [r.chain, r.phrases.map((p) => p.join(" "))]),
    [
      ["1", ["a man", "the man", "a man", "the man"]],
      ["2", ["a red jacket", "red"]],
      ["3", ["two dogs", "his dogs", "the dogs"]],
    ],
  );
  assert.deepEqual(regions[2].box, { x1: 200, y1: 240, x2: 380, y2: 340 });
  assert.deepEqual(regions[0].box, { x1: 10, y1: 20, x2: 110, y2: 300 });
  assert.ok(regions.every((r) => r.filename === "42_ab.jpg"));
});

test("an image whose chains have no boxes has no regions", () => {
  const regions = entityRegions(
    image({ width: 10, height: 10, boxes: new Map(), scene: new Set(), noBox: new Set() }),
  );
  assert.deepEqual(regions, []);
});
