import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { evalRetrievalCommand } from "../../src/cli/commands/eval-retrieval.js";
import { fuseAlignCommand } from "../../src/cli/commands/fuse-align.js";
import { trainAlignCommand } from "../../src/cli/commands/train-align.js";
import { encodeWorldFeatures } from "../../src/cli/demo-stages/features.js";
import { InputError } from "../../src/errors.js";
import { type GeneratedWorld, generateWorld } from "../../src/world/generate.js";

let dir: string;
let world: GeneratedWorld;
let features: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-align-cli-"));
  world = await generateWorld(join(dir, "world"), { images: 60, seed: 2 });
  features = join(dir, "features");
  await encodeWorldFeatures(world, features);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const small = [
  "--embed",
  "32",
  "--hidden",
  "16",
  "--word-dim",
  "16",
  "--batch",
  "10",
  "--lr",
  "3e-4",
];

test("train-align writes best.ckpt, last.ckpt and summary.json; eval-retrieval reports them", async (t) => {
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => lines.push(line));
  const base = ["--dataset", world.datasetPath, "--features", features];
  for (const [name, extra] of [
    ["r20", []],
    ["r1", ["--regions", "1"]],
  ] as const) {
    const out = join(dir, name);
    assert.equal(
      trainAlignCommand.run([...base, "--out", out, "--epochs", "2", ...small, ...extra]),
      0,
    );
    for (const f of ["best.ckpt", "last.ckpt", "summary.json"])
      assert.ok(existsSync(join(out, f)), f);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    assert.equal(summary.history.length, 2);
    assert.ok(summary.sentencesPerSecond > 0);
  }
  const md = join(dir, "results", "retrieval.md");
  const models = [
    "--model",
    join(dir, "r20", "best.ckpt"),
    "--model",
    join(dir, "r1", "best.ckpt"),
  ];
  assert.equal(
    evalRetrievalCommand.run([...models, ...base, "--split", "test", "--markdown", md]),
    0,
  );
  const text = readFileSync(md, "utf8");
  assert.match(
    text,
    /\| paper \(VGG fc7, R-CNN regions\), Flickr8K \| 16\.5 \| 40\.6 \| 54\.2 \| 7\.6 \|/,
  );
  assert.match(text, /\| ours, 20 regions/);
  assert.match(text, /\| ours, whole image only/);
  assert.match(text, /## Training/);
  assert.match(text, /6 images and 30 sentences/);

  lines.length = 0;
  assert.equal(evalRetrievalCommand.run([...models.slice(0, 2), ...base, "--json"]), 0);
  const json = JSON.parse(lines.join("\n"));
  assert.equal(json.rows[0].result.images, 6);
  assert.ok(json.rows[0].result.annotation.r10 >= 0);

  // Fusing on val: weight 0 for the whole-image model is on the grid, so the fusion does at
  // least as well on val as the 20-region model alone.
  const fused = join(dir, "fused.json");
  assert.equal(fuseAlignCommand.run([...models, ...base, "--out", fused, "--split", "val"]), 0);
  lines.length = 0;
  const sum = (r: { annotation: Record<string, number>; search: Record<string, number> }) =>
    ["r1", "r5", "r10"].reduce((s, k) => s + r.annotation[k] + r.search[k], 0);
  assert.equal(
    evalRetrievalCommand.run([
      ...models.slice(0, 2),
      "--model",
      fused,
      ...base,
      "--split",
      "val",
      "--json",
    ]),
    0,
  );
  const val = JSON.parse(lines.join("\n"));
  assert.equal(
    evalRetrievalCommand.run(["--model", fused, ...base, "--split", "val", "--markdown", md]),
    0,
  );
  assert.match(
    readFileSync(md, "utf8"),
    /ours, fused: .*: the fused models, with the runs they were fine-tuned from, trained for \d+ min of wall time in all\./,
  );
  assert.match(val.rows[1].label, /^ours, fused: 20 regions \+ .*weights tuned on val/);
  assert.ok(sum(val.rows[1].result) >= sum(val.rows[0].result));
  // A fine-tuned run records where it started, so a fusion's training time counts that run too.
  const tuned = join(dir, "r20-tuned");
  const init = ["--init", join(dir, "r20", "best.ckpt"), "--epochs", "1"];
  assert.equal(trainAlignCommand.run([...base, "--out", tuned, ...init, ...small]), 0);
  const summary = JSON.parse(readFileSync(join(tuned, "summary.json"), "utf8"));
  assert.equal(summary.init, join(dir, "r20", "best.ckpt"));
  assert.throws(
    () => fuseAlignCommand.run([...models, ...base, "--out", fused, "--split", "test"]),
    /never tuned on test/,
  );
});

test("bad flags and files are InputErrors naming what is wrong", () => {
  const base = ["--dataset", world.datasetPath, "--features", features, "--out", join(dir, "bad")];
  const cases: [() => unknown, RegExp][] = [
    [
      () => trainAlignCommand.run(["--dataset", world.datasetPath]),
      /--features and --out are required/,
    ],
    [() => trainAlignCommand.run([...base, "--lr", "-1"]), /--lr/],
    [() => trainAlignCommand.run([...base, "--loss", "max"]), /--loss: expected sum or hardest/],
    [() => trainAlignCommand.run([...base, "--regions", "21"]), /holds 20 regions per image, 21/],
    [
      () =>
        evalRetrievalCommand.run([
          "--model",
          world.datasetPath,
          "--dataset",
          world.datasetPath,
          "--features",
          features,
        ]),
      /dataset\.json: format: expected "imagesent-alignment-fusion", missing/,
    ],
    [
      () =>
        evalRetrievalCommand.run([
          "--model",
          join(features, "meta.json.missing.ckpt"),
          "--dataset",
          world.datasetPath,
          "--features",
          features,
        ]),
      /meta.json.missing.ckpt/,
    ],
    [
      () =>
        evalRetrievalCommand.run([
          "--model",
          "x",
          "--dataset",
          world.datasetPath,
          "--features",
          features,
          "--split",
          "dev",
        ]),
      /--split: expected one of/,
    ],
  ];
  for (const [run, message] of cases) {
    assert.throws(
      run,
      (e: unknown) => e instanceof InputError && message.test(e.message),
      String(message),
    );
  }
});
