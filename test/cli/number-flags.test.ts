import assert from "node:assert/strict";
import test from "node:test";
import {
  boundedInt,
  finiteNumber,
  numberFlag,
  numberListFlag,
  positiveInt,
} from "../../src/cli/flags.js";
import { InputError } from "../../src/errors.js";

/** Asserts `f` throws an InputError whose message is exactly `message`. */
function refuses(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

test("integers are decimal digits within the range", () => {
  const range = { integer: true, min: 1, max: 100 };
  assert.equal(numberFlag("1", "--beam", range), 1);
  assert.equal(numberFlag("100", "--beam", range), 100);
  assert.equal(numberFlag("007", "--beam", range), 7);
  assert.equal(numberFlag("-3", "--seed", { integer: true, min: -5 }), -3);
  assert.equal(numberFlag("0", "--n", { integer: true, min: 0 }), 0);
  assert.ok(Object.is(numberFlag("-0", "--n", { integer: true, min: 0 }), 0), "-0 reads as 0");
  for (const bad of ["0", "101", "1e1", "7.0", "0x10", " 7", "7 ", "+7", "", "seven", "1_000"]) {
    refuses(
      () => numberFlag(bad, "--beam", range),
      `--beam: expected an integer from 1 to 100, got ${JSON.stringify(bad)}`,
    );
  }
  refuses(
    () => numberFlag("99999999999999999999", "--n", { integer: true }),
    '--n: expected an integer, got "99999999999999999999"',
  );
});

test("reals are plain decimals, finite, within the range", () => {
  assert.equal(numberFlag("0.25", "--w", { min: 0 }), 0.25);
  assert.equal(numberFlag("2e-3", "--lr", { min: 0 }), 0.002);
  assert.equal(numberFlag(".5", "--w", { min: 0, max: 1 }), 0.5);
  assert.equal(numberFlag("-1", "--x"), -1);
  assert.equal(numberFlag("+3.", "--x"), 3);
  for (const bad of ["Infinity", "-Infinity", "NaN", "1e999", "0x1", "", " 1", "1,5", "e5"]) {
    refuses(
      () => numberFlag(bad, "--w", { min: 0 }),
      `--w: expected a number >= 0, got ${JSON.stringify(bad)}`,
    );
  }
  refuses(
    () => numberFlag("1.5", "--p", { min: 0, max: 1 }),
    '--p: expected a number from 0 to 1, got "1.5"',
  );
  refuses(() => numberFlag("2", "--p", { max: 1 }), '--p: expected a number <= 1, got "2"');
  refuses(() => numberFlag("x", "--p"), '--p: expected a finite number, got "x"');
});

test("an absent flag stays undefined, so the caller's default applies", () => {
  assert.equal(numberFlag(undefined, "--beam", { integer: true, min: 1 }), undefined);
  assert.equal(numberFlag(undefined, "--beam", { integer: true, min: 1 }) ?? 7, 7);
  assert.equal(numberListFlag(undefined, "--beam"), undefined);
});

test("the named validators are ranges of the one validator", () => {
  assert.equal(positiveInt("12", "--k"), 12);
  refuses(() => positiveInt("0", "--k"), '--k: expected a positive integer, got "0"');
  assert.equal(boundedInt("64", "--threads", 64), 64);
  refuses(
    () => boundedInt("65", "--threads", 64),
    '--threads: expected an integer from 1 to 64, got "65"',
  );
  assert.equal(finiteNumber("0", "--w", 0), 0);
  refuses(() => finiteNumber("-0.5", "--w", 0), '--w: expected a number >= 0, got "-0.5"');
});

test("a list is comma-separated numbers, each checked, the bad one named", () => {
  assert.deepEqual(numberListFlag("1,3, 5", "--beam", { integer: true, min: 1 }), [1, 3, 5]);
  assert.deepEqual(numberListFlag("0.5", "--w", { min: 0 }), [0.5]);
  refuses(
    () => numberListFlag("1,x,3", "--beam", { integer: true, min: 1 }),
    '--beam: expected comma-separated positive integers, got "x" in "1,x,3"',
  );
  refuses(
    () => numberListFlag("1,,3", "--grid", { min: 0 }),
    '--grid: expected comma-separated numbers >= 0, got "" in "1,,3"',
  );
  refuses(
    () => numberListFlag("2,1", "--rerank-beam", { integer: true, min: 2 }),
    '--rerank-beam: expected comma-separated integers >= 2, got "1" in "2,1"',
  );
});
