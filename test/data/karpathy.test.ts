import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { readKarpathyDataset, writeKarpathyDataset } from "../../src/data/karpathy.js";
import { InputError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-karpathy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function image(imgid: number, split: string, ...raws: string[]) {
  return {
    filename: `${imgid}.jpg`,
    imgid,
    split,
    sentids: raws.map((_, j) => imgid * 10 + j),
    sentences: raws.map((raw, j) => ({
      tokens: raw.toLowerCase().split(" "),
      raw,
      imgid,
      sentid: imgid * 10 + j,
    })),
  };
}

function good() {
  return {
    dataset: "tiny",
    images: [image(0, "train", "A dog runs", "A dog"), image(1, "test", "Two cats")],
  };
}

function write(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

test("reads the Karpathy layout into the dataset model", () => {
  const d = readKarpathyDataset(write("dataset_tiny.json", good()));
  assert.equal(d.name, "tiny");
  assert.deepEqual(d.images[0], {
    id: 0,
    filename: "0.jpg",
    split: "train",
    sentences: [
      { id: 0, raw: "A dog runs", tokens: ["a", "dog", "runs"] },
      { id: 1, raw: "A dog", tokens: ["a", "dog"] },
    ],
  });
  assert.equal(d.images[1]!.split, "test");
});

test("derives missing tokens with the tokenizer, joins COCO's filepath, names from the file", () => {
  const value = {
    images: [
      {
        filepath: "val2014",
        filename: "x.jpg",
        imgid: 7,
        split: "restval",
        cocoid: 99,
        sentences: [{ raw: "A man, riding a HORSE.", sentid: 3 }],
      },
    ],
  };
  const d = readKarpathyDataset(write("dataset_coco.json", value));
  assert.equal(d.name, "coco");
  assert.equal(d.images[0]!.filename, "val2014/x.jpg");
  assert.deepEqual(d.images[0]!.sentences[0]!.tokens, ["a", "man", "riding", "a", "horse"]);
});

test("write then read gives the same dataset", () => {
  const d = readKarpathyDataset(write("dataset_tiny.json", good()));
  const path = join(dir, "roundtrip.json");
  writeKarpathyDataset(path, d);
  assert.deepEqual(readKarpathyDataset(path), d);
  const json = JSON.parse(readFileSync(path, "utf8"));
  assert.deepEqual(json.images[1].sentids, [10]);
  assert.equal(json.images[1].sentences[0].imgid, 1);
});

const DELETE = Symbol("delete");

/** Sets (or deletes) the field at `path` of `root`, which must exist up to its parent. */
function edit(root: unknown, path: (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === DELETE) delete node[last];
  else node[last] = value;
}

test("malformed files fail naming the file and the field", () => {
  const cases: [(string | number)[], unknown, string][] = [
    [["images"], {}, "images: expected a list of objects, got {}"],
    [["dataset"], 3, "dataset: expected a string, got 3"],
    [["images", 1], 5, "images[1]: expected a JSON object, got 5"],
    [["images", 1, "filename"], DELETE, "images[1].filename: expected a non-empty string, missing"],
    [["images", 1, "imgid"], 0, "images[1].imgid: 0 already used by images[0]"],
    [["images", 0, "imgid"], 1.5, "images[0].imgid: expected an integer >= 0, got 1.5"],
    [
      ["images", 1, "split"],
      "dev",
      'images[1].split: expected one of "train", "val", "test", "restval", got "dev"',
    ],
    [
      ["images", 0, "split"],
      1,
      'images[0].split: expected one of "train", "val", "test", "restval", got 1',
    ],
    [["images", 0, "sentences"], null, "images[0].sentences: expected a list of objects, got null"],
    [
      ["images", 0, "sentences", 1, "raw"],
      5,
      "images[0].sentences[1].raw: expected a string, got 5",
    ],
    [
      ["images", 0, "sentences", 0, "sentid"],
      DELETE,
      "images[0].sentences[0].sentid: expected an integer >= 0, missing",
    ],
    [
      ["images", 1, "sentences", 0, "sentid"],
      1,
      "images[1].sentences[0].sentid: 1 already used by images[0].sentences[1]",
    ],
    [
      ["images", 1, "sentences", 0, "imgid"],
      0,
      "images[1].sentences[0].imgid: 0 differs from the image's imgid 1",
    ],
    [
      ["images", 1, "sentences", 0, "tokens"],
      "two cats",
      'images[1].sentences[0].tokens: expected a non-empty list of non-empty strings, got "two cats"',
    ],
    [
      ["images", 1, "sentences", 0, "tokens", 1],
      3,
      "images[1].sentences[0].tokens[1]: expected a non-empty string, got 3",
    ],
    [
      ["images", 1, "sentences", 0, "tokens"],
      [],
      "images[1].sentences[0].tokens: expected a non-empty list of non-empty strings, got []",
    ],
    [
      ["images", 0, "sentids"],
      [0],
      "images[0].sentids: expected the sentences' sentids [0, 1], got [0]",
    ],
  ];
  const expectError = (path: string, message: string) =>
    assert.throws(
      () => readKarpathyDataset(path),
      (err: unknown) =>
        err instanceof InputError &&
        err.message.startsWith(`${path}: `) &&
        err.message.includes(message),
      message,
    );
  for (const [field, value, message] of cases) {
    const json = good();
    edit(json, field, value);
    expectError(write("bad.json", json), message);
  }
  expectError(write("bad.json", "{ not json"), "invalid JSON");
  expectError(write("bad.json", []), "expected a JSON object, got []");
  const noWords = {
    images: [{ filename: "a.jpg", imgid: 0, split: "val", sentences: [{ raw: "...", sentid: 0 }] }],
  };
  assert.throws(
    () => readKarpathyDataset(write("bad.json", noWords)),
    /bad\.json: images\[0\]\.sentences\[0\]\.raw: no words in the caption/,
  );
  assert.throws(() => readKarpathyDataset(join(dir, "absent.json")), /absent\.json: cannot read/);
});
