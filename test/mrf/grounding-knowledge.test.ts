import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  loadGroundingKnowledge,
  saveGroundingKnowledge,
} from "../../src/mrf/grounding-knowledge.js";
import { determinerRates } from "../../src/mrf/noun-phrases.js";
import { fitWordClassAssociation } from "../../src/mrf/word-class-association.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-grounding-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the grounding file survives a save and a load", () => {
  const association = fitWordClassAssociation(
    [
      { labels: ["person"], captions: [["a", "man"]] },
      { labels: ["dog"], captions: [["a", "dog"]] },
      { labels: [], captions: [["a", "field"]] },
    ],
    { iterations: 3, minCount: 1 },
  );
  // determinerRates keeps only words used at least 20 times.
  const rates = determinerRates(
    Array.from({ length: 20 }, () => [
      ["a", "man", "runs"],
      ["the", "dog"],
    ]).flat(),
  );
  const path = join(dir, "grounding.json");
  saveGroundingKnowledge(path, { association, rates });
  const back = loadGroundingKnowledge(path);
  assert.deepEqual(back.association.classes, association.classes);
  const a = association.words.get("man")!.get("person")!;
  const b = back.association.words.get("man")!.get("person")!;
  assert.ok(Math.abs(a.lift - b.lift) < 1e-5 && Math.abs(a.naming - b.naming) < 1e-5);
  assert.ok(Math.abs(a.given - b.given) < 1e-5);
  assert.deepEqual(back.rates.get("man"), { uses: 20, rate: 1 });
  assert.deepEqual(back.rates.get("runs"), { uses: 20, rate: 0 });
});

test("a bad grounding file is refused naming the file and field", () => {
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const ok = { format: "imagesent-grounding", version: 1, association: { classes: [], words: {} } };
  assert.throws(
    () => loadGroundingKnowledge(write("cut.json", '{"format": "imag')),
    /cut.json: invalid JSON/,
  );
  assert.throws(
    () => loadGroundingKnowledge(write("other.json", JSON.stringify({ format: "x" }))),
    /other.json: not a grounding file/,
  );
  assert.throws(
    () =>
      loadGroundingKnowledge(write("v9.json", JSON.stringify({ ...ok, version: 9, rates: {} }))),
    /v9.json: grounding file version 9; this imagesent reads 1/,
  );
  assert.throws(
    () =>
      loadGroundingKnowledge(
        write(
          "entry.json",
          JSON.stringify({
            ...ok,
            association: { classes: ["dog"], words: { dog: { dog: [1, "x", 0] } } },
            rates: {},
          }),
        ),
      ),
    /entry.json: association.words.dog.dog\[1\]: expected a finite number, got "x"$/,
  );
  assert.throws(
    () =>
      loadGroundingKnowledge(write("rate.json", JSON.stringify({ ...ok, rates: { a: [3, 2] } }))),
    /rate.json: rates.a: expected \[uses, share in 0..1\]/,
  );
  assert.throws(
    () =>
      loadGroundingKnowledge(
        write("words.json", JSON.stringify({ ...ok, association: { classes: [], words: [] } })),
      ),
    /words.json: association.words: expected an object of words, got \[\]$/,
  );
  assert.throws(
    () => loadGroundingKnowledge(write("norates.json", JSON.stringify(ok))),
    /norates.json: rates: expected an object of words, missing$/,
  );
  assert.throws(() => loadGroundingKnowledge(join(dir, "absent.json")), /absent.json: cannot read/);
});
