import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadSplitFeatures } from "../../src/align/image-features.js";
import { trainAlignment } from "../../src/align/train.js";
import { encodeWorldFeatures } from "../../src/cli/demo-stages/features.js";
import { loadCheckpoint } from "../../src/core/checkpoint.js";
import { CorruptFileError, InputError } from "../../src/errors.js";
import { generateWorld } from "../../src/world/generate.js";
import { worldToDataset } from "../../src/world/world-file.js";
import {
  flipBit,
  joinCheckpoint,
  splitCheckpoint,
  withTensorValue,
} from "../support/checkpoint-bytes.js";
import {
  assertClearError,
  assertTreeUnchanged,
  type CliResult,
  runCli,
  snapshotTree,
} from "../support/cli-run.js";

/**
 * Bad input to training and to what reads its checkpoints: damaged checkpoints, weights that are
 * not finite, flags out of range, datasets missing fields, runs that diverge. Each is refused
 * with exit 2 and one line naming the file, field or flag, and leaves nothing behind. The world
 * is 20 images (16 train, 2 val, 2 test) and every model tiny, so the suite runs in seconds.
 */
let dir: string;
let dataset: string;
let features: string;
/** A good alignment checkpoint (format version 2), its bytes and its version 1 twin. */
let good: string;
let goodBytes: Uint8Array;
let fixtures: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-hostile-train-"));
  const world = await generateWorld(join(dir, "world"), { images: 20, seed: 2 });
  const store = await encodeWorldFeatures(world, join(dir, "features"));
  dataset = world.datasetPath;
  features = join(dir, "features");
  const splits = loadSplitFeatures(store, worldToDataset(world.world), ["train", "val"], 20);
  const run = trainAlignment(
    worldToDataset(world.world),
    splits.get("train")!,
    splits.get("val")!,
    {
      out: join(dir, "good"),
      model: { embed: 16, hidden: 8, wordDim: 8 },
      minCount: 1,
      train: { epochs: 1, batchSize: 10, lr: 3e-4 },
    },
  );
  good = run.bestPath;
  goodBytes = readFileSync(good);
  fixtures = join(dir, "fixtures");
  mkdirSync(fixtures);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const data = () => ["--dataset", dataset, "--features", features];
const TINY = ["--embed", "16", "--hidden", "8", "--word-dim", "8", "--min-count", "1"];
const TINY_GEN = ["--hidden", "16", "--embed", "8", "--min-count", "1", "--val-captions", "1"];
/**
 * Put before a flag under test (the last value of a flag wins): should the flag be accepted
 * after all, the run is one tiny epoch, and the test fails in seconds instead of training on.
 */
const BRIEF = [...TINY, "--epochs", "1", "--max-minutes", "0.01"];
const BRIEF_GEN = [...TINY_GEN, "--epochs", "1", "--max-minutes", "0.01"];

let fixtureCount = 0;
/** Writes `bytes` as a fresh fixture file and returns its path. */
function fixture(name: string, bytes: Uint8Array | string): string {
  const path = join(fixtures, `${fixtureCount++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

/** A scratch folder a command may write into; a refused command must leave it as it was. */
function scratch(): string {
  const path = join(dir, `scratch-${fixtureCount++}`);
  mkdirSync(path);
  return path;
}

/** Runs argv, expecting a clear refusal naming `names` and no file written under `watch`. */
async function refused(argv: string[], names: RegExp | string, what: string, watch = scratch()) {
  const before = snapshotTree(watch);
  const r = await runCli(argv);
  assertClearError(r, names, what);
  assertTreeUnchanged(watch, before, what);
  return r;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// --- Damaged checkpoints -------------------------------------------------------------------

/** Where the JSON header of a version 2 file lies, and its payload. */
function layout(bytes: Uint8Array) {
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const payloadStart = Math.ceil((20 + jsonLength) / 8) * 8;
  return { jsonStart: 20, jsonEnd: 20 + jsonLength, payloadStart };
}

/** Damaged copies of the good checkpoint, each with what it is. */
function damaged(): { what: string; bytes: () => Uint8Array }[] {
  const cases: { what: string; bytes: () => Uint8Array }[] = [];
  const header = (fraction: number) => {
    const { jsonStart, jsonEnd } = layout(goodBytes);
    return jsonStart + Math.floor(fraction * (jsonEnd - jsonStart - 1));
  };
  for (const f of [0, 0.01, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.999]) {
    cases.push({
      what: `with a flipped bit in the header at ${f} of its length`,
      bytes: () => flipBit(goodBytes, header(f), 1),
    });
  }
  cases.push({
    what: "with a flipped bit in a vocabulary word (the JSON still parses)",
    bytes: () => flipBit(goodBytes, Buffer.from(goodBytes).indexOf('"circle"') + 1, 0),
  });
  for (const field of [12, 13, 16, 19]) {
    cases.push({
      what: `with a flipped bit in preamble byte ${field}`,
      bytes: () => flipBit(goodBytes, field, 2),
    });
  }
  for (const f of [0, 0.2, 0.5, 0.8, 1]) {
    cases.push({
      what: `with a flipped bit in the tensors at ${f} of their length`,
      bytes: () => {
        const { payloadStart } = layout(goodBytes);
        const at = payloadStart + Math.floor(f * (goodBytes.length - payloadStart - 1));
        return flipBit(goodBytes, at, 7);
      },
    });
  }
  for (const f of [0, 0.0001, 0.001, 0.002, 0.01, 0.05, 0.3, 0.6, 0.9, 0.9999]) {
    cases.push({
      what: `truncated to ${f} of its length`,
      bytes: () => goodBytes.subarray(0, Math.floor(f * goodBytes.length)),
    });
  }
  for (const n of [3, 8, 15, 19]) {
    cases.push({ what: `truncated to ${n} bytes`, bytes: () => goodBytes.subarray(0, n) });
  }
  cases.push({ what: "one byte short", bytes: () => goodBytes.subarray(0, goodBytes.length - 1) });
  cases.push({
    what: "with bytes appended",
    bytes: () => Buffer.concat([goodBytes, new Uint8Array(8)]),
  });
  cases.push({
    what: "cut at the end of its JSON header",
    bytes: () => goodBytes.subarray(0, layout(goodBytes).jsonEnd),
  });
  cases.push({
    what: "with its payload zeroed",
    bytes: () => {
      const out = Uint8Array.from(goodBytes);
      out.fill(0, layout(goodBytes).payloadStart);
      return out;
    },
  });
  return cases;
}

for (const { what, bytes } of damaged()) {
  test(`eval-retrieval: a checkpoint ${what} is a corrupt file, named`, async () => {
    const path = fixture("damaged.ckpt", bytes());
    assert.throws(() => loadCheckpoint(path), CorruptFileError, what);
    const out = scratch();
    await refused(
      ["eval-retrieval", "--model", path, ...data(), "--markdown", join(out, "r.md")],
      new RegExp(`^imagesent eval-retrieval: ${escapeRegExp(path)}: `),
      what,
      out,
    );
  });
}

const foreign: [string, () => Uint8Array | string][] = [
  ["zero bytes", () => new Uint8Array(0)],
  ["a wrong magic", () => Buffer.concat([Buffer.from("IMSCKPX\n"), goodBytes.subarray(8)])],
  [
    "the magic in lower case",
    () => Buffer.concat([Buffer.from("imsckpt\n"), goodBytes.subarray(8)]),
  ],
  ["text", () => "a checkpoint, honestly\n"],
  ["a JSON file", () => JSON.stringify({ format: "imagesent-alignment-fusion" })],
  [
    "format version 9",
    () => {
      const out = Uint8Array.from(goodBytes);
      new DataView(out.buffer).setUint32(8, 9, true);
      return out;
    },
  ],
  [
    "format version 0",
    () => {
      const out = Uint8Array.from(goodBytes);
      new DataView(out.buffer).setUint32(8, 0, true);
      return out;
    },
  ],
];
for (const [what, bytes] of foreign) {
  test(`eval-retrieval: ${what} given as a checkpoint is refused, the file named`, async () => {
    const path = fixture("foreign.ckpt", bytes());
    assert.throws(() => loadCheckpoint(path), InputError, what);
    await refused(
      ["eval-retrieval", "--model", path, ...data()],
      new RegExp(`^imagesent eval-retrieval: ${escapeRegExp(path)}: `),
      what,
    );
  });
}

// --- Weights that are not finite -----------------------------------------------------------

for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
  for (const version of [1, 2] as const) {
    test(`eval-retrieval refuses a version ${version} checkpoint whose weight is ${value}`, async () => {
      const bytes = joinCheckpoint(
        splitCheckpoint(withTensorValue(goodBytes, "Wm", 5, value)),
        version,
      );
      const path = fixture(`nonfinite-v${version}.ckpt`, bytes);
      const out = scratch();
      await refused(
        ["eval-retrieval", "--model", path, ...data(), "--markdown", join(out, "r.md")],
        new RegExp(
          `${escapeRegExp(path)}: parameter Wm holds ${value} \\(1 of \\d+ values are not finite\\)`,
        ),
        `weight ${value}`,
        out,
      );
    });
  }
}

test("fuse-align refuses a member whose weights are NaN, writing no fusion", async () => {
  const path = fixture("nan.ckpt", withTensorValue(goodBytes, "Wm", 0, Number.NaN));
  const out = scratch();
  await refused(
    ["fuse-align", "--model", good, "--model", path, ...data(), "--out", join(out, "f.json")],
    `${path}: parameter Wm holds NaN`,
    "NaN member",
    out,
  );
});

test("fuse-align refuses a truncated member", async () => {
  const path = fixture("cut.ckpt", goodBytes.subarray(0, 1000));
  const out = scratch();
  await refused(
    ["fuse-align", "--model", path, "--model", good, ...data(), "--out", join(out, "f.json")],
    `${path}: truncated`,
    "truncated member",
    out,
  );
});

test("a fusion whose member weight is not a number is refused, the field named", async () => {
  const fusion = fixture(
    "fusion.json",
    JSON.stringify({
      format: "imagesent-alignment-fusion",
      members: [{ checkpoint: good, weight: null }],
    }),
  );
  await refused(
    ["eval-retrieval", "--model", fusion, ...data()],
    "members[0].weight: expected a finite number, got null",
    "null weight",
  );
});

for (const [what, bytes] of [
  ["a flipped header bit", () => flipBit(goodBytes, layout(goodBytes).jsonStart + 40, 3)],
  ["NaN weights", () => withTensorValue(goodBytes, "Wm", 1, Number.NaN)],
] as const) {
  test(`train-align --init refuses a checkpoint with ${what} and trains nothing`, async () => {
    const init = fixture("init.ckpt", bytes());
    const out = scratch();
    await refused(
      ["train-align", ...data(), "--out", join(out, "run"), "--init", init, "--epochs", "1"],
      `${init}: `,
      what,
      out,
    );
  });
}

for (const [what, bytes] of [
  ["truncated", () => goodBytes.subarray(0, goodBytes.length - 100)],
  ["with a flipped tensor bit", () => flipBit(goodBytes, goodBytes.length - 40, 5)],
] as const) {
  test(`train-align will not resume from a last.ckpt ${what}`, async () => {
    const out = scratch();
    const last = join(out, "last.ckpt");
    writeFileSync(last, bytes());
    await refused(["train-align", ...data(), "--out", out, ...TINY], `${last}: `, what, out);
  });

  test(`train-gen will not resume from a last.ckpt ${what}`, async () => {
    const out = scratch();
    const last = join(out, "last.ckpt");
    writeFileSync(last, bytes());
    const before = snapshotTree(out);
    const r = await runCli(["train-gen", ...data(), "--out", out, ...TINY_GEN, "--epochs", "1"]);
    assertErrorLast(r, "train-gen", new RegExp(`^${escapeRegExp(last)}: `), what);
    assertTreeUnchanged(out, before, what);
  });
}

// --- Flags out of range --------------------------------------------------------------------

const TRAIN_ALIGN_FLAGS: [string, string][] = [
  ["--lr", "NaN"],
  ["--lr", "Infinity"],
  ["--lr", "-1"],
  ["--lr", "0"],
  ["--lr", ""],
  ["--lr", "1e400"],
  ["--lr", "0x10"],
  ["--lr", "fast"],
  ["--epochs", "0"],
  ["--epochs", "1e1"],
  ["--epochs", "99999999999999999999"],
  ["--epochs", "1000000"],
  ["--epochs", "1.5"],
  ["--epochs", "-1"],
  ["--epochs", " 1"],
  ["--batch", "1"],
  ["--batch", "0"],
  ["--batch", "NaN"],
  ["--batch", "2.5"],
  ["--momentum", "1"],
  ["--momentum", "-0.1"],
  ["--dropout", "1"],
  ["--clip", "0"],
  ["--warmup", "-1"],
  ["--seed", "-1"],
  ["--checkpoint-every", "0"],
  ["--lr-decay", "0"],
  ["--lr-decay", "2"],
  ["--margin", "-1"],
  ["--weight-decay", "-1"],
  ["--weight-decay", "Infinity"],
  ["--max-minutes", "-1"],
  ["--max-minutes", "NaN"],
  ["--min-count", "0"],
  ["--embed", "0"],
  ["--hidden", "1e3"],
  ["--regions", "0"],
];
for (const [flag, value] of TRAIN_ALIGN_FLAGS) {
  test(`train-align ${flag} '${value}' is refused before training`, async () => {
    const out = scratch();
    await refused(
      ["train-align", ...data(), "--out", join(out, "run"), ...BRIEF, `${flag}=${value}`],
      `${flag}: expected`,
      `${flag} ${value}`,
      out,
    );
  });
}

test("train-align --loss max names the choices", async () => {
  await refused(
    ["train-align", ...data(), "--out", join(scratch(), "run"), "--loss", "max"],
    "--loss: expected sum or hardest",
    "--loss max",
  );
});

const TRAIN_GEN_FLAGS: [string, string][] = [
  ["--lr", "NaN"],
  ["--lr", "Infinity"],
  ["--lr", "-1"],
  ["--lr", "0"],
  ["--epochs", "0"],
  ["--epochs", "1e1"],
  ["--epochs", "99999999999999999999"],
  ["--batch", "0"],
  ["--batch", "1.5"],
  ["--rms-decay", "1"],
  ["--lr-decay", "0"],
  ["--warmup", "0"],
  ["--val-beam", "0"],
  ["--eval-every", "-1"],
  ["--limit", "-1"],
  ["--dropout", "1"],
  ["--hidden", "0"],
  ["--clip", "NaN"],
  ["--max-minutes", "-1"],
  ["--seed", "1e3"],
];
for (const [flag, value] of TRAIN_GEN_FLAGS) {
  test(`train-gen ${flag} '${value}' is refused before training`, async () => {
    const out = scratch();
    await refused(
      ["train-gen", ...data(), "--out", join(out, "run"), ...BRIEF_GEN, `${flag}=${value}`],
      `${flag}: expected`,
      `${flag} ${value}`,
      out,
    );
  });
}

for (const [flag, value, names] of [
  ["--cell", "gru", "--cell: expected rnn or lstm"],
  ["--mode", "pixels", "--mode: expected"],
  ["--mode", "region", "--mode region needs --snippets"],
] as const) {
  test(`train-gen ${flag} ${value} is refused`, async () => {
    await refused(
      ["train-gen", ...data(), "--out", join(scratch(), "run"), flag, value],
      names,
      flag,
    );
  });
}

for (const [argv, names, what] of [
  [["--model", "GOOD", "--split", "bogus"], "--split: expected one of", "an unknown split"],
  [["--model", "GOOD", "--split="], "--split: expected one of", "an empty split"],
  [[], "--model, --dataset and --features are required", "no --model"],
  [["--model", "/nonexistent/best.ckpt"], "/nonexistent/best.ckpt: cannot read", "a missing file"],
] as [string[], string, string][]) {
  test(`eval-retrieval refuses ${what}`, async () => {
    const args = argv.map((a) => (a === "GOOD" ? good : a));
    await refused(["eval-retrieval", ...args, ...data()], names, what);
  });
}

for (const grid of ["NaN", "-1", "1,,2", "", "Infinity", "0.5,abc", "1,"]) {
  test(`fuse-align --grid '${grid}' is refused`, async () => {
    const out = scratch();
    await refused(
      [
        "fuse-align",
        "--model",
        good,
        "--model",
        good,
        ...data(),
        "--out",
        join(out, "f.json"),
        `--grid=${grid}`,
      ],
      "--grid: expected comma-separated numbers >= 0",
      `--grid ${grid}`,
      out,
    );
  });
}

for (const [argv, names, what] of [
  [["--model", "GOOD", "--split", "test"], "never tuned on test", "tuning on test"],
  [["--split", "val"], "two or more --model", "one model"],
] as [string[], string, string][]) {
  test(`fuse-align refuses ${what}`, async () => {
    const out = scratch();
    const extra = argv.map((a) => (a === "GOOD" ? good : a));
    await refused(
      ["fuse-align", "--model", good, ...extra, ...data(), "--out", join(out, "f.json")],
      names,
      what,
      out,
    );
  });
}

// --- Datasets missing fields ---------------------------------------------------------------

type Json = { images: Record<string, unknown>[] } & Record<string, unknown>;
const DATASET_DAMAGE: [string, (d: Json) => unknown, RegExp][] = [
  ["no images list", (d) => ({ ...d, images: undefined }), /images/],
  ["images not a list", (d) => ({ ...d, images: {} }), /images/],
  ["an image without a filename", (d) => edit(d, (im) => delete im.filename), /filename/],
  ["an image without a split", (d) => edit(d, (im) => delete im.split), /split/],
  ["an image with an unknown split", (d) => edit(d, (im) => (im.split = "dev")), /split/],
  ["an image without sentences", (d) => edit(d, (im) => delete im.sentences), /sentences/],
  [
    "a sentence with neither tokens nor raw text",
    (d) =>
      edit(d, (im) => {
        const [s] = im.sentences as Record<string, unknown>[];
        delete s.tokens;
        delete s.raw;
      }),
    /raw/,
  ],
  [
    "tokens that are not strings",
    (d) => edit(d, (im) => ((im.sentences as Record<string, unknown>[])[0].tokens = [1, 2])),
    /tokens/,
  ],
];

/** `d` with `change` applied to its third image (a train image). */
function edit(d: Json, change: (image: Record<string, unknown>) => unknown): Json {
  const copy = structuredClone(d);
  change(copy.images[2]);
  return copy;
}

for (const [what, damage, names] of DATASET_DAMAGE) {
  test(`train-align refuses a dataset with ${what}, naming the field`, async () => {
    const json = JSON.parse(readFileSync(dataset, "utf8")) as Json;
    const path = fixture("dataset.json", JSON.stringify(damage(json)));
    const out = scratch();
    const r = await refused(
      [
        "train-align",
        "--dataset",
        path,
        "--features",
        features,
        "--out",
        join(out, "run"),
        ...TINY,
        "--epochs",
        "1",
      ],
      new RegExp(escapeRegExp(path)),
      what,
      out,
    );
    assert.match(r.stderr.split("\n")[0], names, what);
  });
}

for (const [what, text] of [
  ["not JSON", "{ images: ["],
  ["empty", ""],
] as const) {
  test(`train-gen refuses a dataset.json that is ${what}`, async () => {
    const path = fixture("dataset.json", text);
    await refused(
      ["train-gen", "--dataset", path, "--features", features, "--out", join(scratch(), "run")],
      path,
      what,
    );
  });
}

// --- Runs that diverge ---------------------------------------------------------------------

/**
 * Asserts a run that was refused after it started: exit 2, no stack trace, and one error line
 * `imagesent CMD: ...` matching `names`, the last thing on stderr (progress and log lines may
 * come before it).
 */
function assertErrorLast(r: CliResult, command: string, names: RegExp, what: string): void {
  const context = `${what}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
  assert.equal(r.code, 2, `exit code 2 expected: ${context}`);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace printed: ${context}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  const errors = lines.filter((l) => l.startsWith("imagesent "));
  assert.equal(errors.length, 1, `one error line expected: ${context}`);
  assert.equal(lines.at(-1), errors[0], `the error line comes last: ${context}`);
  const prefix = `imagesent ${command}: `;
  assert.ok(errors[0].startsWith(prefix), `${prefix}...: ${context}`);
  assert.match(errors[0].slice(prefix.length), names, context);
}

const DIVERGING: [string, string[], string][] = [
  ["train-align", ["--lr", "1e10", "--epochs", "1", "--batch", "10", ...TINY], "1e10"],
  [
    "train-align",
    ["--lr", "1e30", "--epochs", "2", "--batch", "10", "--warmup", "0", ...TINY],
    "1e30",
  ],
  [
    "train-align",
    [
      "--lr",
      "1",
      "--epochs",
      "1",
      "--batch",
      "2",
      "--warmup",
      "0",
      "--embed",
      "64",
      "--hidden",
      "32",
      "--word-dim",
      "32",
      "--min-count",
      "1",
    ],
    "1",
  ],
  [
    "train-gen",
    ["--lr", "1e10", "--epochs", "1", "--batch", "10", "--warmup", "1", ...TINY_GEN],
    "1e10",
  ],
  ["train-gen", ["--lr", "1", "--epochs", "1", "--batch", "10", "--warmup", "1", ...TINY_GEN], "1"],
];
for (const [command, flags, lr] of DIVERGING) {
  test(`${command} --lr ${lr}: the run diverges, says so in one line, and keeps no best.ckpt`, async () => {
    const out = join(scratch(), "run");
    const r = await runCli([command, ...data(), "--out", out, ...flags]);
    const where = command === "train-align" ? "batch \\d+ \\(iteration \\d+\\)" : "iteration \\d+";
    assertErrorLast(
      r,
      command,
      new RegExp(
        `^training diverged at epoch 1, ${where}: .*; lower --lr \\(it is ${escapeRegExp(String(Number(lr)))}\\)`,
      ),
      `${command} --lr ${lr}`,
    );
    assert.ok(!existsSync(join(out, "best.ckpt")), "no best.ckpt");
    assert.ok(!existsSync(join(out, "summary.json")), "no summary of a diverged epoch");
  });
}
