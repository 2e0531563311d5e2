import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadSplitFeatures, type SplitFeatures } from "../../src/align/image-features.js";
import { AlignmentModel } from "../../src/align/model.js";
import {
  type AlignmentProgress,
  type TrainAlignmentOptions,
  trainAlignment,
} from "../../src/align/train.js";
import { encodeWorldFeatures } from "../../src/cli/demo-stages/features.js";
import { nonFiniteParam, TrainingDivergedError } from "../../src/core/divergence.js";
import type { Dataset } from "../../src/data/dataset.js";
import { generateWorld } from "../../src/world/generate.js";
import { worldToDataset } from "../../src/world/world-file.js";

/** train-align's run bookkeeping on a world of 20 images (16 train, 2 val): tiny and fast. */
let dir: string;
let dataset: Dataset;
let train: SplitFeatures;
let val: SplitFeatures;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-align-run-"));
  const world = await generateWorld(join(dir, "world"), { images: 20, seed: 2 });
  const store = await encodeWorldFeatures(world, join(dir, "features"));
  dataset = worldToDataset(world.world);
  const splits = loadSplitFeatures(store, dataset, ["train", "val"], 20);
  train = splits.get("train")!;
  val = splits.get("val")!;
});

after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = {
  model: { embed: 16, hidden: 8, wordDim: 8 },
  minCount: 1,
} as const;

const run = (out: string, options: Partial<TrainAlignmentOptions> = {}) =>
  trainAlignment(dataset, train, val, { ...TINY, ...options, out: join(dir, out) });

test("an epoch's loss after a resume is over all its batches, not only those after it", () => {
  const settings = { epochs: 1, batchSize: 10, lr: 3e-4, checkpointEvery: 3 };
  const whole = run("whole", { train: settings });
  // Killed as the epoch ends: last.ckpt holds the state after batch 6 of 8.
  const kill = new Error("killed");
  assert.throws(
    () =>
      run("resumed", {
        train: settings,
        log: (line) => {
          if (line.startsWith("epoch 1:")) throw kill;
        },
      }),
    (err) => err === kill,
  );
  assert.ok(!existsSync(join(dir, "resumed", "summary.json")));
  const resumed = run("resumed", { train: settings });
  const summary = JSON.parse(readFileSync(join(dir, "resumed", "summary.json"), "utf8"));
  assert.equal(summary.history.length, 1);
  assert.equal(summary.history[0].loss, whole.history[0].loss);
  assert.equal(resumed.history[0].loss, whole.history[0].loss);
  assert.ok(summary.history[0].trainSeconds > 0);
});

for (const lr of [1e10, 1e30]) {
  test(`a run that diverges (lr ${lr}) stops with a clear error and keeps no best.ckpt`, () => {
    const out = `diverged-${lr}`;
    assert.throws(
      () => run(out, { train: { epochs: 2, batchSize: 10, lr, checkpointEvery: 1 } }),
      (err: Error) =>
        err instanceof TrainingDivergedError &&
        new RegExp(
          `^training diverged at epoch 1, batch \\d+ \\(iteration \\d+\\): .*; lower --lr \\(it is ${String(lr).replace("+", "\\+")}\\); nothing diverged was saved$`,
        ).test(err.message),
    );
    assert.ok(!existsSync(join(dir, out, "best.ckpt")), "no best.ckpt");
    // What was saved before the divergence (after every iteration here) is the last good state.
    const { model } = AlignmentModel.load(join(dir, out, "last.ckpt"));
    assert.equal(nonFiniteParam(model.params), null);
  });
}

test("training reports its progress through onProgress and prints nothing itself", () => {
  const events: AlignmentProgress[] = [];
  const write = process.stderr.write;
  let written = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    run("progress", {
      train: { epochs: 2, batchSize: 10, lr: 3e-4 },
      log: () => {},
      onProgress: (e) => events.push(e),
    });
  } finally {
    process.stderr.write = write;
  }
  assert.equal(written, "");
  const starts = events.filter((e) => e.kind === "epoch-start");
  assert.deepEqual(
    starts.map((e) => [e.epoch, e.epochs, e.done]),
    [
      [1, 2, 0],
      [2, 2, 0],
    ],
  );
  assert.equal(events.filter((e) => e.kind === "epoch-end").length, 2);
  const perEpoch = starts[0].kind === "epoch-start" ? starts[0].sentences : 0;
  const batches = events.filter((e) => e.kind === "batch");
  assert.equal(
    batches.reduce((n, e) => n + (e.kind === "batch" ? e.sentences : 0), 0),
    2 * perEpoch,
  );
  assert.equal(events[0].kind, "epoch-start");
  assert.equal(events.at(-1)?.kind, "epoch-end");
});
