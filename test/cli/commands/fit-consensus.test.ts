import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SnippetConsensus } from "../../../src/generate/snippet-consensus.js";
import { type Snippet, writeSnippets } from "../../../src/mrf/snippets.js";
import { FeatureStore } from "../../../src/vision/feature-store.js";
import { assertClearError, runCli } from "../../support/cli-run.js";
import { writeFlickr8kFolder, writeRandomStore } from "../../support/tiny-flickr8k.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-fit-consensus-"));
after(() => rmSync(root, { recursive: true, force: true }));

const DIM = 6;
const TRAIN = ["1000_aa.jpg", "1001_ab.jpg", "1002_ac.jpg", "1003_ad.jpg"];
const VAL = ["2000_ba.jpg"];

/** A Flickr8k folder of four train images and one val image, their store and their snippets. */
function writeData() {
  const all = [...TRAIN, ...VAL];
  const dataset = writeFlickr8kFolder(
    join(root, "flickr8k"),
    { train: TRAIN, val: VAL },
    "a black dog runs on the grass .",
  );
  const storeDir = writeRandomStore(
    join(root, "features"),
    all,
    DIM,
    [
      { box: { x1: 0, y1: 0, x2: 100, y2: 50 }, source: "whole" },
      { box: { x1: 0, y1: 0, x2: 50, y2: 50 }, source: "fallback" },
      { box: { x1: 50, y1: 0, x2: 100, y2: 50 }, source: "fallback" },
    ],
    2,
  );
  const snippet = (filename: string, region: number, tokens: string[]): Snippet => ({
    filename,
    imageId: all.indexOf(filename),
    sentenceId: 0,
    region,
    box: region === 1 ? [0, 0, 50, 50] : [50, 0, 100, 50],
    tokens,
    start: 0,
    end: tokens.length,
    score: 1,
  });
  const snippets = [
    ...TRAIN.flatMap((f) => [
      snippet(f, 1, ["a", "black", "dog"]),
      snippet(f, 2, ["the", "grass"]),
    ]),
    snippet(TRAIN[0], 1, ["a", "dog"]),
    snippet(VAL[0], 1, ["a", "cat"]),
  ];
  writeSnippets(join(root, "snippets.jsonl"), snippets);
  writeSnippets(join(root, "val-only.jsonl"), snippets.slice(-1));
  return { dataset, store: storeDir };
}

let data: { dataset: string; store: string };
before(() => {
  data = writeData();
});

const args = (snippets: string, out: string, extra: string[] = []) => [
  "fit-consensus",
  "--dataset",
  data.dataset,
  "--features",
  data.store,
  "--snippets",
  join(root, snippets),
  "--out",
  join(root, out),
  ...extra,
];

test("fit-consensus keeps each train region's snippets and codes, not the val ones", async () => {
  const r = await runCli(args("snippets.jsonl", "consensus.ckpt", ["--dims", "3"]));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /8 train regions, 9 snippets, compared in 3 principal directions/);
  const c = SnippetConsensus.load(join(root, "consensus.ckpt"));
  assert.equal(c.regions, 8);
  assert.equal(c.projection.dims, 3);
  const said = c.snippets.map((s) => s.map((w) => w.join(" ")).sort());
  assert.ok(said.some((s) => s.join("|") === "a black dog|a dog"));
  assert.ok(!said.flat().includes("a cat"), "val snippets are not in it");
  // A train region's own code finds that region first.
  const store = FeatureStore.open(data.store);
  const code = store.get(TRAIN[2])!.features.subarray(2 * DIM, 3 * DIM);
  const [nearest] = c.neighbours(Float32Array.from(code), 1);
  assert.deepEqual(
    c.snippets[nearest[0]].map((w) => w.join(" ")),
    ["the grass"],
  );
});

test("fit-consensus refuses missing flags and snippets of no train image, writing nothing", async () => {
  assertClearError(
    await runCli(["fit-consensus", "--dataset", data.dataset]),
    /--dataset, --features, --snippets and --out are required/,
    "missing flags",
  );
  assertClearError(
    await runCli(args("val-only.jsonl", "none.ckpt")),
    /val-only\.jsonl: no snippet on a train image of .* that .* holds/,
    "only val snippets",
  );
  assertClearError(
    await runCli(args("snippets.jsonl", "none.ckpt", ["--dims", "0"])),
    /--dims/,
    "--dims 0",
  );
  assert.ok(!existsSync(join(root, "none.ckpt")));
});
