import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { readFlickr8k } from "../../src/data/flickr8k.js";
import { readKarpathyDataset } from "../../src/data/karpathy.js";
import { InputError } from "../../src/errors.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-flickr8k-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const CAPTIONS = [
  "a.jpg#0\tA dog runs .",
  "a.jpg#1\tThe dog is running",
  "b.jpg#0\tTwo cats sleep .",
  "c.jpg#0\tA red car .",
  "unsplit.jpg#0\tNobody lists me .",
  "",
].join("\n");

/** Writes a Flickr8k folder; each file's content can be overridden. */
function flickrDir(files: Record<string, string> = {}): string {
  const dir = join(root, String(dirs++));
  mkdirSync(dir);
  const all: Record<string, string> = {
    "Flickr8k.token.txt": CAPTIONS,
    "Flickr_8k.trainImages.txt": "b.jpg\na.jpg\n",
    "Flickr_8k.devImages.txt": "c.jpg\r\n",
    "Flickr_8k.testImages.txt": "",
    ...files,
  };
  for (const [name, text] of Object.entries(all)) writeFileSync(join(dir, name), text);
  return dir;
}

test("reads captions and splits in split-list order, dev as val, unlisted images left out", () => {
  const d = readFlickr8k(flickrDir());
  assert.equal(d.name, "flickr8k");
  assert.deepEqual(
    d.images.map((i) => [i.id, i.filename, i.split]),
    [
      [0, "b.jpg", "train"],
      [1, "a.jpg", "train"],
      [2, "c.jpg", "val"],
    ],
  );
  assert.deepEqual(d.images[1]!.sentences, [
    { id: 1, raw: "A dog runs .", tokens: ["a", "dog", "runs"] },
    { id: 2, raw: "The dog is running", tokens: ["the", "dog", "is", "running"] },
  ]);
  assert.deepEqual(d.images[2]!.sentences[0], {
    id: 3,
    raw: "A red car .",
    tokens: ["a", "red", "car"],
  });
});

test("malformed Flickr8k files fail naming the file and line", () => {
  const cases: [Record<string, string>, string, string][] = [
    [
      { "Flickr8k.token.txt": "a.jpg#0\tok\nb.jpg#0 no tab\n" },
      "Flickr8k.token.txt:2",
      "expected IMAGE#N<TAB>caption, found no tab",
    ],
    [
      { "Flickr8k.token.txt": "a.jpg#0\tok\n\na.jpg\tno number\n" },
      "Flickr8k.token.txt:3",
      'expected IMAGE#N before the tab, got "a.jpg"',
    ],
    [
      { "Flickr8k.token.txt": "a.jpg#0\tok\na.jpg#0\tagain\n" },
      "Flickr8k.token.txt:2",
      "a.jpg#0 repeats line 1",
    ],
    [{ "Flickr8k.token.txt": "a.jpg#0\t ... \n" }, "Flickr8k.token.txt:1", "caption has no words"],
    [
      { "Flickr_8k.devImages.txt": "c.jpg\nmissing.jpg\n" },
      "Flickr_8k.devImages.txt:2",
      "missing.jpg has no captions in Flickr8k.token.txt",
    ],
    [
      { "Flickr_8k.testImages.txt": "\na.jpg\n" },
      "Flickr_8k.testImages.txt:2",
      "a.jpg already listed at",
    ],
    [
      { "Flickr_8k.trainImages.txt": "a.jpg b.jpg\n" },
      "Flickr_8k.trainImages.txt:1",
      "expected one image file name per line",
    ],
  ];
  for (const [files, where, message] of cases) {
    const dir = flickrDir(files);
    assert.throws(
      () => readFlickr8k(dir),
      (err: unknown) =>
        err instanceof InputError && err.message.startsWith(`${join(dir, where)}: ${message}`),
      `${where}: ${message}`,
    );
  }
});

test("a missing split list is named", () => {
  const dir = join(root, "no-splits");
  mkdirSync(dir);
  writeFileSync(join(dir, "Flickr8k.token.txt"), CAPTIONS);
  assert.throws(() => readFlickr8k(dir), /Flickr_8k\.trainImages\.txt: cannot read/);
});

const files = ["Flickr8k.token.txt", "Flickr_8k.trainImages.txt", "dataset_flickr8k.json"].map(
  (f) => `data/flickr8k/${f}`,
);
test("on the real Flickr8k files: 6000/1000/1000 images, identical to dataset_flickr8k.json", {
  skip: skipUnlessShared(...files),
}, () => {
  const dir = join(sharedDir()!, "data/flickr8k");
  const d = readFlickr8k(dir);
  const count = (split: string) => d.images.filter((i) => i.split === split).length;
  assert.deepEqual([count("train"), count("val"), count("test")], [6000, 1000, 1000]);
  assert.ok(d.images.every((i) => i.sentences.length === 5));
  assert.deepEqual(d, readKarpathyDataset(join(dir, "dataset_flickr8k.json")));
});
