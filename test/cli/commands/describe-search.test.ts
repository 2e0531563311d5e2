import assert from "node:assert/strict";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadBundle } from "../../../src/app/model-bundle.js";
import { describeCommand } from "../../../src/cli/commands/describe.js";
import { indexCommand } from "../../../src/cli/commands/index-images.js";
import { searchCommand } from "../../../src/cli/commands/search.js";
import { InputError } from "../../../src/errors.js";
import { type TrainedWorld, trainedWorld, withoutFineSketches } from "../../app/fixtures.js";

let dir: string;
let trained: TrainedWorld;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-describe-cli-"));
  trained = await trainedWorld(dir, { images: 30 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("argument errors are InputErrors that say what is wrong", async () => {
  const cases: [typeof describeCommand, string[], RegExp][] = [
    [describeCommand, [], /give at least one IMAGE/],
    [
      describeCommand,
      ["a.jpg", "--beam", "0"],
      /--beam: expected an integer from 1 to 100, got "0"/,
    ],
    [describeCommand, ["a.jpg", "--colour", "red"], /colour/],
    [
      describeCommand,
      ["a.jpg", "--rerank-weight=-1"],
      /--rerank-weight: expected a number >= 0, got "-1"/,
    ],
    [
      describeCommand,
      ["a.jpg", "--rerank-weight", "much"],
      /--rerank-weight: expected a number >= 0, got "much"/,
    ],
    [
      describeCommand,
      ["a.jpg", "--bundle", "./no/such/bundle"],
      /no\/such\/bundle: bundle folder not found/,
    ],
    [describeCommand, [trained.bundleDir], /bundle: a folder with no image files/],
    [indexCommand, ["imgs"], /--out is required/],
    [indexCommand, ["a", "b", "--out", "x"], /exactly one image folder/],
    [indexCommand, [join(dir, "none"), "--out", "x"], /none: not a folder/],
    [searchCommand, [], /give the INDEX folder/],
    [searchCommand, ["idx"], /give either one quoted SENTENCE or --image IMG/],
    [searchCommand, ["idx", "a dog", "--image", "x.jpg"], /give either one quoted SENTENCE/],
    [searchCommand, ["idx", "a dog", "--sentences", "s.txt"], /--sentences goes with --image/],
    [
      searchCommand,
      ["idx", "a dog", "--k", "0"],
      /--k: expected an integer from 1 to 1000, got "0"/,
    ],
    [
      searchCommand,
      ["idx", "a dog", "--bundle", "Not/There"],
      /Not\/There: bundle folder not found/,
    ],
  ];
  for (const [command, args, message] of cases) {
    await assert.rejects(
      async () => command.run(args),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      `${command.name} ${args.join(" ")}`,
    );
  }
});

test("describe prints text, JSON and an HTML page; index and search find the image", async (t) => {
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => lines.push(line));
  t.mock.method(console, "error", () => {});
  const images = trained.world.world.images;
  const image = join(trained.world.imagesDir, images[0].filename);
  const bundle = ["--bundle", trained.bundleDir];

  assert.equal(await describeCommand.run([image, ...bundle]), 0);
  assert.match(lines.join("\n"), /000000\.jpg \(224x224\): /);
  assert.match(lines.join("\n"), / 19\. \[\d+, \d+, \d+, \d+\] fallback: \w+/);

  lines.length = 0;
  const html = join(dir, "page.html");
  assert.equal(await describeCommand.run([image, image, ...bundle, "--json", "--html", html]), 0);
  const described = JSON.parse(lines.join("\n"));
  assert.equal(described.length, 2);
  assert.equal(described[0].image, image);
  assert.equal(described[0].regions.length, 19);
  assert.equal(readFileSync(html, "utf8").match(/<figure>/g)?.length, 2);

  const sentencesFile = join(dir, "sentences.txt");
  writeFileSync(
    sentencesFile,
    `${images.map((im) => im.sentences[0].tokens.join(" ")).join("\n")}\n`,
  );
  const index = join(dir, "index");
  assert.equal(
    await indexCommand.run([
      trained.world.imagesDir,
      "--out",
      index,
      ...bundle,
      "--limit",
      "6",
      "--sentences",
      sentencesFile,
      // int8, as every index written before fine sketches was (int8-residual needs them).
      "--codec",
      "int8",
    ]),
    0,
  );

  lines.length = 0;
  const query = images[0].sentences[0].tokens.join(" ");
  assert.equal(await searchCommand.run([index, query, ...bundle, "--json", "--k", "10"]), 0);
  const found = JSON.parse(lines.join("\n"));
  assert.equal(found.query, query);
  // The words of the query the bundle's vocabulary lacks, and only those.
  const vocabulary = loadBundle(trained.bundleDir).alignment.vocabulary;
  assert.deepEqual(found.unknownWords, [
    ...new Set(query.split(" ").filter((w) => !vocabulary.has(w))),
  ]);
  const hits = found.hits;
  // All six indexed images, ranked (the ranking itself is tested in test/app/searcher.test.ts).
  assert.deepEqual(
    hits.map((h: { image: string }) => h.image).sort(),
    images.slice(0, 6).map((im) => join(trained.world.imagesDir, im.filename)),
  );
  assert.ok(hits[0].phrases.length >= 1);
  assert.equal(hits[3].phrases, undefined);

  lines.length = 0;
  assert.equal(await searchCommand.run([index, "--image", image, ...bundle, "--k", "3"]), 0);
  assert.equal(lines.join("\n").split("\n").length, 3);
  assert.match(lines[0], /^ {2}1\. +-?\d+\.\d{3} {2}\w/);

  // An index written before fine sketches gets them from its next `index`, with a progress line.
  withoutFineSketches(index);
  const logged: string[] = [];
  t.mock.method(process.stderr, "write", (chunk: string) => logged.push(String(chunk)));
  assert.equal(
    await indexCommand.run([trained.world.imagesDir, "--out", index, ...bundle, "--limit", "6"]),
    0,
  );
  t.mock.restoreAll();
  assert.match(logged.join(""), /fine sketches 6\/6 \(100\.0%\)/);
  assert.ok(existsSync(join(index, "fine-sketch.bin")));
});

test("describe reports each image it cannot describe, describes the rest, and exits 1", async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, "log", (line: string) => out.push(line));
  t.mock.method(console, "error", (line: string) => err.push(line));
  const good = join(trained.world.imagesDir, trained.world.world.images[0].filename);
  const broken = join(dir, "broken.jpg");
  writeFileSync(broken, "not a jpeg");
  const missing = join(dir, "missing.png");
  const html = join(dir, "partial.html");
  const args = [good, broken, missing, "--bundle", trained.bundleDir, "--json", "--html", html];
  assert.equal(await describeCommand.run(args), 1);

  const described = JSON.parse(out.join("\n"));
  assert.deepEqual(
    described.map((d: { image: string }) => d.image),
    [good, broken, missing],
  );
  assert.equal(described[0].regions.length, 19);
  assert.match(described[1].error, /broken\.jpg: cannot decode image/);
  assert.match(described[2].error, /missing\.png/);
  assert.equal(described[1].regions, undefined);

  const failures = err.filter((line) => line.startsWith("failed: "));
  assert.equal(failures.length, 2, err.join("\n"));
  assert.ok(failures.every((line) => !line.includes("\n")));
  assert.match(failures[0], /broken\.jpg/);
  assert.match(err.at(-1) ?? "", /described 1, 2 failed/);

  const page = readFileSync(html, "utf8");
  assert.equal(page.match(/<figure>/g)?.length, 1, "the described image is drawn");
  assert.equal(page.match(/<figure class="failed">/g)?.length, 2);
  assert.match(page, /broken\.jpg: cannot decode image/);
});

test("describe DIR describes the image files in the folder, by name", async (t) => {
  const out: string[] = [];
  t.mock.method(console, "log", (line: string) => out.push(line));
  t.mock.method(console, "error", () => {});
  const folder = join(dir, "photos");
  mkdirSync(folder);
  const names = trained.world.world.images.slice(0, 2).map((im) => im.filename);
  for (const name of names.toReversed()) {
    copyFileSync(join(trained.world.imagesDir, name), join(folder, name));
  }
  writeFileSync(join(folder, "notes.txt"), "not an image");
  mkdirSync(join(folder, "sub"));
  assert.equal(await describeCommand.run([folder, "--bundle", trained.bundleDir, "--json"]), 0);
  const described = JSON.parse(out.join("\n"));
  assert.deepEqual(
    described.map((d: { image: string }) => d.image),
    names.map((n) => join(folder, n)),
  );
  assert.ok(described.every((d: { caption: string }) => typeof d.caption === "string"));
});
