import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type TrainedWorld, trainedWorld } from "../../app/fixtures.js";
import { assertClearError, runCli } from "../../support/cli-run.js";

let dir: string;
let trained: TrainedWorld;
let images: string;
let index: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-search-index-cli-"));
  trained = await trainedWorld(dir, { images: 30 });
  images = join(dir, "photos");
  mkdirSync(images);
  for (const im of trained.world.world.images.slice(0, 5)) {
    cpSync(join(trained.world.imagesDir, im.filename), join(images, im.filename));
  }
  index = join(dir, "index");
  const r = await runCli(["index", images, "--out", index, "--bundle", trained.bundleDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /added 5 images, re-indexed 0 changed, kept 0 unchanged, 0 failed/);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("index --prune removes the files gone from DIR; unchanged files are kept", async () => {
  const copy = join(dir, "prune-index");
  cpSync(index, copy, { recursive: true });
  const gone = join(images, trained.world.world.images[4].filename);
  const bytes = readFileSync(gone);
  rmSync(gone);
  try {
    const r = await runCli([
      "index",
      images,
      "--out",
      copy,
      "--bundle",
      trained.bundleDir,
      "--prune",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /added 0 images, re-indexed 0 changed, kept 4 unchanged, removed 1 gone/,
    );
  } finally {
    writeFileSync(gone, bytes);
  }
});

test("search --similar lists the indexed images most like one, itself left out", async () => {
  const query = join(images, trained.world.world.images[0].filename);
  const r = await runCli([
    "search",
    index,
    "--similar",
    query,
    "--bundle",
    trained.bundleDir,
    "--json",
    "--k",
    "3",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const hits = JSON.parse(r.stdout) as { image: string; score: number }[];
  assert.equal(hits.length, 3);
  assert.ok(!hits.some((h) => h.image === query));
  for (const h of hits) assert.ok(h.score <= 1 + 1e-6 && h.score > -1, `${h.score}`);
});

test("search names unknown words; another bundle's index is refused with the rebuild command, which works", async () => {
  const words = trained.world.world.images[0].sentences[0].tokens.join(" ");
  const found = await runCli(["search", index, `${words} qqqz`, "--bundle", trained.bundleDir]);
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stderr, /not in the vocabulary, left out: (\w+, )*qqqz\n/);
  const hitLines = found.stdout.split("\n").filter((l) => /^ +\d+\. /.test(l));
  assert.equal(hitLines.length, 5, found.stdout);

  const copy = join(dir, "other-index");
  cpSync(index, copy, { recursive: true });
  const path = join(copy, "index.json");
  const json = JSON.parse(readFileSync(path, "utf8"));
  writeFileSync(path, JSON.stringify({ ...json, bundle: "f".repeat(32), bundleName: "older" }));
  const refused = await runCli(["search", copy, words, "--bundle", trained.bundleDir]);
  assertClearError(
    refused,
    new RegExp(`built with another bundle \\(older\\).*imagesent index --rebuild --out ${copy}`),
    "another bundle",
  );
  const rebuilt = await runCli([
    "index",
    "--rebuild",
    "--out",
    copy,
    "--bundle",
    trained.bundleDir,
  ]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(rebuilt.stderr, /re-embedded 5 images from their stored codes/);
  const again = await runCli(["search", copy, words, "--bundle", trained.bundleDir, "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).hits.length, 5);
  assertClearError(
    await runCli(["index", images, "--rebuild", "--out", copy]),
    /--rebuild takes no DIR/,
    "rebuild with a DIR",
  );
  assertClearError(
    await runCli(["index", images, "--out", copy, "--codec", "pq"]),
    /--codec: expected one of int8, fp16, int8-residual, got "pq"/,
    "bad codec",
  );
});
