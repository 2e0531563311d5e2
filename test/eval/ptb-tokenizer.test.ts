import assert from "node:assert/strict";
import { test } from "node:test";
import { PTB_PUNCTUATION, ptbTokenize, rawTokens } from "../../src/eval/ptb-tokenizer.js";

test("splits clitics and punctuation, escapes brackets, lowercases, drops coco-caption's punctuation", () => {
  assert.deepEqual(rawTokens("A man's dog doesn't like (big) cats."), [
    "A",
    "man",
    "'s",
    "dog",
    "does",
    "n't",
    "like",
    "-LRB-",
    "big",
    "-RRB-",
    "cats",
    ".",
  ]);
  // PTBTokenizer lowercases -LRB- to -lrb-, which coco-caption's upper-case list no longer removes.
  assert.deepEqual(ptbTokenize("A man's dog doesn't like (big) cats."), [
    "a",
    "man",
    "'s",
    "dog",
    "does",
    "n't",
    "like",
    "-lrb-",
    "big",
    "-rrb-",
    "cats",
  ]);
});

test("writes can't and won't the PTB way and splits cannot, gonna", () => {
  assert.deepEqual(ptbTokenize("I can't, won't; cannot gonna"), [
    "i",
    "ca",
    "n't",
    "wo",
    "n't",
    "can",
    "not",
    "gon",
    "na",
  ]);
});

test("keeps numbers, times, abbreviations and hyphenated words whole", () => {
  assert.deepEqual(ptbTokenize("Mr. Smith at 10:30 paid $5 for 1,000 U.S. black-and-white cars"), [
    "mr.",
    "smith",
    "at",
    "10:30",
    "paid",
    "$",
    "5",
    "for",
    "1,000",
    "u.s.",
    "black-and-white",
    "cars",
  ]);
  assert.deepEqual(ptbTokenize("It is 3.5 m. tall"), ["it", "is", "3.5", "m", "tall"]);
});

test("removes quotes, dashes and ellipses in ASCII and Unicode forms", () => {
  assert.deepEqual(ptbTokenize(`"Quoted" 'single' dogs' bowls... -- a — b…`), [
    "quoted",
    "single",
    "dogs",
    "bowls",
    "a",
    "b",
  ]);
  assert.deepEqual(ptbTokenize("don\u2019t"), ["do", "n't"]);
});

test("Americanizes words (case-sensitively) and escapes / and *", () => {
  assert.deepEqual(ptbTokenize("A grey colour Grey behaviour detour and/or f**k"), [
    "a",
    "gray",
    "color",
    "grey",
    "behavior",
    "detour",
    "and\\/or",
    "f\\*\\*k",
  ]);
});

test("runs of ? and ! form one token, which coco-caption keeps", () => {
  assert.deepEqual(ptbTokenize("wow?! really ? yes !"), ["wow", "?!", "really", "yes"]);
});

test("punctuation-only and empty text give no tokens", () => {
  assert.deepEqual(ptbTokenize('? ! ... , ; : -- \' ` "quoted"'), ["quoted"]);
  assert.deepEqual(ptbTokenize("? ! ... , ; : -- - '"), []);
  assert.deepEqual(ptbTokenize(""), []);
  assert.deepEqual(ptbTokenize("   \n "), []);
});

test("unicode letters stay in words and are lowercased", () => {
  assert.deepEqual(ptbTokenize("Café NAÏVE 日本 straße!"), ["café", "naïve", "日本", "straße"]);
});

test("the punctuation list is coco-caption's", () => {
  assert.equal(PTB_PUNCTUATION.size, 17);
  for (const p of ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!"]) {
    assert.ok(PTB_PUNCTUATION.has(p), p);
  }
  for (const p of [",", ":", "-", "--", "...", ";"]) assert.ok(PTB_PUNCTUATION.has(p), p);
});
