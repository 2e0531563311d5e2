import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CorruptFileError, InputError } from "../../src/errors.js";
import {
  formatSnippet,
  parseSnippets,
  readSnippets,
  type Snippet,
  SnippetAppender,
  sentenceSnippets,
  writeSnippets,
} from "../../src/mrf/snippets.js";
import type { Region } from "../../src/vision/image.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-snippets-"));
after(() => rmSync(root, { recursive: true, force: true }));

const regions: Region[] = [
  { box: { x1: 0, y1: 0, x2: 224, y2: 224 }, source: "whole" },
  { box: { x1: 10, y1: 20, x2: 90, y2: 100 }, source: "detection", label: "dog", score: 0.9 },
];

function snippetsFor(sentenceId: number): Snippet[] {
  const tokens = ["a", "dog", "runs", "on", "grass"];
  return sentenceSnippets({ filename: "a.jpg", id: 7 }, sentenceId, tokens, regions, [
    { start: 0, end: 2, region: 1, score: 1.23456 },
    { start: 2, end: 5, region: 0, score: -0.5 },
  ]);
}

test("snippets are one segment each, with the region's box and words, and round-trip", () => {
  const snippets = snippetsFor(3);
  assert.deepEqual(snippets[0], {
    filename: "a.jpg",
    imageId: 7,
    sentenceId: 3,
    region: 1,
    box: [10, 20, 90, 100],
    tokens: ["a", "dog"],
    start: 0,
    end: 2,
    score: 1.23456,
  });
  assert.equal(
    formatSnippet(snippets[0]),
    '{"filename":"a.jpg","imageId":7,"sentenceId":3,"region":1,"box":[10,20,90,100],"tokens":["a","dog"],"start":0,"end":2,"score":1.2346}',
  );
  const path = join(root, "round-trip.jsonl");
  writeSnippets(path, snippets);
  const back = readSnippets(path);
  assert.deepEqual(back, [{ ...snippets[0], score: 1.2346 }, snippets[1]]);
});

test("malformed lines are rejected naming file, line and field", () => {
  const good = formatSnippet(snippetsFor(0)[0]);
  const cases: [string, RegExp][] = [
    ["{not json", /f\.jsonl:2: invalid JSON/],
    ["[1, 2]", /^f\.jsonl:2: expected a JSON object, got \[1,2\]$/],
    [good.replace('"region":1', '"region":-1'), /f\.jsonl:2: region: expected an integer >= 0/],
    [good.replace("[10,20,90,100]", "[10,20,90]"), /f\.jsonl:2: box: expected \[x1, y1, x2, y2\]/],
    [good.replace("[10,20,90,100]", "[10,20,5,100]"), /f\.jsonl:2: box: empty box/],
    [good.replace('["a","dog"]', "[]"), /f\.jsonl:2: tokens: expected a non-empty list/],
    [good.replace('"end":2', '"end":3'), /f\.jsonl:2: end: \[start, end\) = \[0, 3\)/],
    [
      good.replace('"score":1.2346', '"score":"high"'),
      /f\.jsonl:2: score: expected a finite number, got "high"$/,
    ],
    [good.replace('"filename":"a.jpg",', ""), /f\.jsonl:2: filename: expected a non-empty string/],
    [
      good.replace('"sentenceId":0', '"sentenceId":1.5'),
      /f\.jsonl:2: sentenceId: expected an integer/,
    ],
  ];
  for (const [line, message] of cases) {
    assert.throws(
      () => parseSnippets(`${good}\n${line}\n`, "f.jsonl"),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      line,
    );
  }
  assert.equal(parseSnippets(`${good}\n\n${good}\n`, "f.jsonl").length, 2);
  assert.throws(() => readSnippets(join(root, "absent.jsonl")), /absent\.jsonl: cannot read/);
});

test("the appender resumes after a kill: committed sentences are done, a torn tail is dropped", () => {
  const path = join(root, "resume.jsonl");
  const settings = { model: "m.ckpt", beta: 1 };
  const first = SnippetAppender.open(path, settings);
  assert.equal(first.done.size, 0);
  first.add(snippetsFor(0));
  first.add(snippetsFor(1));
  first.commit();
  first.add(snippetsFor(2));
  // Killed before this commit, half-way through a write.
  appendFileSync(path, '{"filename":"a.jpg","imageId":7,"senten');

  const second = SnippetAppender.open(path, settings);
  assert.deepEqual([...second.done].sort(), [0, 1]);
  second.add(snippetsFor(2));
  second.commit();
  const all = readSnippets(path);
  assert.deepEqual(
    all.map((s) => s.sentenceId),
    [0, 0, 1, 1, 2, 2],
  );
  assert.ok(readFileSync(path, "utf8").endsWith("\n"));

  assert.throws(
    () => SnippetAppender.open(path, { model: "m.ckpt", beta: 2 }),
    (e: unknown) => e instanceof InputError && /beta = 1, this run has 2/.test(e.message),
  );
  const stray = join(root, "stray.jsonl");
  writeFileSync(stray, `${formatSnippet(snippetsFor(0)[0])}\n`);
  assert.throws(() => SnippetAppender.open(stray, settings), /cannot be resumed/);
});

test("a damaged progress marker is refused as corrupt, naming its field", () => {
  const path = join(root, "marked.jsonl");
  SnippetAppender.open(path, { beta: 1 }).commit();
  const marker = SnippetAppender.markerPath(path);
  const refused = (text: string, message: RegExp) => {
    writeFileSync(marker, text);
    assert.throws(
      () => SnippetAppender.open(path, { beta: 1 }),
      (e: unknown) => e instanceof CorruptFileError && message.test(e.message),
      text,
    );
  };
  const format = '"format":"imagesent-snippets-progress"';
  refused("{", /marked\.jsonl\.progress: invalid JSON/);
  refused(
    `{${format},"settings":{"beta":1},"bytes":-3}`,
    /progress: bytes: expected an integer >= 0, got -3$/,
  );
  refused(`{${format},"bytes":0}`, /progress: settings: expected an object, missing$/);
  refused(
    '{"format":"other"}',
    /progress: format: expected "imagesent-snippets-progress", got "other"$/,
  );
});
