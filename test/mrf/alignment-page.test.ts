import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
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
