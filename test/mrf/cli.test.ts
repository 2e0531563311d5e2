import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { main } from "../../src/cli/main.js";
import { readSnippets } from "../../src/mrf/snippets.js";
import { type MrfFixture, makeFixture } from "./fixture.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-mrf-cli-"));
let fx: MrfFixture;
before(async () => {
  fx = await makeFixture(root);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs a command with its output silenced; returns the exit code and what went to stderr. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write.bind(process.stderr);
  let stderr = "";
  console.log = () => {};
  console.error = (...parts: unknown[]) => {
    stderr += `${parts.join(" ")}\n`;
  };
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

function alignArgs(out: string, beta: string, extra: string[] = []): string[] {
  const common = ["--model", fx.modelPath, "--dataset", fx.world.datasetPath];
  return ["align", ...common, "--features", fx.storeDir, "--out", out, "--beta", beta, ...extra];
}

test("align writes every train sentence's segments as snippets and resumes without repeats", async () => {
  const out = join(root, "new-folder", "snippets.jsonl");
  assert.equal((await run(alignArgs(out, "1", ["--limit", "3"]))).code, 0);
  const first = readSnippets(out);
  const train = fx.world.world.images.filter((im) => im.split === "train");
  const firstIds = new Set(train.slice(0, 3).flatMap((im) => im.sentences.map((s) => s.id)));
  assert.deepEqual(new Set(first.map((s) => s.sentenceId)), firstIds);
  for (const s of first) {
    const image = fx.world.world.images[s.imageId];
    const sentence = image.sentences.find((x) => x.id === s.sentenceId)!;
    assert.deepEqual(s.tokens, sentence.tokens.slice(s.start, s.end));
    const { x1, y1, x2, y2 } = image.regions[s.region].box;
    assert.deepEqual(s.box, [x1, y1, x2, y2]);
  }

  // The full run picks up after the first three images.
  const { code, stderr } = await run(alignArgs(out, "1"));
  assert.equal(code, 0);
  assert.match(stderr, /resuming: 15 of \d+ sentences already aligned/);
  const all = readSnippets(out);
  assert.deepEqual(all.slice(0, first.length), first);
  const ids = train.flatMap((im) => im.sentences.map((s) => s.id));
  assert.deepEqual(
    [...new Set(all.map((s) => s.sentenceId))].sort((a, b) => a - b),
    ids,
  );
  // Each sentence's snippets tile it in order.
  for (const id of ids) {
    const mine = all.filter((s) => s.sentenceId === id);
    assert.equal(mine[0].start, 0);
    for (let k = 1; k < mine.length; k++) assert.equal(mine[k].start, mine[k - 1].end);
  }

  const other = await run(alignArgs(out, "2"));
  assert.equal(other.code, 2);
  assert.match(other.stderr, /was made with beta = 1, this run has 2/);
});

test("a huge beta gives one snippet per sentence, beta 0 at least as many as any other", async () => {
  const big = join(root, "big.jsonl");
  const zero = join(root, "zero.jsonl");
  assert.equal((await run(alignArgs(big, "1000", ["--limit", "2"]))).code, 0);
  assert.equal((await run(alignArgs(zero, "0", ["--limit", "2"]))).code, 0);
  const bigSnippets = readSnippets(big);
  assert.equal(bigSnippets.length, 10);
  assert.ok(bigSnippets.every((s) => s.start === 0));
  assert.ok(readSnippets(zero).length >= bigSnippets.length);
});

test("show-alignment draws given sentences and a test gallery with the true boxes", async () => {
  const page = join(root, "pages", "one.html");
  const base = ["--model", fx.modelPath, "--features", fx.storeDir, "--images", fx.world.imagesDir];
  const image = fx.world.world.images[0];
  const { code } = await run([
    "show-alignment",
    ...base,
    "--out",
    page,
    image.filename,
    image.sentences[0].raw,
    fx.world.world.images[1].filename,
    "a red thing",
  ]);
  assert.equal(code, 0);
  const html = readFileSync(page, "utf8");
  assert.equal((html.match(/<figure>/g) ?? []).length, 2);
  assert.match(html, /data:image\/jpeg;base64,/);

  const gallery = join(root, "pages", "gallery.html");
  const world = ["--world", join(root, "world")];
  assert.equal(
    (await run(["show-alignment", ...base, ...world, "--gallery", "5", "--out", gallery])).code,
    0,
  );
  const g = readFileSync(gallery, "utf8");
  const tests = fx.world.world.images.filter((im) => im.split === "test");
  assert.equal((g.match(/<figure>/g) ?? []).length, tests.length);
  assert.match(g, /class="truth"/);
  assert.match(g, /phrases on their true box \(IoU &#62;= 0\.5\): \d+\/\d+/);

  const missing = await run(["show-alignment", ...base, "--out", page, "nope.jpg", "a dog"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no nope\.jpg/);
});

test("mrf-grid reports each beta and writes the Markdown section", async () => {
  const md = join(root, "results", "mrf.md");
  const args = ["mrf-grid", "--model", fx.modelPath, "--world", join(root, "world"), "--features"];
  const { code } = await run([
    ...args,
    fx.storeDir,
    "--split",
    "train",
    "--betas",
    "0,1,1000",
    "--markdown",
    md,
  ]);
  assert.equal(code, 0);
  assert.ok(existsSync(md));
  const text = readFileSync(md, "utf8");
  for (const beta of ["0", "1", "1000"])
    assert.match(text, new RegExp(`^\\| \\**${beta}\\** \\|`, "m"));
  assert.match(text, /\*\*Default β = (0|1|1000)\*\*/);
  assert.match(text, /^\| beta \| val phrases \| phrases \| segments \| words \|/m);
  assert.match(
    text,
    /\| (\*\*)?1000(\*\*)? \| [\d.]+% \| [\d.]+% \| [\d.]+% \| [\d.]+% \| 1\.00 \|/,
  );

  const bad = await run([...args, fx.storeDir, "--betas", "0,x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--betas: expected comma-separated numbers/);
});

test("align --phrases noun writes each noun phrase on its region, filtered by confidence", async () => {
  const all = join(root, "noun.jsonl");
  const confident = join(root, "noun-confident.jsonl");
  assert.equal((await run(alignArgs(all, "1", ["--phrases", "noun", "--limit", "3"]))).code, 0);
  const snippets = readSnippets(all);
  assert.ok(snippets.length > 0);
  for (const s of snippets) {
    const image = fx.world.world.images[s.imageId];
    const sentence = image.sentences.find((x) => x.id === s.sentenceId)!;
    assert.deepEqual(s.tokens, sentence.tokens.slice(s.start, s.end));
    // A noun phrase never ends in a determiner or a preposition.
    assert.ok(!["a", "the", "in", "on", "with"].includes(s.tokens[s.tokens.length - 1]));
    assert.ok(s.score >= 0);
  }
  const median = [...snippets.map((s) => s.score)].sort((a, b) => a - b)[
    Math.floor(snippets.length / 2)
  ];
  const args = ["--phrases", "noun", "--min-confidence", String(median), "--limit", "3"];
  assert.equal((await run(alignArgs(confident, "1", args))).code, 0);
  const kept = readSnippets(confident);
  assert.ok(kept.length < snippets.length && kept.every((s) => s.score >= median - 1e-4));

  const bad = await run(alignArgs(join(root, "x.jsonl"), "1", ["--phrases", "words"]));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--phrases: expected mrf or noun, got "words"/);
  const mrf = await run(alignArgs(join(root, "y.jsonl"), "1", ["--min-confidence", "1"]));
  assert.equal(mrf.code, 2);
  assert.match(mrf.stderr, /--min-confidence applies to --phrases noun only/);
});
