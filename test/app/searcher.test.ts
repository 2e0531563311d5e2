import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ImageIndex, INDEX_LOCK } from "../../src/app/image-index.js";
import { Searcher } from "../../src/app/searcher.js";
import { InputError } from "../../src/errors.js";
import type { WorldImage } from "../../src/world/world-file.js";
import { type TrainedWorld, trainedWorld } from "./fixtures.js";

let dir: string;
let trained: TrainedWorld;
let searcher: Searcher;
let tests: WorldImage[];
const path = (im: WorldImage) => join(trained.world.imagesDir, im.filename);
const sentence = (im: WorldImage, i = 0) => im.sentences[i].tokens.join(" ");

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-search-"));
  trained = await trainedWorld(dir, { images: 200, alignEpochs: 6 });
  tests = trained.world.world.images.filter((im) => im.split === "test");
  searcher = Searcher.open(trained.bundleDir, join(dir, "index"));
  // The world's proposal boxes stand in for a detector, as in training.
  const inputs = tests.map((im) => ({ name: path(im), image: path(im), regions: im.regions }));
  const result = await searcher.index(inputs, {
    sentences: tests.flatMap((im) => im.sentences.map((s) => s.tokens.join(" "))),
  });
  assert.equal(result.added, tests.length);
});

after(async () => {
  await searcher.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the index holds the images' tables plus their sentences; re-indexing skips them", async () => {
  const index = await ImageIndex.open(join(dir, "index"));
  assert.equal(index.size, tests.length);
  const distinct = new Set(tests.flatMap((im) => im.sentences.map((s) => s.tokens.join(" "))));
  assert.equal(index.sentences().length, distinct.size);
  assert.ok(existsSync(join(dir, "index", "db", "images.lance")));
  assert.ok(existsSync(join(dir, "index", "summary.bin")));
  assert.ok(!existsSync(join(dir, "index", "db", "regions.lance")));
  assert.ok(!existsSync(join(dir, "index", INDEX_LOCK)), "index() releases its lock");
  await index.close();
  const again = await searcher.index(
    tests.slice(0, 1).map((im) => ({ name: path(im), image: path(im), regions: im.regions })),
    { sentences: [sentence(tests[0])] },
  );
  assert.deepEqual(again, { added: 0, reindexed: 0, skipped: 1, failures: [] });
  assert.equal((await ImageIndex.open(join(dir, "index"))).sentences().length, distinct.size);
});

test("after brief training a sentence ranks its own image far above chance", async () => {
  const ranks: number[] = [];
  for (const im of tests) {
    const { hits } = await searcher.search(sentence(im), tests.length, { withPhrases: 0 });
    assert.equal(hits.length, tests.length);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
    ranks.push(hits.findIndex((h) => h.image === path(im)) + 1);
  }
  const sorted = [...ranks].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  // Chance is about half the images; a model that learned nothing from the sentences fails this.
  assert.ok(median <= tests.length / 5, `median rank ${median} of ${tests.length}: ${ranks}`);
  assert.ok(ranks.filter((r) => r === 1).length >= tests.length / 4, `ranks: ${ranks}`);
});

test("top hits carry the chain MRF's phrases, covering the sentence's words in order", async () => {
  const im = tests[0];
  const { hits } = await searcher.search(sentence(im), 3, { withPhrases: 2 });
  const [top, second, third] = hits;
  assert.ok(top.phrases && second.phrases);
  assert.equal(third.phrases, undefined);
  const words = top.phrases.map((p) => p.phrase).join(" ");
  assert.equal(words, sentence(im));
  for (const p of top.phrases) {
    assert.ok(p.region >= 0 && p.region < 20);
    assert.ok(p.box.x2 <= top.width && p.box.y2 <= top.height);
  }
});

test("search by image ranks the image's own sentences above the others'", async () => {
  let own = 0;
  const k = 5;
  for (const im of tests.slice(0, 8)) {
    const hits = await searcher.searchByImage(path(im), k, { regions: im.regions });
    assert.equal(hits.length, k);
    const mine = new Set(im.sentences.map((s) => s.tokens.join(" ")));
    own += hits.filter((h) => mine.has(h.sentence)).length;
  }
  // By chance about 2 of the 40 would be the image's own (its 5 among 5 per test image).
  assert.ok(own >= 6, `${own} of ${8 * k} top sentences were the image's own`);
  const given = await searcher.searchByImage(path(tests[0]), 2, {
    sentences: [sentence(tests[0]), "zzz qqq"],
    regions: tests[0].regions,
  });
  assert.deepEqual(
    given.map((h) => h.sentence),
    [sentence(tests[0])],
  );
});

test("a sentence with no known word is an InputError", async () => {
  await assert.rejects(
    searcher.search("zzz qqq", 3),
    (e: unknown) => e instanceof InputError && /no word of "zzz qqq"/.test(e.message),
  );
});
