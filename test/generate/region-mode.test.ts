import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { main } from "../../src/cli/main.js";
import { buildVocabulary } from "../../src/data/vocabulary.js";
import { loadCaptionData } from "../../src/generate/caption-data.js";
import { loadGenerator } from "../../src/generate/load-generator.js";
import { parseSnippets, readSnippets } from "../../src/mrf/snippets.js";
import { tinyWorld } from "./fixtures.js";

function snippetLine(filename: string, region: number, tokens: string[], extra = {}): string {
  return JSON.stringify({
    filename,
    imageId: 0,
    sentenceId: 3,
    region,
    box: [0, 0, 5, 5],
    tokens,
    start: 1,
    end: 1 + tokens.length,
    score: 0.7,
    ...extra,
  });
}

test("region mode: each region with snippets is a target, with the store's row for that region", () => {
  const world = tinyWorld();
  const file = join(world.dir, "snippets.jsonl");
  writeFileSync(
    file,
    [
      snippetLine("img0.jpg", 2, ["a", "dog"]),
      snippetLine("img0.jpg", 2, ["the", "dog"]),
      snippetLine("img0.jpg", 1, ["grass"]),
      "",
      snippetLine("img9.jpg", 1, ["red", "bike"]),
      snippetLine("img13.jpg", 0, ["water"]),
    ].join("\n"),
  );
  const snippets = readSnippets(file);
  assert.equal(snippets.length, 5);
  const vocabulary = buildVocabulary(world.dataset, { minCount: 1 });
  const data = loadCaptionData(world.dataset, world.store, vocabulary, {
    mode: "region",
    snippets,
  });
  const { train, val, test: testSplit } = data.splits;
  assert.deepEqual(
    train.targets.map((t) => [t.key, t.references.map((r) => r.join(" "))]),
    [
      ["img0.jpg#2", ["a dog", "the dog"]],
      ["img0.jpg#1", ["grass"]],
    ],
  );
  assert.deepEqual(
    val.targets.map((t) => t.key),
    ["img9.jpg#1"],
  );
  assert.deepEqual(
    testSplit.targets.map((t) => t.key),
    ["img13.jpg#0"],
  );
  const stored = world.store.get("img0.jpg")!.features;
  assert.deepEqual(train.features.subarray(0, 8), stored.subarray(2 * 8, 3 * 8));
  assert.deepEqual(train.features.subarray(8, 16), stored.subarray(8, 16));
  assert.equal(train.sentences.length, 3);

  assert.throws(
    () =>
      loadCaptionData(world.dataset, world.store, vocabulary, {
        mode: "region",
        snippets: parseSnippets(snippetLine("img0.jpg", 3, ["dog"]), "s.jsonl"),
      }),
    /img0\.jpg: region 3 asked for, the feature store has 3 regions/,
  );
});

test("train-gen --mode region trains on a snippet file and eval-gen reads the model back", async () => {
  const world = tinyWorld();
  const file = join(world.dir, "snippets.jsonl");
  const lines = [];
  for (let i = 0; i < 16; i++) lines.push(snippetLine(`img${i}.jpg`, i % 3, ["a", "dog"]));
  writeFileSync(file, `${lines.join("\n")}\n`);
  const out = join(world.dir, "region-model");
  const quiet = console.error;
  const log = console.log;
  const errors: string[] = [];
  console.error = (line: string) => errors.push(String(line));
  console.log = () => {};
  try {
    const common = ["--dataset", world.datasetPath, "--features", world.storeDir];
    const trainArgs = ["train-gen", "--mode", "region", "--snippets", file, ...common];
    const rest = [
      "--out",
      out,
      "--epochs",
      "2",
      "--hidden",
      "8",
      "--embed",
      "4",
      "--min-count",
      "1",
    ];
    assert.equal(await main([...trainArgs, ...rest]), 0);
    const model = join(out, "best.ckpt");
    assert.equal(loadGenerator(model).config.mode, "region");
    const markdown = join(world.dir, "results", "captions.md");
    const evalArgs = ["eval-gen", "--model", model, ...common, "--snippets", file];
    assert.equal(await main([...evalArgs, "--markdown", markdown]), 0);
    const text = readFileSync(markdown, "utf8");
    assert.match(text, /\| ours: RNN, beam 7, length norm 0\.7 \|/);
    assert.match(text, /\| ours: nearest neighbour \|/);
    assert.match(
      text,
      /\| paper: Flickr8K multimodal RNN \(VGG, beam 7\) \| 57\.9 \| 38\.3 \| 24\.5 \| 16\.0 \| 16\.7 \| - \| 31\.8 \|/,
    );
    assert.equal(await main(["eval-gen", "--model", model, ...common]), 2);
    assert.equal(await main(["train-gen", "--mode", "region", ...common, "--out", out]), 2);

    // A second seed decodes with the first as an ensemble; another vocabulary is refused.
    const seed2 = join(world.dir, "region-model-2");
    assert.equal(await main([...trainArgs, ...rest.slice(2), "--out", seed2, "--seed", "2"]), 0);
    const ensemble = ["--ensemble", join(seed2, "best.ckpt")];
    assert.equal(await main([...evalArgs, ...ensemble, "--markdown", markdown]), 0);
    const both = readFileSync(markdown, "utf8");
    assert.match(both, /\| ours: RNN, ensemble of 2, beam 7, length norm 0\.7 \|/);
    assert.match(both, /The ensemble rows decode with this model and `[^`]*region-model-2/);
    const other = join(world.dir, "region-model-3");
    const otherVocabulary = [...rest.slice(2, -2), "--min-count", "3", "--out", other];
    assert.equal(await main([...trainArgs, ...otherVocabulary]), 0);
    assert.equal(await main([...evalArgs, "--ensemble", join(other, "best.ckpt")]), 2);
    assert.match(errors.join("\n"), /region-model-3.*vocabulary differs from/);
  } finally {
    console.error = quiet;
    console.log = log;
  }
});
