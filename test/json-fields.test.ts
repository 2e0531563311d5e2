import assert from "node:assert/strict";
import test from "node:test";
import { CorruptFileError, InputError } from "../src/errors.js";
import { describeNumber, inRange, JsonFields, parseJson, shown } from "../src/json-fields.js";

/** Asserts `f` throws an InputError whose message is exactly `message`. */
function refuses(f: () => unknown, message: string, type: typeof InputError = InputError): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof type, `${type.name} expected: ${String(e)}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

const good = {
  format: "thing",
  name: "a",
  count: 3,
  weight: 0.5,
  on: true,
  mode: "fast",
  box: [1, 2, 3, 4],
  tags: ["x", "y"],
  inner: { beam: 7 },
  members: [{ weight: 1 }, { weight: 2 }],
};

test("a good object reads back field by field", () => {
  const r = JsonFields.of(good, "t.json");
  assert.equal(r.oneOf("format", ["thing"]), "thing");
  assert.equal(r.string("name"), "a");
  assert.equal(r.number("count", { integer: true, min: 1 }), 3);
  assert.equal(r.number("weight", { min: 0, max: 1 }), 0.5);
  assert.equal(r.boolean("on"), true);
  assert.equal(r.oneOf("mode", ["fast", "slow"]), "fast");
  assert.deepEqual(r.numbers("box", {}, { length: 4 }), [1, 2, 3, 4]);
  assert.deepEqual(r.strings("tags", { minLength: 1 }), ["x", "y"]);
  assert.equal(r.child("inner").number("beam", { integer: true, min: 2 }), 7);
  assert.deepEqual(
    r.objects("members").map((m) => m.number("weight")),
    [1, 2],
  );
  r.only(Object.keys(good));
});

test("absent fields take their fallback, or are reported missing", () => {
  const r = JsonFields.of({}, "t.json");
  assert.equal(r.string("name", { fallback: "b" }), "b");
  assert.equal(r.number("count", { min: 0 }, 5), 5);
  assert.equal(r.boolean("on", false), false);
  assert.equal(r.oneOf("mode", ["fast", "slow"], "slow"), "slow");
  assert.equal(r.optionalString("name"), undefined);
  assert.equal(r.optionalNumber("count"), undefined);
  assert.deepEqual(r.child("inner", { optional: true }).fields, {});
  refuses(() => r.string("name"), "t.json: name: expected a non-empty string, missing");
  refuses(
    () => r.number("count", { integer: true, min: 1 }),
    "t.json: count: expected a positive integer, missing",
  );
});

test("a bad field is one line naming the file, the field's path and the value", () => {
  const bad = (patch: Record<string, unknown>, read: (r: JsonFields) => unknown, message: string) =>
    refuses(() => read(JsonFields.of({ ...good, ...patch }, "t.json")), message);
  bad(
    { format: "other" },
    (r) => r.oneOf("format", ["thing"]),
    't.json: format: expected "thing", got "other"',
  );
  bad({ name: "" }, (r) => r.string("name"), 't.json: name: expected a non-empty string, got ""');
  bad(
    { name: 5 },
    (r) => r.string("name", { want: "a file name" }),
    "t.json: name: expected a file name, got 5",
  );
  bad(
    { name: "abc" },
    (r) => r.string("name", { pattern: /^[0-9]+$/, want: "digits" }),
    't.json: name: expected digits, got "abc"',
  );
  bad(
    { count: 1.5 },
    (r) => r.number("count", { integer: true, min: 1 }),
    "t.json: count: expected a positive integer, got 1.5",
  );
  bad(
    { count: "3" },
    (r) => r.number("count", { min: 0 }),
    't.json: count: expected a number >= 0, got "3"',
  );
  bad(
    { count: 30 },
    (r) => r.number("count", { integer: true, min: 1, max: 20 }),
    "t.json: count: expected an integer from 1 to 20, got 30",
  );
  bad(
    { weight: null },
    (r) => r.number("weight"),
    "t.json: weight: expected a finite number, got null",
  );
  bad({ on: "yes" }, (r) => r.boolean("on"), 't.json: on: expected true or false, got "yes"');
  bad(
    { mode: "medium" },
    (r) => r.oneOf("mode", ["fast", "slow"]),
    't.json: mode: expected one of "fast", "slow", got "medium"',
  );
  bad(
    { box: [1, 2, 3] },
    (r) => r.numbers("box", {}, { length: 4 }),
    "t.json: box: expected a list of 4 finite numbers, got [1,2,3]",
  );
  bad(
    { box: [1, 2, "3", 4] },
    (r) => r.numbers("box", {}, { length: 4 }),
    't.json: box[2]: expected a finite number, got "3"',
  );
  bad(
    { tags: [] },
    (r) => r.strings("tags", { minLength: 1 }),
    "t.json: tags: expected a non-empty list of non-empty strings, got []",
  );
  bad(
    { tags: ["x", 3] },
    (r) => r.strings("tags"),
    "t.json: tags[1]: expected a non-empty string, got 3",
  );
  bad(
    { tags: "x" },
    (r) => r.strings("tags", { want: "a list of names" }),
    't.json: tags: expected a list of names, got "x"',
  );
  bad(
    { inner: { beam: 1 } },
    (r) => r.child("inner").number("beam", { integer: true, min: 2 }),
    "t.json: inner.beam: expected an integer >= 2, got 1",
  );
  bad({ inner: 7 }, (r) => r.child("inner"), "t.json: inner: expected an object, got 7");
  bad(
    { members: [{ weight: 1 }, { weight: "w" }] },
    (r) => r.objects("members").map((m) => m.number("weight")),
    't.json: members[1].weight: expected a finite number, got "w"',
  );
  bad(
    { members: [1] },
    (r) => r.objects("members"),
    "t.json: members[0]: expected a JSON object, got 1",
  );
  bad({ extra: 1 }, (r) => r.only(Object.keys(good)), "t.json: extra: unknown field");
});

test("the top value must be an object; a nested reader starts at its path", () => {
  refuses(() => JsonFields.of([1], "t.json"), "t.json: expected a JSON object, got [1]");
  refuses(() => JsonFields.of(null, "t.json"), "t.json: expected a JSON object, got null");
  const vision = JsonFields.of({ regions: 0 }, "bundle.json", { path: "vision" });
  refuses(
    () => vision.number("regions", { integer: true, min: 1, max: 20 }),
    "bundle.json: vision.regions: expected an integer from 1 to 20, got 0",
  );
  assert.equal(vision.label("regions"), "bundle.json: vision.regions");
  assert.equal(vision.pathOf(3), "vision[3]");
});

test("files imagesent wrote itself are refused as corrupt", () => {
  const r = JsonFields.of({ dim: -1 }, "store.json", { error: CorruptFileError });
  refuses(
    () => r.number("dim", { integer: true, min: 1 }),
    "store.json: dim: expected a positive integer, got -1",
    CorruptFileError,
  );
  refuses(
    () => r.objects("shards"),
    "store.json: shards: expected a list of objects, missing",
    CorruptFileError,
  );
  refuses(
    () => JsonFields.of(3, "h", { error: CorruptFileError }),
    "h: expected a JSON object, got 3",
    CorruptFileError,
  );
});

test("parseJson names the file of invalid JSON", () => {
  assert.deepEqual(parseJson('{"a": 1}', "t.json"), { a: 1 });
  assert.throws(
    () => parseJson("{", "t.json"),
    (e: unknown) =>
      e instanceof InputError && /^t\.json: invalid JSON \(/.test((e as Error).message),
  );
  assert.throws(() => parseJson("", "t.json", CorruptFileError), CorruptFileError);
});

test("ranges are said in words, and a value is shown cut short", () => {
  assert.equal(describeNumber({ integer: true, min: 1 }), "a positive integer");
  assert.equal(describeNumber({ integer: true, min: 0 }), "an integer >= 0");
  assert.equal(describeNumber({ integer: true, min: 2, max: 100 }), "an integer from 2 to 100");
  assert.equal(describeNumber({ min: 0, max: Number.POSITIVE_INFINITY }), "a number >= 0");
  assert.equal(describeNumber({ max: 1 }), "a number <= 1");
  assert.equal(describeNumber({}), "a finite number");
  assert.ok(inRange(3, { integer: true, min: 3, max: 3 }));
  assert.ok(!inRange(2 ** 53, { integer: true }));
  assert.ok(!inRange(Number.NaN, {}));
  assert.ok(!inRange("1", {}));
  assert.equal(shown(undefined), "nothing");
  assert.equal(shown("x".repeat(100)).length, 60);
});
