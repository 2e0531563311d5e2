import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { FeatureStore } from "../../src/vision/feature-store.js";
import {
  assertClearError,
  assertTreeUnchanged,
  type CliResult,
  runCli,
  snapshotTree,
} from "../support/cli-run.js";
import { writeQuantizedModel } from "../vision/tiny-models.js";

/**
 * Hostile input to `imagesent features` and `imagesent index`: bad flags, odd and broken images,
 * malformed datasets and model files, feature stores damaged on disk, and stores locked by
 * another writer. Every refusal is one line naming the file or flag, exit 2, and leaves nothing
 * behind. Weight-free (pixel-stats encoder, tiny generated ONNX models): no shared data needed.
 */

const root = mkdtempSync(join(tmpdir(), "imagesent-hostile-stores-"));
process.env.IMAGESENT_HOME = join(root, "home");
const good = join(root, "good");
const flagsDir = join(root, "flags");
const flagsOut = join(flagsDir, "out");
const PIXEL = ["--encoder", "pixel-stats", "--detector", "none"];
let dataset = "";
let tinyConfig = "";
let tinyModel = "";
let randomModel = "";
let emptyModel = "";
/** A store of the three good images, one per shard; and one with all three in one shard. */
let baseStore = "";
let multiStore = "";

/**
 * runCli, after a macrotask: the test runner reports on stdout, which runCli captures while a
 * command runs, so the previous test's report is let out first.
 */
async function cli(argv: string[]): Promise<CliResult> {
  await new Promise((r) => setTimeout(r, 0));
  return runCli(argv);
}

const features = (...args: string[]) => cli(["features", ...args]);
const intoFlagsOut = (...args: string[]) =>
  features("--images", good, "--out", flagsOut, ...PIXEL, ...args);

before(async () => {
  mkdirSync(good, { recursive: true });
  mkdirSync(flagsDir);
  const solid = (w: number, h: number, c: string) =>
    sharp({ create: { width: w, height: h, channels: 3, background: c } });
  await solid(40, 30, "#c00").jpeg().toFile(join(good, "a.jpg"));
  await solid(50, 30, "#0c0").png().toFile(join(good, "b.png"));
  await solid(30, 30, "#00c").jpeg().toFile(join(good, "c.jpg"));
  dataset = join(root, "dataset.json");
  const sentence = (id: number) => ({ raw: "a box", tokens: ["a", "box"], sentid: id, imgid: id });
  writeFileSync(
    dataset,
    JSON.stringify({
      dataset: "tiny",
      images: ["a.jpg", "b.png", "c.jpg"].map((filename, i) => ({
        filename,
        imgid: i,
        split: ["train", "val", "test"][i],
        sentids: [i],
        sentences: [sentence(i)],
      })),
    }),
  );
  tinyModel = writeQuantizedModel(root, 8);
  tinyConfig = join(root, "tiny-encoder.json");
  writeFileSync(
    tinyConfig,
    JSON.stringify({ model: tinyModel, feature: "q", preprocess: { width: 8, height: 8 } }),
  );
  randomModel = join(root, "random.onnx");
  writeFileSync(randomModel, randomBytes(4096));
  emptyModel = join(root, "empty.onnx");
  writeFileSync(emptyModel, "");
  baseStore = join(root, "base-store");
  multiStore = join(root, "multi-store");
  for (const [out, shard] of [
    [baseStore, "1"],
    [multiStore, "3"],
  ]) {
    const r = await features("--images", good, "--out", out, ...PIXEL, "--shard", shard);
    assert.equal(r.code, 0, r.stderr);
  }
});

// ---------------------------------------------------------------------------------------------
// Flags: each refused before anything is loaded or written.

/** Refused flags of `features`, with what the first error line must name. */
const badFeatureFlags: [string, string[], RegExp][] = [
  ...["0", "-1", "65", "100000", "abc", "1.5", "1e3", "", " 2", "0x10"].map(
    (v): [string, string[], RegExp] => [`--threads '${v}'`, ["--threads", v], /--threads/],
  ),
  ...["0", "-3", "4097", "x", "2.5", "1e2", "99999999999999999999"].map(
    (v): [string, string[], RegExp] => [`--shard '${v}'`, ["--shard", v], /--shard/],
  ),
  ...["0", "21", "100", "x", "1.5", "-1", "020x"].map((v): [string, string[], RegExp] => [
    `--regions '${v}'`,
    ["--regions", v],
    /--regions/,
  ]),
  ...["0", "-1", "x", "1.5", "1e9"].map((v): [string, string[], RegExp] => [
    `--limit '${v}'`,
    ["--limit", v],
    /--limit/,
  ]),
  ["--split without --dataset", ["--split", "train"], /--split needs --dataset/],
  ["--encoder-model with pixel-stats", ["--encoder-model", "x.onnx"], /--encoder-model/],
  ["--detector-model with --detector none", ["--detector-model", "x.onnx"], /--detector-model/],
  ["an unknown flag", ["--shards", "3"], /--shards/],
];

for (const [what, args, names] of badFeatureFlags) {
  test(`features ${what} is refused before anything is written`, async () => {
    const before = snapshotTree(flagsDir);
    assertClearError(await intoFlagsOut(...args), names, what);
    assertTreeUnchanged(flagsDir, before, what);
  });
}

for (const split of ["foo", "train,foo", "", "TRAIN", "train,"]) {
  test(`features --split '${split}' names the valid splits`, async () => {
    const before = snapshotTree(flagsDir);
    const r = await intoFlagsOut("--dataset", dataset, "--split", split);
    assertClearError(r, /--split: unknown split .*train, val, test, restval/, split);
    assertTreeUnchanged(flagsDir, before, split);
  });
}

test("features without --out or --images is refused with the usage", async () => {
  assertClearError(await features("--images", good), /--images and --out are required/, "no out");
  assertClearError(await features("--out", flagsOut), /--images and --out are required/, "no in");
  assert.ok(!existsSync(flagsOut));
});

test("features --images naming a file or nothing is refused", async () => {
  const file = join(good, "a.jpg");
  assertClearError(
    await features("--images", file, "--out", flagsOut, ...PIXEL),
    `${file}: not a folder`,
    "file",
  );
  const none = join(root, "no-such-folder");
  assertClearError(
    await features("--images", none, "--out", flagsOut, ...PIXEL),
    `${none}: not a folder`,
    "missing",
  );
  assert.ok(!existsSync(flagsOut));
});

test("features --out naming an existing file is refused and leaves the file alone", async () => {
  const file = join(root, "out-file");
  writeFileSync(file, "mine");
  assertClearError(
    await features("--images", good, "--out", file, ...PIXEL),
    new RegExp(`--out ${file}: exists and is not a folder`),
    "file",
  );
  assert.equal(readFileSync(file, "utf8"), "mine");
});

test("features --out under an existing file is refused naming it", async () => {
  const file = join(root, "out-parent-file");
  writeFileSync(file, "mine");
  const out = join(file, "store");
  assertClearError(
    await features("--images", good, "--out", out, ...PIXEL),
    new RegExp(`${out}: cannot create the store folder`),
    "under a file",
  );
  assert.equal(readFileSync(file, "utf8"), "mine");
});

// ---------------------------------------------------------------------------------------------
// Datasets and model files.

const badDatasets: [string, string, RegExp][] = [
  ["invalid JSON", "{", /: invalid JSON \(/],
  ["a top-level array", "[]", /: expected a JSON object, got \[\]/],
  ["images not an array", '{"images": 5}', /: images: expected a list of objects, got 5/],
  ["an image without a filename", '{"images": [{"imgid": 1}]}', /images\[0\]\.filename/],
  [
    "an unknown split",
    '{"images": [{"filename": "a.jpg", "imgid": 0, "split": "bogus", "sentences": []}]}',
    /images\[0\]\.split/,
  ],
];

for (const [what, text, names] of badDatasets) {
  test(`features --dataset with ${what} is refused naming the file and field`, async () => {
    const path = join(root, `dataset-${what.replace(/\W+/g, "-")}.json`);
    writeFileSync(path, text);
    const before = snapshotTree(flagsDir);
    const r = await intoFlagsOut("--dataset", path);
    assertClearError(r, path, what);
    assert.match(r.stderr.split("\n")[0], names);
    assertTreeUnchanged(flagsDir, before, what);
  });
}

test("features --dataset naming a missing file is refused", async () => {
  const path = join(root, "no-such-dataset.json");
  assertClearError(await intoFlagsOut("--dataset", path), path, "missing dataset");
  assert.ok(!existsSync(flagsOut));
});

/** Model flags that must be refused naming the file (`names` defaults to the model path). */
const badModels: [string, () => string[], (() => string) | RegExp][] = [
  [
    "--encoder-model of random bytes",
    () => ["--encoder", tinyConfig, "--detector", "none", "--encoder-model", randomModel],
    () => randomModel,
  ],
  [
    "--encoder-model of zero bytes",
    () => ["--encoder", tinyConfig, "--detector", "none", "--encoder-model", emptyModel],
    () => emptyModel,
  ],
  [
    "--encoder-model naming a folder",
    () => ["--encoder", tinyConfig, "--detector", "none", "--encoder-model", good],
    () => good,
  ],
  [
    "--encoder-model without the preset's feature tensor",
    () => ["--detector", "none", "--encoder-model", tinyModel],
    /no tensor '464_quantized'/,
  ],
  [
    "--encoder config of invalid JSON",
    () => {
      const p = join(root, "bad-encoder.json");
      writeFileSync(p, "{ model");
      return ["--encoder", p, "--detector", "none"];
    },
    /bad-encoder\.json: invalid JSON/,
  ],
  [
    "--encoder naming a detector preset",
    () => ["--encoder", "yolox-nano", "--detector", "none"],
    /yolox-nano/,
  ],
  [
    "--encoder naming an unknown preset or file",
    () => ["--encoder", "no-such-encoder", "--detector", "none"],
    /no-such-encoder/,
  ],
  [
    "--detector-model of random bytes",
    () => ["--encoder", "pixel-stats", "--detector-model", randomModel],
    () => randomModel,
  ],
  [
    "--detector-model of zero bytes",
    () => ["--encoder", "pixel-stats", "--detector-model", emptyModel],
    () => emptyModel,
  ],
  [
    "--detector-model that is no YOLOX detector",
    () => ["--encoder", "pixel-stats", "--detector-model", tinyModel],
    () => tinyModel,
  ],
  [
    "--detector-model naming a missing file",
    () => ["--encoder", "pixel-stats", "--detector-model", join(root, "nope.onnx")],
    /nope\.onnx/,
  ],
  [
    "--detector naming an unknown preset or file",
    () => ["--encoder", "pixel-stats", "--detector", "no-such-detector"],
    /no-such-detector/,
  ],
];

for (const [what, args, names] of badModels) {
  test(`features ${what} is refused naming it, before the store is made`, async () => {
    const before = snapshotTree(flagsDir);
    const r = await features("--images", good, "--out", flagsOut, ...args());
    assertClearError(r, typeof names === "function" ? names() : names, what);
    assertTreeUnchanged(flagsDir, before, what);
  });
}

test("a detector model of random bytes after an ONNX encoder: the process exits by itself", () => {
  // Not through bin/imagesent.js, which exits on failure whatever is left open: this run ends
  // only if every session and worker thread that was started was released.
  const main = new URL("../../src/cli/main.js", import.meta.url).href;
  const args = [
    "features",
    "--images",
    good,
    "--out",
    flagsOut,
    "--encoder",
    tinyConfig,
    "--detector-model",
    randomModel,
  ];
  const code = `import(${JSON.stringify(main)}).then(async (m) => { process.exitCode = await m.main(${JSON.stringify(args)}); })`;
  const r = spawnSync(process.execPath, [...process.execArgv, "--input-type=module", "-e", code], {
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(r.error, undefined, `the process did not exit: ${r.stderr}`);
  const result: CliResult = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  assertClearError(result, randomModel, "random detector model");
  assert.ok(!existsSync(flagsOut));
});

// ---------------------------------------------------------------------------------------------
// Odd and broken images: encoded, or listed as failures, never a crash.

/** Images every region of which must be a real box inside the image. */
const oddImages: [string, () => ReturnType<typeof sharp>][] = [
  ["1x1.png", () => sharp({ create: { width: 1, height: 1, channels: 3, background: "#fff" } })],
  [
    "wide-4000x1.png",
    () => sharp({ create: { width: 4000, height: 1, channels: 3, background: "#123" } }),
  ],
  [
    "tall-1x4000.png",
    () => sharp({ create: { width: 1, height: 4000, channels: 3, background: "#321" } }),
  ],
  ["2x3.png", () => sharp({ create: { width: 2, height: 3, channels: 3, background: "#0f0" } })],
  [
    "grey.png",
    () => sharp({ create: { width: 20, height: 10, channels: 3, background: "#888" } }).grayscale(),
  ],
  [
    "alpha.png",
    () =>
      sharp({
        create: { width: 20, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
      }),
  ],
  [
    "cmyk.jpg",
    () =>
      sharp({ create: { width: 20, height: 10, channels: 3, background: "#f0f" } })
        .toColourspace("cmyk")
        .jpeg(),
  ],
];

for (const [name, make] of oddImages) {
  test(`${name}: 20 regions, none empty or outside the image, finite features`, async () => {
    const dir = join(root, `odd-${name}`);
    mkdirSync(dir);
    const ext = name.endsWith(".jpg") ? "jpeg" : "png";
    await make()
      .toFormat(ext as "png")
      .toFile(join(dir, name));
    const out = join(dir, "store");
    const r = await features("--images", dir, "--out", out, ...PIXEL);
    assert.equal(r.code, 0, r.stderr);
    const im = FeatureStore.open(out).get(name)!;
    assert.equal(im.regions.length, 20);
    for (const { box } of im.regions) {
      assert.ok(box.x2 - box.x1 >= 1 && box.y2 - box.y1 >= 1, `empty box ${JSON.stringify(box)}`);
      assert.ok(box.x1 >= 0 && box.y1 >= 0 && box.x2 <= im.width && box.y2 <= im.height);
    }
    assert.ok(im.features.every(Number.isFinite));
  });
}

const brokenImages: [string, () => Promise<Buffer>][] = [
  [
    "truncated.jpg",
    async () => {
      const full = await sharp({
        create: { width: 64, height: 64, channels: 3, background: "#abc" },
      })
        .jpeg()
        .toBuffer();
      return full.subarray(0, full.length >> 1);
    },
  ],
  ["text.jpg", async () => Buffer.from("this is not an image\n")],
  ["empty.jpg", async () => Buffer.alloc(0)],
  ["random.png", async () => randomBytes(2048)],
];

for (const [name, bytes] of brokenImages) {
  test(`${name} is listed as failed by name, the other images are stored`, async () => {
    const dir = join(root, `broken-${name}`);
    mkdirSync(dir);
    cpSync(join(good, "a.jpg"), join(dir, "a.jpg"));
    writeFileSync(join(dir, name), await bytes());
    const out = join(dir, "store");
    const r = await features("--images", dir, "--out", out, ...PIXEL);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`failed: .*${name.replace(".", "\\.")}`));
    assert.doesNotMatch(r.stderr, /internal error|^\s+at /m);
    assert.deepEqual(FeatureStore.open(out).filenames(), ["a.jpg"]);
  });
}

test("a dataset naming an image that is not in the folder lists it as failed", async () => {
  const path = join(root, "dataset-missing-image.json");
  const ds = JSON.parse(readFileSync(dataset, "utf8"));
  ds.images[1].filename = "gone.jpg";
  writeFileSync(path, JSON.stringify(ds));
  const out = join(root, "store-missing-image");
  const r = await features("--images", good, "--dataset", path, "--out", out, ...PIXEL);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /failed: .*gone\.jpg/);
  assert.deepEqual(FeatureStore.open(out).filenames().sort(), ["a.jpg", "c.jpg"]);
});

// ---------------------------------------------------------------------------------------------
// Damaged stores: a rerun of `features` into them is refused naming the damaged file, and
// changes nothing.

type Json = Record<string, unknown> & { shards: Record<string, unknown>[] };

function copyOf(base: string, name: string): string {
  const dir = join(root, "damaged", name);
  cpSync(base, dir, { recursive: true });
  return dir;
}

const readJson = (dir: string): Json => JSON.parse(readFileSync(join(dir, "store.json"), "utf8"));
const writeJson = (dir: string, json: unknown) =>
  writeFileSync(join(dir, "store.json"), JSON.stringify(json));

/** The shard's header length field H (the header is bytes 8 to 8 + H). */
const headerLength = (b: Buffer) => b.readUInt32LE(4);

/** Rewrites a shard's header JSON (re-padded), keeping its feature data. */
function withHeader(b: Buffer, edit: (h: { dim: number; images: Json[] }) => unknown): Buffer {
  const h = headerLength(b);
  const header = JSON.parse(b.subarray(8, 8 + h).toString("utf8"));
  const edited = edit(header) ?? header;
  const json = Buffer.from(JSON.stringify(edited));
  const padded = Buffer.alloc(Math.ceil(json.length / 4) * 4, 0x20);
  json.copy(padded);
  const head = Buffer.alloc(8);
  b.copy(head, 0, 0, 4);
  head.writeUInt32LE(padded.length, 4);
  return Buffer.concat([head, padded, b.subarray(8 + h)]);
}

/**
 * Changes a shard file; with `relist`, store.json's record of it is updated to the new bytes
 * (size and CRC-32s), as a bug writing a bad shard would, so only the structural checks remain.
 */
function damageShard(dir: string, file: string, edit: (b: Buffer) => Buffer, relist = false) {
  const path = join(dir, file);
  const bytes = edit(readFileSync(path));
  writeFileSync(path, bytes);
  if (!relist) return;
  const json = readJson(dir);
  const record = json.shards.find((s) => s.file === file)!;
  const end = 8 + headerLength(bytes);
  record.bytes = bytes.length;
  record.crc32 = [crc32(bytes.subarray(0, end)), crc32(bytes.subarray(end))];
  writeJson(dir, json);
}

const SHARD1 = "shard-000001.isf";
const setFloat =
  (value: number, at = 0) =>
  (b: Buffer) => {
    const c = Buffer.from(b);
    c.writeFloatLE(value, 8 + headerLength(c) + 4 * at);
    return c;
  };
const flipBit = (offset: (b: Buffer) => number) => (b: Buffer) => {
  const c = Buffer.from(b);
  c[offset(c)] ^= 0x04;
  return c;
};

/** [what, base store, damage, what the error line must name]. */
const damagedStores: [string, () => string, (dir: string) => void, RegExp][] = [
  // store.json
  ["store.json of invalid JSON", () => baseStore, (d) => writeJson(d, "{"), /store\.json/],
  [
    "store.json cut short",
    () => baseStore,
    (d) => {
      const text = readFileSync(join(d, "store.json"), "utf8");
      writeFileSync(join(d, "store.json"), text.slice(0, text.length >> 1));
    },
    /store\.json: invalid JSON/,
  ],
  [
    "an empty store.json",
    () => baseStore,
    (d) => writeFileSync(join(d, "store.json"), ""),
    /store\.json: invalid JSON/,
  ],
  ["store.json holding an array", () => baseStore, (d) => writeJson(d, []), /store\.json/],
  [
    "store.json of another format",
    () => baseStore,
    (d) => writeJson(d, { ...readJson(d), format: "other" }),
    /store\.json: not an imagesent-features store/,
  ],
  ...[3, "2", 0, null].map((version): [string, () => string, (d: string) => void, RegExp] => [
    `store.json version ${JSON.stringify(version)}`,
    () => baseStore,
    (d) => writeJson(d, { ...readJson(d), version }),
    /store\.json: store version/,
  ]),
  ...(
    [
      ["dim", 0],
      ["dim", "1"],
      ["dim", 2.5],
      ["regionsPerImage", 0],
      ["regionsPerImage", -20],
      ["encoder", 5],
      ["encoder", ""],
      ["detector", 7],
      ["shards", {}],
    ] as const
  ).map(([field, value]): [string, () => string, (d: string) => void, RegExp] => [
    `store.json field ${field} = ${JSON.stringify(value)}`,
    () => baseStore,
    (d) => writeJson(d, { ...readJson(d), [field]: value }),
    new RegExp(`store\\.json: ${field}: expected `),
  ]),
  ...(
    [
      ["file", "shard-1.isf"],
      ["file", "../../elsewhere.isf"],
      ["file", "shard-000000.isf"],
      ["images", 0],
      ["bytes", "big"],
      ["crc32", [1]],
      ["crc32", [-1, 2]],
      ["crc32", [1, 2 ** 32]],
    ] as const
  ).map(([field, value]): [string, () => string, (d: string) => void, RegExp] => [
    `store.json shards[1].${field} = ${JSON.stringify(value)}`,
    () => baseStore,
    (d) => {
      const json = readJson(d);
      json.shards[1][field] = value;
      writeJson(d, json);
    },
    new RegExp(`store\\.json: shards\\[1\\]\\.${field}(\\[\\d\\])?: expected `),
  ]),
  [
    "store.json listing a shard with the wrong image count",
    () => baseStore,
    (d) => {
      const json = readJson(d);
      json.shards[1].images = 2;
      writeJson(d, json);
    },
    /shard-000001\.isf: holds 1 images, store\.json lists 2/,
  ],
  // shard files
  [
    "a deleted shard",
    () => baseStore,
    (d) => rmSync(join(d, SHARD1)),
    /shard-000001\.isf: missing .*lists it with 1 images/,
  ],
  [
    "a shard cut short by 4 bytes",
    () => baseStore,
    (d) => damageShard(d, SHARD1, (b) => b.subarray(0, b.length - 4)),
    /shard-000001\.isf: \d+ bytes, \d+ were written/,
  ],
  [
    "a shard cut to nothing",
    () => baseStore,
    (d) => damageShard(d, SHARD1, () => Buffer.alloc(0)),
    /shard-000001\.isf: 0 bytes/,
  ],
  [
    "a shard with bytes appended",
    () => baseStore,
    (d) => damageShard(d, SHARD1, (b) => Buffer.concat([b, Buffer.alloc(8)])),
    /shard-000001\.isf: \d+ bytes, \d+ were written/,
  ],
  [
    "a flipped bit in a shard's header",
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        flipBit(() => 20),
      ),
    /shard-000001\.isf: header checksum mismatch/,
  ],
  [
    "a flipped bit in a shard's magic",
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        flipBit(() => 1),
      ),
    /shard-000001\.isf: not a feature shard/,
  ],
  [
    "a flipped bit in a shard's header length",
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        flipBit(() => 5),
      ),
    /shard-000001\.isf: header/,
  ],
  [
    "a flipped bit in a shard's feature data",
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        flipBit((b) => 8 + headerLength(b) + 41),
      ),
    /shard-000001\.isf: feature data checksum mismatch/,
  ],
  [
    "random bytes over a shard's feature data",
    () => baseStore,
    (d) =>
      damageShard(d, SHARD1, (b) => {
        const c = Buffer.from(b);
        randomBytes(64).copy(c, 8 + headerLength(c));
        return c;
      }),
    /shard-000001\.isf: feature data checksum mismatch/,
  ],
  [
    "two shards swapped",
    () => baseStore,
    (d) => {
      const a = readFileSync(join(d, "shard-000000.isf"));
      const b = readFileSync(join(d, "shard-000002.isf"));
      writeFileSync(join(d, "shard-000000.isf"), b);
      writeFileSync(join(d, "shard-000002.isf"), a);
    },
    /shard-00000[02]\.isf: /,
  ],
  // Bad content written with matching checksums: the structural checks.
  [
    "a NaN feature value",
    () => baseStore,
    (d) => damageShard(d, SHARD1, setFloat(Number.NaN, 3), true),
    /shard-000001\.isf: b\.png has a non-finite feature value \(NaN\)/,
  ],
  [
    "an infinite feature value",
    () => baseStore,
    (d) => damageShard(d, SHARD1, setFloat(Number.POSITIVE_INFINITY, 7), true),
    /shard-000001\.isf: b\.png has a non-finite feature value \(Infinity\)/,
  ],
  [
    "one image's region list cut, the data left as it was",
    () => multiStore,
    (d) =>
      damageShard(
        d,
        "shard-000000.isf",
        (b) =>
          withHeader(b, (h) => {
            (h.images[0].regions as unknown[]).pop();
          }),
        true,
      ),
    /shard-000000\.isf: shard header: images\[0\]\.regions: expected 20 regions \(the store's regionsPerImage\), got a list of 19/,
  ],
  [
    "one image's region list and its rows cut",
    () => multiStore,
    (d) =>
      damageShard(
        d,
        "shard-000000.isf",
        (b) => {
          const h = withHeader(b, (hd) => {
            (hd.images[0].regions as unknown[]).pop();
          });
          const dim = readJson(d).dim as number;
          return h.subarray(0, h.length - 4 * dim);
        },
        true,
      ),
    /shard-000000\.isf: shard header: images\[0\]\.regions: expected 20 regions \(the store's regionsPerImage\), got a list of 19/,
  ],
  [
    "a header whose regions do not match the data length",
    () => baseStore,
    (d) => damageShard(d, SHARD1, (b) => Buffer.concat([b, Buffer.alloc(4)]), true),
    /shard-000001\.isf: the header lists 20 regions .* the shard holds \d+ bytes/,
  ],
  [
    "a header with another dim",
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        (b) =>
          withHeader(b, (h) => {
            h.dim += 1;
          }),
        true,
      ),
    /shard-000001\.isf: shard header: dim: expected \d+, the store's, got \d+/,
  ],
  [
    "a header that is not JSON",
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        (b) => {
          const c = Buffer.from(b);
          c.write("{{{{", 8);
          return c;
        },
        true,
      ),
    /shard-000001\.isf: shard header: invalid JSON/,
  ],
  ...(
    [
      ["filename", 3],
      ["id", -2],
      ["width", 0],
      ["height", "30"],
      ["regions", "all"],
    ] as const
  ).map(([field, value]): [string, () => string, (d: string) => void, RegExp] => [
    `a header with images[0].${field} = ${JSON.stringify(value)}`,
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        (b) =>
          withHeader(b, (h) => {
            h.images[0][field] = value;
          }),
        true,
      ),
    new RegExp(`shard-000001\\.isf: shard header: images\\[0\\]\\.${field}: expected `),
  ]),
  ...(
    [
      ["box", [10, 0, 5, 5]],
      ["box", [0, 0, 1]],
      ["box", [0, 0, "1", 1]],
      ["source", "guess"],
      ["score", "high"],
      ["label", 9],
    ] as const
  ).map(([field, value]): [string, () => string, (d: string) => void, RegExp] => [
    `a header with a region's ${field} = ${JSON.stringify(value)}`,
    () => baseStore,
    (d) =>
      damageShard(
        d,
        SHARD1,
        (b) =>
          withHeader(b, (h) => {
            (h.images[0].regions as Json[])[2][field] = value;
          }),
        true,
      ),
    new RegExp(
      `shard-000001\\.isf: shard header: images\\[0\\]\\.regions\\[2\\]\\.${field}(\\[\\d\\])?: expected `,
    ),
  ]),
  [
    "a shard with one image fewer than listed",
    () => multiStore,
    (d) =>
      damageShard(
        d,
        "shard-000000.isf",
        (b) => {
          const h = withHeader(b, (hd) => {
            hd.images.pop();
          });
          const dim = readJson(d).dim as number;
          return h.subarray(0, h.length - 4 * 20 * dim);
        },
        true,
      ),
    /shard-000000\.isf: holds 2 images, store\.json lists 3/,
  ],
];

for (const [what, base, damage, names] of damagedStores) {
  test(`a store with ${what} is refused naming the file, and left as it was`, async () => {
    const dir = copyOf(base(), what.replace(/\W+/g, "-"));
    damage(dir);
    const before = snapshotTree(dir);
    const r = await features("--images", good, "--out", dir, ...PIXEL, "--shard", "1");
    assertClearError(r, names, what);
    assertTreeUnchanged(dir, before, what);
  });
}

test("a shard changed after the store was opened is refused when read", () => {
  const dir = copyOf(baseStore, "changed-after-open");
  const store = FeatureStore.open(dir);
  damageShard(
    dir,
    SHARD1,
    flipBit((b) => b.length - 2),
  );
  assert.throws(
    () => store.get("b.png"),
    (e: Error) =>
      e.name === "InputError" && /shard-000001\.isf: feature data checksum/.test(e.message),
  );
  assert.ok(store.get("a.jpg"), "the other shards still read");
});

test("a v1 store (no shard list) is read, and upgraded with checksums when added to", async () => {
  const dir = copyOf(baseStore, "v1");
  const { shards: _, ...meta } = readJson(dir);
  writeJson(dir, { ...meta, version: 1 });
  assert.equal(FeatureStore.open(dir).size, 3);
  const r = await features("--images", good, "--out", dir, ...PIXEL, "--shard", "1");
  assert.equal(r.code, 0, r.stderr);
  const json = readJson(dir);
  assert.equal(json.version, 2);
  assert.deepEqual(
    json.shards.map((s) => s.file),
    ["shard-000000.isf", "shard-000001.isf", "shard-000002.isf"],
  );
  rmSync(join(dir, SHARD1));
  assertClearError(
    await features("--images", good, "--out", dir, ...PIXEL),
    /shard-000001\.isf: missing/,
    "a deleted shard of an upgraded store",
  );
});

test("a v1 store with a NaN in a shard is refused, not upgraded", async () => {
  const dir = copyOf(baseStore, "v1-nan");
  const { shards: _, ...meta } = readJson(dir);
  writeJson(dir, { ...meta, version: 1 });
  damageShard(dir, SHARD1, setFloat(Number.NaN));
  const before = snapshotTree(dir);
  const r = await features("--images", good, "--out", dir, ...PIXEL);
  assertClearError(r, /shard-000001\.isf: b\.png has a non-finite feature value/, "v1 NaN");
  assertTreeUnchanged(dir, before, "v1 NaN");
});

test("a shard left unlisted by a killed run is removed and its images encoded again", async () => {
  const dir = copyOf(baseStore, "unlisted");
  const json = readJson(dir);
  json.shards.pop();
  writeJson(dir, json);
  writeFileSync(join(dir, ".shard-000003.isf.1a2b.tmp"), "partial");
  const r = await features("--images", good, "--out", dir, ...PIXEL, "--shard", "1");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote 1, kept 2 already stored/);
  assert.deepEqual(readdirSync(dir).sort(), [
    "shard-000000.isf",
    "shard-000001.isf",
    "shard-000002.isf",
    "store.json",
  ]);
  assert.equal([...FeatureStore.open(dir).entries()].length, 3);
});

// ---------------------------------------------------------------------------------------------
// Locks.

function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  return r.pid!;
}

const lockOf = (pid: number, host = hostname()) =>
  JSON.stringify({ pid, host, started: "2026-01-01T00:00:00.000Z", token: "feedface" });

const refusedLocks: [string, () => string | null, RegExp][] = [
  [
    "a live process of this host (the test runner's parent)",
    () => lockOf(process.ppid),
    new RegExp(`is being written by pid ${process.ppid} since .*remove .*LOCK if that process`),
  ],
  [
    "this very process, not through a FeatureStore",
    () => lockOf(process.pid),
    new RegExp(`is being written by pid ${process.pid} since`),
  ],
  [
    "a process of another host",
    () => lockOf(1, "elsewhere.example"),
    /is being written by pid 1 on elsewhere\.example since/,
  ],
  ["garbage", () => "not json", /LOCK: unreadable lock file/],
  ["nothing (empty)", () => "", /LOCK: unreadable lock file/],
  ["a folder", () => null, /LOCK: could not take the lock/],
];

for (const [what, content, names] of refusedLocks) {
  test(`a store locked by ${what} is refused naming the lock`, async () => {
    const dir = copyOf(baseStore, `lock-${what.replace(/\W+/g, "-")}`);
    const text = content();
    if (text === null) mkdirSync(join(dir, "LOCK"));
    else writeFileSync(join(dir, "LOCK"), text);
    const before = snapshotTree(dir);
    assertClearError(
      await features("--images", good, "--out", dir, ...PIXEL, "--shard", "1"),
      names,
      what,
    );
    assertTreeUnchanged(dir, before, what);
  });
}

test("a lock left by a dead process of this host is taken over, and released after", async () => {
  const dir = copyOf(baseStore, "lock-dead");
  rmSync(join(dir, SHARD1));
  const json = readJson(dir);
  json.shards.splice(1, 1);
  writeJson(dir, json);
  writeFileSync(join(dir, "LOCK"), lockOf(deadPid()));
  const r = await features("--images", good, "--out", dir, ...PIXEL, "--shard", "1");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote 1, kept 2/);
  assert.ok(!existsSync(join(dir, "LOCK")), "the lock is released");
});

test("the lock is released when features fails part-way", async () => {
  const dir = copyOf(baseStore, "lock-released-on-failure");
  const r = await features("--images", good, "--out", dir, ...PIXEL, "--regions", "2");
  assertClearError(r, /regionsPerImage = 20, this run has 2/, "another region count");
  assert.ok(!existsSync(join(dir, "LOCK")));
});

// ---------------------------------------------------------------------------------------------
// index: flags refused before the bundle is loaded or anything written.

const index = (...args: string[]) => cli(["index", ...args]);

const badIndexRuns: [string, () => string[], RegExp][] = [
  [
    "--out naming an existing file",
    () => {
      const file = join(root, "index-out-file");
      writeFileSync(file, "mine");
      return [good, "--out", file];
    },
    /--out .*index-out-file: exists and is not a folder/,
  ],
  ["--threads 0", () => [good, "--out", flagsOut, "--threads", "0"], /--threads/],
  ["--threads 100000", () => [good, "--out", flagsOut, "--threads", "100000"], /--threads/],
  ["--threads x", () => [good, "--out", flagsOut, "--threads", "x"], /--threads/],
  ["--limit 0", () => [good, "--out", flagsOut, "--limit", "0"], /--limit/],
  ["--limit 1.5", () => [good, "--out", flagsOut, "--limit", "1.5"], /--limit/],
  ["no DIR", () => ["--out", flagsOut], /give exactly one image folder/],
  ["two DIRs", () => [good, good, "--out", flagsOut], /give exactly one image folder/],
  ["no --out", () => [good], /--out is required/],
  ["DIR naming a file", () => [join(good, "a.jpg"), "--out", flagsOut], /a\.jpg: not a folder/],
  ["DIR without images", () => [flagsDir, "--out", flagsOut], /no image files/],
  [
    "--sentences naming a missing file",
    () => [good, "--out", flagsOut, "--sentences", join(root, "none.txt")],
    /none\.txt: sentences file not found/,
  ],
  [
    "--sentences naming an empty file",
    () => {
      const p = join(root, "empty-sentences.txt");
      writeFileSync(p, "\n \n");
      return [good, "--out", flagsOut, "--sentences", p];
    },
    /empty-sentences\.txt: no sentences/,
  ],
];

for (const [what, args, names] of badIndexRuns) {
  test(`index ${what} is refused before anything is written`, async () => {
    const a = args();
    const before = snapshotTree(flagsDir);
    assertClearError(await index(...a), names, what);
    assertTreeUnchanged(flagsDir, before, what);
  });
}
