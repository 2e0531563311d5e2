import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { placeLabels } from "../../src/app/region-labels.js";
import { InputError } from "../../src/errors.js";
import { alignmentPage, imageDataUri } from "../../src/mrf/alignment-page.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-page-"));
after(() => rmSync(root, { recursive: true, force: true }));

const view = {
  title: "000001.jpg",
  imageHref: "data:image/jpeg;base64,AAAA",
  width: 224,
  height: 224,
  tokens: ["a", "big", "red", "circle", "left", "of", "a", "small", "blue", "square"],
  regionBoxes: [
    { x1: 0, y1: 0, x2: 224, y2: 224 },
    { x1: 10, y1: 10, x2: 60, y2: 60 },
    { x1: 120, y1: 100, x2: 200, y2: 180 },
  ],
  segments: [
    { start: 0, end: 4, region: 1, score: 2.5 },
    { start: 4, end: 6, region: 0, score: 0.1 },
    { start: 6, end: 10, region: 2, score: 1.75 },
  ],
};

function count(html: string, re: RegExp): number {
  return (html.match(re) ?? []).length;
}

test("the page draws one box per used region and every phrase with its score", () => {
  const html = alignmentPage("Alignments <test>", [view]);
  assert.equal(count(html, /<g class="region"/g), 3);
  for (const r of [0, 1, 2])
    assert.equal(count(html, new RegExp(`<g class="region" data-region="${r}"`, "g")), 1);
  assert.match(html, /a big red circle<sub>2\.50<\/sub>/);
  assert.match(html, /left of<sub>0\.10<\/sub>/);
  assert.match(html, /a small blue square 1\.75<\/text>/);
  assert.match(html, /<image href="data:image\/jpeg;base64,AAAA"/);
  assert.match(html, /<title>Alignments &#60;test&#62;<\/title>/);
});

test("regions shared by two phrases get one box; weak phrases are grey and boxless", () => {
  const shared = {
    ...view,
    segments: [
      { start: 0, end: 4, region: 1, score: 2.5 },
      { start: 4, end: 6, region: 0, score: 0.1 },
      { start: 6, end: 10, region: 1, score: 1.0 },
    ],
  };
  const html = alignmentPage("t", [shared, view], { minScore: 0.5, size: 600 });
  assert.equal(count(html, /<figure>/g), 2);
  // First figure: region 1 only; second: regions 1 and 2.
  assert.equal(count(html, /<g class="region"/g), 3);
  assert.match(html, /a big red circle 2\.50 · a small blue square 1\.00<\/text>/);
  assert.match(html, /<span class="phrase weak">left of<sub>0\.10<\/sub><\/span>/);
  // On a small image the shared label is cut to fit, the sentence keeps every word.
  const small = alignmentPage("t", [shared], { size: 200 });
  assert.match(small, />a big red circle 2\.50 · [^<]*…<\/text>/);
  assert.match(small, /a small blue square<sub>1\.00<\/sub>/);
});

test("images embed as data URIs by extension", () => {
  const path = join(root, "x.png");
  writeFileSync(path, Buffer.from([1, 2, 3]));
  assert.equal(imageDataUri(path), "data:image/png;base64,AQID");
  assert.throws(() => imageDataUri(join(root, "x.txt")), InputError);
  assert.throws(() => imageDataUri(join(root, "absent.jpg")), /absent\.jpg: cannot read/);
});

/** Each label's text box, from its x, y (baseline) and the page's width estimate (0.6 em a char). */
function labelBoxes(html: string) {
  return [
    ...html.matchAll(/<text class="label" [^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)<\/text>/g),
  ].map((m) => {
    const text = m[3].replace(/&#\d+;/g, "x");
    return {
      x1: Number(m[1]),
      y1: Number(m[2]) - 13,
      x2: Number(m[1]) + text.length * 13 * 0.6,
      y2: Number(m[2]) + 4,
      text,
    };
  });
}

function overlapping(boxes: ReturnType<typeof labelBoxes>): number {
  let n = 0;
  boxes.forEach((a, i) => {
    for (const b of boxes.slice(i + 1)) {
      if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) n++;
    }
  });
  return n;
}

test("with a placer, labels of boxes that share a top edge are kept apart", () => {
  // Five boxes along one top edge: on the edge their labels collide.
  const crowded = {
    ...view,
    tokens: "a man a dog a ball a tree the grass".split(" "),
    regionBoxes: [0, 1, 2, 3, 4].map((k) => ({ x1: 20 + 12 * k, y1: 40, x2: 200, y2: 200 })),
    segments: [0, 1, 2, 3, 4].map((k) => ({ start: 2 * k, end: 2 * k + 2, region: k, score: 1 })),
  };
  const loose = labelBoxes(alignmentPage("t", [crowded]));
  assert.equal(loose.length, 5);
  assert.ok(overlapping(loose) > 0);
  const placed = labelBoxes(alignmentPage("t", [crowded], { placeLabels }));
  assert.ok(placed.length >= 3, `${placed.length} labels placed`);
  assert.equal(overlapping(placed), 0);
  for (const b of placed) assert.ok(b.x1 >= 0 && b.x2 <= 360 && b.y1 >= 0 && b.y2 <= 360);
  // Every phrase stays in the sentence, placed or not.
  for (const p of ["a man", "a dog", "a ball", "a tree", "the grass"]) {
    assert.ok(alignmentPage("t", [crowded], { placeLabels }).includes(`>${p}<sub>`), p);
  }
});

test("the sentence keeps the words between phrases and marks annotated phrases after their last word", () => {
  const annotated = {
    ...view,
    segments: [
      { start: 0, end: 4, region: 1, score: 2.5 },
      { start: 7, end: 10, region: 2, score: 1.75 },
    ],
    truthPhrases: [
      { start: 0, end: 2, box: { x1: 10, y1: 10, x2: 60, y2: 60 }, region: 1, right: true },
      { start: 6, end: 10, box: { x1: 0, y1: 0, x2: 50, y2: 50 }, region: 2, right: false },
    ],
  };
  const html = alignmentPage("t", [annotated]);
  const sentence = /<p class="sentence">(.*)<\/p>/.exec(html)![1];
  assert.equal(
    sentence.replace(/<[^>]+>/g, ""),
    "a big✓ red circle2.50 left of a small blue square1.75✗",
  );
  assert.match(
    sentence,
    /a big<span class="mark right"[^>]*>✓<\/span> red circle<sub>2\.50<\/sub><\/span> left of a/,
  );
  // The dashed boxes take the colour of the region their phrase went to.
  const colour = (r: number) =>
    new RegExp(`data-region="${r}"><rect [^>]*stroke="([^"]+)"`).exec(html)![1];
  assert.match(html, new RegExp(`class="truth" data-start="0" data-end="2" stroke="${colour(1)}"`));
  assert.match(
    html,
    new RegExp(`class="truth" data-start="6" data-end="10" stroke="${colour(2)}"`),
  );
  assert.notEqual(colour(1), colour(2));
});
