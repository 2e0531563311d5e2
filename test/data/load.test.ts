import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { describeSource, loadDataset, locateDataset } from "../../src/data/load.js";
import { InputError } from "../../src/errors.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-load-"));
after(() => rmSync(root, { recursive: true, force: true }));
const json = {
  dataset: "tiny",
  images: [
    { filename: "a.jpg", imgid: 0, split: "train", sentences: [{ raw: "A dog", sentid: 0 }] },
  ],
};

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const flickr = {
  "Flickr8k.token.txt": "a.jpg#0\tA dog .\n",
  "Flickr_8k.trainImages.txt": "a.jpg\n",
  "Flickr_8k.devImages.txt": "",
  "Flickr_8k.testImages.txt": "",
};

test("a directory with one dataset*.json is read through it, even beside Flickr8k files", () => {
  const dir = folder("both", { "dataset_tiny.json": JSON.stringify(json), ...flickr });
  const source = locateDataset(dir);
  assert.deepEqual(source, { format: "karpathy-json", path: join(dir, "dataset_tiny.json") });
  assert.match(describeSource(source), /^Karpathy dataset\.json .*dataset_tiny\.json$/);
  assert.equal(loadDataset(dir).name, "tiny");
  assert.equal(loadDataset(join(dir, "dataset_tiny.json")).name, "tiny");
});

test("a directory with only Flickr8k files, or its token file, is read as Flickr8k", () => {
  const dir = folder("flickr", flickr);
  assert.deepEqual(locateDataset(dir), { format: "flickr8k", path: dir });
  assert.deepEqual(locateDataset(join(dir, "Flickr8k.token.txt")), {
    format: "flickr8k",
    path: dir,
  });
  assert.match(describeSource(locateDataset(dir)), /^Flickr8k token and split files in /);
  const d = loadDataset(dir);
  assert.equal(d.name, "flickr8k");
  assert.deepEqual(d.images[0]!.sentences[0]!.tokens, ["a", "dog"]);
});

test("ambiguous, empty and missing paths are input errors", () => {
  const two = folder("two", { "dataset_a.json": "{}", "dataset_b.json": "{}" });
  assert.throws(
    () => locateDataset(two),
    (e: unknown) =>
      e instanceof InputError &&
      /several dataset files \(dataset_a\.json, dataset_b\.json\)/.test(e.message),
  );
  const empty = folder("empty", { "notes.txt": "" });
  assert.throws(
    () => locateDataset(empty),
    /found neither a dataset\*\.json nor Flickr8k\.token\.txt/,
  );
  assert.throws(() => loadDataset(join(root, "nope")), /nope: no such file or directory/);
});
