import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { scoreCommand } from "../../src/cli/commands/score.js";
import { InputError } from "../../src/errors.js";
import { readCocoReferences, readCocoResults } from "../../src/eval/coco-format.js";
import { scoreCaptions } from "../../src/eval/score.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-score-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};

const refsPath = file("refs.json", {
  images: [{ id: 1 }, { id: 2 }],
  annotations: [
    { image_id: 1, id: 1, caption: "A dog on a sofa." },
    { image_id: 1, id: 2, caption: "A brown dog lying on a couch" },
    { image_id: 2, id: 3, caption: "Two cats sleeping." },
  ],
});

test("reads COCO annotations and results", () => {
  const refs = readCocoReferences(refsPath);
  assert.deepEqual(refs.get(1), ["A dog on a sofa.", "A brown dog lying on a couch"]);
  const cands = readCocoResults(file("c.json", [{ image_id: 2, caption: "two cats" }]));
  assert.deepEqual([...cands], [[2, "two cats"]]);
});

test("malformed files name the file and the field", () => {
  const bad = file("bad.json", { annotations: [{ image_id: 1, caption: "x" }, { image_id: 1 }] });
  assert.throws(() => readCocoReferences(bad), {
    name: "InputError",
    message: `${bad}: annotations[1].caption: expected a string, missing`,
  });
  const dup = file("dup.json", [
    { image_id: 1, caption: "a" },
    { image_id: 1, caption: "b" },
  ]);
  assert.throws(() => readCocoResults(dup), /dup\.json: \[1\]\.image_id: image 1 already has/);
  assert.throws(() => readCocoResults(file("nojson.json", "{")), /nojson\.json: invalid JSON/);
  assert.throws(
    () => readCocoResults(refsPath),
    /refs\.json: expected a list of results, got \{"images"/,
  );
  assert.throws(
    () => readCocoReferences(file("noid.json", { annotations: [{ caption: "a" }] })),
    /noid\.json: annotations\[0\]\.image_id: expected a number or a string, missing$/,
  );
  assert.throws(() => readCocoResults(join(dir, "missing.json")), InputError);
});

test("scores only the images with a candidate, after PTB tokenization", () => {
  const refs = readCocoReferences(refsPath);
  // "Two cats sleeping!" tokenizes to the reference of image 2 exactly.
  const scores = scoreCaptions(refs, new Map([[2, "Two cats sleeping!"]]));
  assert.equal(scores.perImage.length, 1);
  assert.equal(scores.perImage[0].imageId, 2);
  for (const key of ["bleu1", "bleu2", "bleu3", "meteor", "rougeL"] as const) {
    assert.ok(Math.abs(scores.corpus[key] - 1) < 1e-6, key);
  }
  // 3 words have no 4-gram: BLEU-4 = (1e-15/1e-9)^(1/4) = 0.0316. One image: CIDEr-D is 0.
  assert.ok(Math.abs(scores.corpus.bleu4 - 1e-6 ** 0.25) < 1e-6);
  assert.equal(scores.corpus.ciderD, 0);
});

test("a punctuation-only candidate tokenizes to nothing and scores 0 everywhere", () => {
  const scores = scoreCaptions(readCocoReferences(refsPath), new Map([[1, "? ! ... -- ,"]]));
  for (const value of Object.values(scores.corpus)) assert.equal(value, 0);
});

test("a candidate without references is an input error", () => {
  assert.throws(
    () => scoreCaptions(new Map([[1, ["a"]]]), new Map([[7, "a"]])),
    /image 7 has a candidate caption but no reference captions/,
  );
});

test("imagesent score prints every metric, and JSON with --json", async () => {
  const cands = file("cands.json", [
    { image_id: 1, caption: "A dog on a couch." },
    { image_id: 2, caption: "" },
  ]);
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    assert.equal(await scoreCommand.run(["--refs", refsPath, "--cands", cands]), 0);
    assert.equal(await scoreCommand.run(["--refs", refsPath, "--cands", cands, "--json"]), 0);
  } finally {
    console.log = log;
  }
  assert.match(lines[0], /images scored: 2/);
  assert.match(lines[0], /METEOR \(exact\+stem\+synonym\)\s+0\.\d{4}/);
  assert.match(lines[0], /CIDEr-D\s+\d\.\d{4}/);
  const report = JSON.parse(lines[1]);
  assert.equal(report.images, 2);
  assert.deepEqual(Object.keys(report.metrics), [
    "Bleu_1",
    "Bleu_2",
    "Bleu_3",
    "Bleu_4",
    "METEOR",
    "ROUGE_L",
    "CIDEr",
  ]);
  assert.deepEqual(report.meteorModules, ["exact", "stem", "synonym"]);
  assert.equal(report.perImage[1].image_id, 2);
  assert.equal(report.perImage[1].ROUGE_L, 0);
});

test("imagesent score without --cands or with an unknown flag is a usage error", () => {
  assert.throws(() => scoreCommand.run(["--refs", refsPath]), {
    name: "InputError",
    message: /--refs and --cands are required/,
  });
  assert.throws(() => scoreCommand.run(["--refs", refsPath, "--bogus"]), InputError);
});
