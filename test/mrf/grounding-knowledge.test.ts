import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  loadGroundingKnowledge,
  saveGroundingKnowledge,
} from "../../src/mrf/grounding-knowledge.js";
import { determinerRates } from "../../src/mrf/noun-phrases.js";
import { fitWordClassAssociation } from "../../src/mrf/word-class-association.js";
import { fitWordProbe } from "../../src/mrf/word-probe.js";

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
  const worn = new Map([
    ["shirt", 0.25],
    ["hat", 1 / 3],
  ]);
  const several = new Map([["girls", 0.8]]);
  const place = new Map([["grass", 0.97]]);
  const probe = fitWordProbe(
    [
      { code: Float32Array.of(1, 0), captions: [["a", "dog"]] },
      { code: Float32Array.of(0, 1), captions: [["a", "cat"]] },
    ],
    2,
    1,
  );
  saveGroundingKnowledge(path, { association, rates, worn, several, place, probe });
  const back = loadGroundingKnowledge(path);
  assert.deepEqual(back.probe?.words, probe.words);
  assert.deepEqual(back.probe?.weights, probe.weights);
  assert.deepEqual(back.association.classes, association.classes);
  // Version 2 stores the table's numbers exactly.
  assert.equal(back.association.words.size, association.words.size);
  for (const [word, row] of association.words) {
    assert.ok(back.association.words.has(word), word);
    assert.deepEqual(back.association.words.get(word), row, word);
  }
  assert.deepEqual(
    [...back.association.words].map(([w]) => w),
    [...association.words].map(([w]) => w),
  );
  assert.equal(back.association.words.get("unseen"), undefined);
  assert.deepEqual(back.rates.get("man"), { uses: 20, rate: 1 });
  assert.deepEqual(back.rates.get("runs"), { uses: 20, rate: 0 });
  // Shares are kept to four decimals.
  assert.deepEqual(
    [...back.worn],
    [
      ["shirt", 0.25],
      ["hat", 0.3333],
    ],
  );
  assert.deepEqual([...back.place], [["grass", 0.97]]);
});

test("a grounding file of version 1 (the association as nested JSON) still reads", () => {
  const path = join(dir, "v1.json");
  const association = { classes: ["dog", "person"], words: { man: { person: [0.5, 1.25, 0.75] } } };
  writeFileSync(
    path,
    JSON.stringify({ format: "imagesent-grounding", version: 1, association, rates: {} }),
  );
  const back = loadGroundingKnowledge(path);
  assert.deepEqual(back.association.classes, ["dog", "person"]);
  assert.deepEqual(back.association.words.get("man")?.get("person"), {
    naming: 0.5,
    lift: 1.25,
    given: 0.75,
  });
});

test("a packed association that does not add up is refused naming the field", () => {
  const b64 = (a: Uint16Array | Float64Array) => Buffer.from(a.buffer).toString("base64");
  const good = {
    classes: ["dog", "person"],
    words: ["man", "puppy"],
    counts: b64(Uint16Array.of(1, 1)),
    classIds: b64(Uint16Array.of(1, 0)),
    values: b64(Float64Array.of(0.5, 1, 0.25, 0.75, 2, 0.5)),
  };
  const load = (name: string, association: object) => {
    const p = join(dir, name);
    writeFileSync(
      p,
      JSON.stringify({ format: "imagesent-grounding", version: 2, association, rates: {} }),
    );
    return loadGroundingKnowledge(p);
  };
  const v2 = load("packed.json", good);
  assert.equal(v2.association.words.get("puppy")?.get("dog")?.lift, 2);
  // Version 2 knew no worn or counted words: no phrase names what is worn or several.
  assert.equal(v2.worn.size, 0);
  assert.equal(v2.several.size, 0);
  const cases: [string, object, RegExp][] = [
    ["counts", { counts: b64(Uint16Array.of(1)) }, /association.counts: 1 counts for 2 words$/],
    [
      "sum",
      { counts: b64(Uint16Array.of(1, 2)) },
      /association.classIds: 2 class indices for 3 pairs/,
    ],
    [
      "class",
      { classIds: b64(Uint16Array.of(1, 2)) },
      /association.classIds: class index 2 \(pair 1\) is not below 2$/,
    ],
    [
      "nan",
      { values: b64(Float64Array.of(0.5, Number.NaN, 0, 0, 0, 0)) },
      /association.values: value NaN \(number 1\) is not finite$/,
    ],
    [
      "short",
      { values: b64(Float64Array.of(0.5)) },
      /association.values: 1 values for 2 pairs \(3 each\)$/,
    ],
    ["text", { counts: "not base64!" }, /association.counts: expected base64 of 2-byte values/],
    ["twice", { words: ["man", "man"] }, /association.words: expected a list of distinct words/],
  ];
  for (const [name, change, error] of cases) {
    assert.throws(() => load(`${name}.json`, { ...good, ...change }), error, name);
  }
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
    /v9.json: grounding file version 9; this imagesent reads 1 to 5/,
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
  const saved = join(dir, "v4.json");
  const empty = { classes: [], words: new Map() };
  const none = new Map<string, number>();
  saveGroundingKnowledge(saved, {
    association: empty,
    rates: new Map(),
    worn: none,
    several: none,
    place: none,
    probe: null,
  });
  const v5 = JSON.parse(readFileSync(saved, "utf8"));
  assert.equal(v5.version, 5);
  assert.equal(v5.probe, null);
  // Version 4 had no probe: it reads, with none.
  const v4 = { ...v5, version: 4, probe: undefined };
  assert.equal(loadGroundingKnowledge(write("v4.json", JSON.stringify(v4))).probe, null);
  const bad = {
    dim: 2,
    words: ["dog"],
    weights: Buffer.from(Uint16Array.of(0).buffer).toString("base64"),
  };
  assert.throws(
    () => loadGroundingKnowledge(write("probe.json", JSON.stringify({ ...v5, probe: bad }))),
    /probe.json: probe.weights: 1 weights for 2 x 1/,
  );
  // Version 3 had no place shares: it reads, with none.
  const v3 = { ...v4, version: 3, place: undefined };
  assert.equal(loadGroundingKnowledge(write("v3.json", JSON.stringify(v3))).place.size, 0);
  assert.throws(
    () => loadGroundingKnowledge(write("place.json", JSON.stringify({ ...v4, place: { sea: 2 } }))),
    /place.json: place.sea: .*2/,
  );
  assert.throws(
    () => loadGroundingKnowledge(write("noplace.json", JSON.stringify({ ...v3, version: 4 }))),
    /noplace.json: place: expected an object of words, missing$/,
  );
  assert.throws(
    () => loadGroundingKnowledge(write("worn.json", JSON.stringify({ ...v3, worn: { hat: 2 } }))),
    /worn.json: worn.hat: .*2/,
  );
  assert.throws(
    () => loadGroundingKnowledge(write("noworn.json", JSON.stringify({ ...v3, worn: undefined }))),
    /noworn.json: worn: expected an object of words, missing$/,
  );
  assert.throws(
    () =>
      loadGroundingKnowledge(write("several.json", JSON.stringify({ ...v3, several: { a: "x" } }))),
    /several.json: several.a: expected .*"x"/,
  );
});
