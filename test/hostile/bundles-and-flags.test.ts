/**
 * Hostile input to the commands that read bundles, models, flags and score files (issue 17):
 * every case is refused with one error line that names the file or field at fault, and leaves
 * every file under the test's folder (the bundle cache, the model cache, a victim file outside
 * the bundles) as it was.
 */
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { BUNDLE_FILE, loadBundle, writeBundle } from "../../src/app/model-bundle.js";
import { PIXEL_STATS_SETUP } from "../../src/app/vision-setup.js";
import { type ImageId, MAX_CAPTION_WORDS } from "../../src/eval/coco-format.js";
import {
  assertClearError,
  assertTreeUnchanged,
  type CliResult,
  runCli,
  snapshotTree,
} from "../support/cli-run.js";
import { encodeMessage, modelProto } from "../support/onnx-writer.js";
import { writeUntrainedCheckpoints } from "../support/untrained-checkpoints.js";
import { quantizedModel } from "../vision/tiny-models.js";

/**
 * Layout: ROOT/victim.txt; bundles under ROOT/s/t (so "../../../victim.txt" from a bundle is the
 * victim, as it is from the cache's folder ROOT/home/bundles/NAME); ROOT/home is IMAGESENT_HOME.
 */
const root = mkdtempSync(join(tmpdir(), "imagesent-hostile-"));
const bundles = join(root, "s", "t");
const good = join(bundles, "good");
const ok = join(bundles, "ok");
const victim = join(root, "victim.txt");
const image = join(root, "photo.png");
const checkpoints = join(root, "checkpoints");
const home = join(root, "home");
const savedHome = process.env.IMAGESENT_HOME;

before(async () => {
  process.env.IMAGESENT_HOME = home;
  mkdirSync(bundles, { recursive: true });
  mkdirSync(checkpoints, { recursive: true });
  writeFileSync(victim, "the victim's own bytes\n");
  // Untrained models over the pixel-stats encoder's 256-d features: describe runs end to end.
  const trained = writeUntrainedCheckpoints(checkpoints, 256);
  for (const dir of [good, ok]) {
    writeBundle(dir, {
      alignment: trained.alignment,
      generator: trained.generator,
      regionGenerator: trained.generator,
      vision: PIXEL_STATS_SETUP,
    });
  }
  await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3a7" } })
    .png()
    .toFile(image);
});

after(() => {
  if (savedHome === undefined) delete process.env.IMAGESENT_HOME;
  else process.env.IMAGESENT_HOME = savedHome;
  rmSync(root, { recursive: true, force: true });
});

const manifestOf = (dir: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, BUNDLE_FILE), "utf8"));

let made = 0;
/** A copy of the good bundle under ROOT/s/t, its bundle.json changed by `edit`, then `prepare`d. */
function hostileBundle(
  edit: (m: Record<string, unknown>) => Record<string, unknown> | string,
  prepare: (dir: string) => void = () => {},
): string {
  const dir = join(bundles, `case-${++made}`);
  cpSync(good, dir, { recursive: true });
  const json = edit(manifestOf(good));
  writeFileSync(join(dir, BUNDLE_FILE), typeof json === "string" ? json : JSON.stringify(json));
  prepare(dir);
  return dir;
}

/** Runs the CLI and asserts a clear refusal that changed nothing under ROOT. */
async function refused(argv: string[], names: RegExp | string): Promise<CliResult> {
  const before = snapshotTree(root);
  const r = await runCli(argv);
  assertClearError(r, names, argv.join(" "));
  assertTreeUnchanged(root, before, argv.join(" "));
  return r;
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Sets the file name of a bundle.json field; `searchFusion[1]` is a second fused model. */
function withName(field: string, name: string) {
  return (m: Record<string, unknown>) => {
    switch (field) {
      case "searchFusion[1].checkpoint":
        return {
          ...m,
          searchFusion: [
            { checkpoint: m.alignment, weight: 0.5 },
            { checkpoint: name, weight: 0.5 },
          ],
        };
      case "generatorEnsemble[0]":
        return { ...m, generatorEnsemble: [name] };
      default:
        return { ...m, [field]: name };
    }
  };
}

const FIELDS = [
  "alignment",
  "generator",
  "regionGenerator",
  "searchFusion[1].checkpoint",
  "generatorEnsemble[0]",
];

/** File names that lead out of the bundle folder, or are no file name at all. */
const HOSTILE_NAMES = [
  "../../../victim.txt",
  "../ok/alignment.ckpt",
  "../../../../../../etc/passwd",
  "/etc/passwd",
  "..",
  "sub/../../ok/generator.ckpt",
  "alignment.ckpt\u0000.png",
  "..\\..\\..\\victim.txt",
  "C:\\Windows\\win.ini",
  "./generator.ckpt",
  "",
];

for (const field of FIELDS) {
  for (const name of HOSTILE_NAMES) {
    test(`bundle add refuses ${field} = ${JSON.stringify(name)}; the victim and the cache stay as they were`, async () => {
      const dir = hostileBundle(withName(field, name));
      // An empty name in the ensemble list is refused as a bad list, named by the list.
      const named = name === "" ? field.replace(/\[\d+\]$/, "") : field;
      await refused(
        ["models", "bundle", "add", "x", dir],
        new RegExp(`bundle\\.json: ${literal(named)}`),
      );
      assert.equal(readFileSync(victim, "utf8"), "the victim's own bytes\n");
    });
  }
}

for (const field of FIELDS) {
  for (const name of ["../../../../../../etc/passwd", "../ok/alignment.ckpt", "/etc/passwd"]) {
    test(`describe refuses a bundle whose ${field} is ${JSON.stringify(name)}`, async () => {
      const dir = hostileBundle(withName(field, name));
      await refused(
        ["describe", image, "--bundle", dir],
        new RegExp(`bundle\\.json: ${literal(field)}: expected a file name inside the folder`),
      );
    });
  }
}

test("search refuses a bundle whose alignment climbs out of its folder", async () => {
  const dir = hostileBundle(withName("alignment", "../ok/alignment.ckpt"));
  await refused(
    ["search", join(root, "no-index"), "a dog", "--bundle", dir],
    /bundle\.json: alignment: .*'\.\.'/,
  );
});

/** Vision setups whose model or config file lies outside the bundle folder. */
const HOSTILE_VISION: [string, Record<string, unknown>, RegExp][] = [
  ["encoderModel", { encoderModel: "../../../victim.onnx" }, /vision\.encoderModel: .*'\.\.'/],
  ["encoderModel", { encoderModel: "/etc/passwd.onnx" }, /vision\.encoderModel: .*absolute path/],
  ["encoderModel", { encoderModel: "../ok/model.onnx" }, /vision\.encoderModel: .*'\.\.'/],
  [
    "detectorModel",
    { detector: "yolox-nano", regions: 20, detectorModel: "../../../victim.onnx" },
    /vision\.detectorModel: .*'\.\.'/,
  ],
  ["encoder", { encoder: "../../encoder.json" }, /vision\.encoder: a bundle names a preset/],
  [
    "detector",
    { detector: "/tmp/detector.json", regions: 20 },
    /vision\.detector: a bundle names a preset/,
  ],
];

for (const [field, vision, names] of HOSTILE_VISION) {
  test(`describe refuses a bundle whose vision.${field} is ${JSON.stringify(Object.values(vision)[0])}`, async () => {
    const dir = hostileBundle((m) => ({
      ...m,
      vision: { encoder: "mobilenetv2-12-int8", detector: null, regions: 1, ...vision },
    }));
    await refused(["describe", image, "--bundle", dir], names);
  });
}

/** Symlinks that lead out of the bundle folder, each checked by `bundle add` and `describe`. */
const SYMLINKS: [string, (dir: string) => void, Record<string, unknown>, RegExp][] = [
  [
    "alignment.ckpt -> another bundle's checkpoint",
    (dir) => {
      rmSync(join(dir, "alignment.ckpt"));
      symlinkSync(join(ok, "alignment.ckpt"), join(dir, "alignment.ckpt"));
    },
    {},
    /bundle\.json: alignment: "alignment\.ckpt" resolves to .*outside the folder/,
  ],
  [
    "generator.ckpt -> ../../../victim.txt (relative)",
    (dir) => {
      rmSync(join(dir, "generator.ckpt"));
      symlinkSync("../../../victim.txt", join(dir, "generator.ckpt"));
    },
    {},
    /bundle\.json: generator: "generator\.ckpt" resolves to .*victim\.txt, outside/,
  ],
  [
    "region-generator.ckpt -> /etc/passwd",
    (dir) => {
      rmSync(join(dir, "region-generator.ckpt"));
      symlinkSync("/etc/passwd", join(dir, "region-generator.ckpt"));
    },
    {},
    /bundle\.json: regionGenerator: .*outside the folder/,
  ],
  [
    "bundle.json itself -> another bundle's",
    (dir) => {
      rmSync(join(dir, BUNDLE_FILE));
      symlinkSync(join(ok, BUNDLE_FILE), join(dir, BUNDLE_FILE));
    },
    {},
    /bundle\.json: "bundle\.json" resolves to .*outside the folder/,
  ],
  [
    "a subfolder -> another bundle",
    (dir) => symlinkSync(ok, join(dir, "models")),
    { alignment: "models/alignment.ckpt" },
    /bundle\.json: alignment: "models\/alignment\.ckpt" resolves to .*outside the folder/,
  ],
];

for (const [what, prepare, fields, names] of SYMLINKS) {
  const commands: [string, (dir: string) => string[]][] = [
    ["bundle add", (dir) => ["models", "bundle", "add", "x", dir]],
    ["describe", (dir) => ["describe", image, "--bundle", dir]],
  ];
  for (const [command, argv] of commands) {
    test(`${command} refuses a bundle with ${what}`, async () => {
      await refused(argv(hostileBundle((m) => ({ ...m, ...fields }), prepare)), names);
    });
  }
}

test("bundle add refuses a symlink loop in the bundle, naming the field", async () => {
  const dir = hostileBundle(
    (m) => m,
    (d) => {
      rmSync(join(d, "generator.ckpt"));
      symlinkSync("generator.ckpt", join(d, "generator.ckpt"));
    },
  );
  // snapshotTree follows links, so the loop is kept out of ROOT's snapshots.
  try {
    const r = await runCli(["models", "bundle", "add", "x", dir]);
    assertClearError(r, /bundle\.json: generator: /, "a symlink loop");
    assert.equal(existsSync(join(home, "bundles", "x")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a symlink that stays inside the bundle is fine, and its cached copy is a plain file", async () => {
  const dir = hostileBundle(
    (m) => ({ ...m, generatorEnsemble: ["generator-2.ckpt"] }),
    (d) => symlinkSync("generator.ckpt", join(d, "generator-2.ckpt")),
  );
  const r = await runCli(["models", "bundle", "add", "inside", dir]);
  assert.equal(r.code, 0, r.stderr);
  const cached = join(home, "bundles", "inside", "generator-2.ckpt");
  assert.equal(lstatSync(cached).isSymbolicLink(), false);
  assert.equal(loadBundle("inside").generatorEnsemble.length, 1);
});

test("writeBundle refuses to write through a symlink an existing folder holds", () => {
  const dir = hostileBundle(
    (m) => m,
    (d) => {
      rmSync(join(d, "generator.ckpt"));
      symlinkSync(victim, join(d, "generator.ckpt"));
    },
  );
  const before = snapshotTree(root);
  assert.throws(
    () =>
      writeBundle(dir, {
        alignment: join(checkpoints, "alignment.ckpt"),
        generator: join(checkpoints, "generator.ckpt"),
        vision: PIXEL_STATS_SETUP,
      }),
    /bundle\.json: generator: "generator\.ckpt" resolves to .*victim\.txt, outside/,
  );
  assertTreeUnchanged(root, before, "writeBundle through a symlink");
});

/** Ways a checkpoint file goes bad after it was written. */
const DAMAGE: [string, (path: string) => void][] = [
  ["truncated to half", (p) => truncateSync(p, Math.floor(readFileSync(p).length / 2))],
  [
    "with one bit flipped in its last byte",
    (p) => {
      const b = readFileSync(p);
      b[b.length - 1] ^= 0x10;
      writeFileSync(p, b);
    },
  ],
  ["emptied", (p) => writeFileSync(p, "")],
  ["replaced by random bytes", (p) => writeFileSync(p, randomBytes(3000, 7))],
  [
    "with bytes appended",
    (p) => writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from("junk")])),
  ],
];

for (const file of ["alignment.ckpt", "generator.ckpt", "region-generator.ckpt"]) {
  for (const [how, damage] of DAMAGE) {
    test(`bundle add refuses a bundle whose ${file} is ${how}, naming the file`, async () => {
      const dir = hostileBundle(
        (m) => m,
        (d) => damage(join(d, file)),
      );
      await refused(
        ["models", "bundle", "add", "x", dir],
        new RegExp(`${literal(join(dir, file))}: `),
      );
    });
  }
}

test("a refused add keeps the cached bundle of that name as it was", async () => {
  assert.equal((await runCli(["models", "bundle", "add", "keep", good])).code, 0);
  const dir = hostileBundle(
    (m) => m,
    (d) => truncateSync(join(d, "generator.ckpt"), 100),
  );
  await refused(["models", "bundle", "add", "keep", dir], /generator\.ckpt: /);
  assert.equal(loadBundle("keep").dir, join(home, "bundles", "keep"));
});

test("describe refuses a bundle with a truncated checkpoint, naming the file", async () => {
  const dir = hostileBundle(
    (m) => m,
    (d) => truncateSync(join(d, "alignment.ckpt"), 40),
  );
  await refused(["describe", image, "--bundle", dir], /alignment\.ckpt: /);
});

test("bundle add refuses a bundle.json naming a file the folder lacks", async () => {
  const dir = hostileBundle((m) => ({ ...m, regionGenerator: "nothere.ckpt" }));
  await refused(
    ["models", "bundle", "add", "x", dir],
    /bundle\.json: regionGenerator: .*nothere\.ckpt: file not found/,
  );
});

test("bundle add refuses a folder that does not exist", async () => {
  await refused(
    ["models", "bundle", "add", "x", join(root, "nowhere")],
    /nowhere: bundle folder not found/,
  );
});

/** bundle.json contents that are refused with the field named. */
const BAD_MANIFESTS: [
  string,
  (m: Record<string, unknown>) => Record<string, unknown> | string,
  RegExp,
][] = [
  ["not JSON", () => "{ not json", /bundle\.json: invalid JSON/],
  ["an array", () => "[1, 2]", /bundle\.json: expected a JSON object/],
  [
    "another format",
    (m) => ({ ...m, format: "zip" }),
    /bundle\.json: format: expected "imagesent-bundle"/,
  ],
  ["version 2", (m) => ({ ...m, version: 2 }), /bundle\.json: version: this build reads version 1/],
  ["a negative beta", (m) => ({ ...m, beta: -1 }), /bundle\.json: beta: expected a number >= 0/],
  ["beta 1e999 (Infinity)", () => manifestText({ beta: "1e999" }), /bundle\.json: beta: /],
  [
    "a rerank beam of 101",
    (m) => ({ ...m, captionRerank: { weight: 1, beam: 101 } }),
    /bundle\.json: captionRerank\.beam: expected an integer from 2 to 100, got 101/,
  ],
  [
    "a rerank beam of a billion",
    (m) => ({ ...m, captionRerank: { weight: 1, beam: 1e9 } }),
    /bundle\.json: captionRerank\.beam: expected an integer from 2 to 100/,
  ],
  [
    "a rerank weight of 1e999",
    () => manifestText({ captionRerank: '{"weight": 1e999, "beam": 5}' }),
    /bundle\.json: captionRerank\.weight: expected a number >= 0/,
  ],
  [
    "a fusion weight of 1e999",
    () =>
      manifestText({
        searchFusion: '[{"checkpoint": "alignment.ckpt", "weight": 1e999}]',
      }),
    /bundle\.json: searchFusion\[0\]\.weight: expected a finite number/,
  ],
  [
    "a number as the generator",
    (m) => ({ ...m, generator: 5 }),
    /bundle\.json: generator: expected a checkpoint file name/,
  ],
  [
    "an ensemble that is not a list",
    (m) => ({ ...m, generatorEnsemble: "generator.ckpt" }),
    /bundle\.json: generatorEnsemble: expected a list/,
  ],
  [
    "30 regions",
    (m) => ({ ...m, vision: { ...(m.vision as object), regions: 30 } }),
    /bundle\.json: vision\.regions: /,
  ],
];

/** The good bundle.json with fields replaced by raw JSON text (for numbers JSON.stringify cannot write). */
function manifestText(raw: Record<string, string>): string {
  const m = manifestOf(good);
  const placeholders = Object.fromEntries(Object.keys(raw).map((k) => [k, `@@${k}@@`]));
  let text = JSON.stringify({ ...m, ...placeholders });
  for (const [k, v] of Object.entries(raw)) text = text.replace(`"@@${k}@@"`, v);
  return text;
}

for (const [what, edit, names] of BAD_MANIFESTS) {
  test(`bundle add refuses a bundle.json with ${what}`, async () => {
    await refused(["models", "bundle", "add", "x", hostileBundle(edit)], names);
  });
}

/** A deterministic stream of bytes (a 32-bit LCG). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Files that are not ONNX models, given to `models add`. */
const NOT_MODELS: [string, () => Uint8Array | string, RegExp][] = [
  ["random bytes", () => randomBytes(4096, 1), /not an ONNX model/],
  ["more random bytes", () => randomBytes(65536, 99), /not an ONNX model/],
  ["an empty file", () => "", /not an ONNX model \(no graph\)/],
  ["a text file", () => "hello, I am a model\n", /not an ONNX model/],
  ["a JSON file", () => JSON.stringify({ model: "yolox" }), /not an ONNX model/],
  ["a checkpoint", () => readFileSync(join(checkpoints, "generator.ckpt")), /not an ONNX model/],
  [
    "a truncated ONNX model",
    () => {
      const m = quantizedModel();
      return m.subarray(0, Math.floor(m.length / 2));
    },
    /not an ONNX model \(truncated/,
  ],
  [
    "a ModelProto without a graph",
    () => encodeMessage([{ no: 1, varint: 8 }]),
    /not an ONNX model \(no graph\)/,
  ],
  [
    "an ONNX graph without nodes",
    () => modelProto({ nodes: [], inputs: [], outputs: [] }, 13),
    /not an ONNX model \(its graph has no nodes\)/,
  ],
];

NOT_MODELS.forEach(([what, bytes, why], i) => {
  test(`models add refuses ${what}, naming the file`, async () => {
    const file = join(root, `not-a-model-${i}.onnx`);
    writeFileSync(file, bytes());
    await refused(["models", "add", "m", file], new RegExp(`${literal(file)}: ${why.source}`));
    assert.equal(existsSync(join(home, "models", "m.onnx")), false);
  });
});

test("models add refuses a folder as the model file", async () => {
  await refused(["models", "add", "m", checkpoints], `${checkpoints}: not a file`);
});

test("models add takes a real (tiny) ONNX model", async () => {
  const file = join(root, "tiny.onnx");
  writeFileSync(file, quantizedModel());
  const r = await runCli(["models", "add", "tiny", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(join(home, "models", "tiny.onnx")), readFileSync(file));
});

test("models add under a preset's name says which model name the preset looks up", async () => {
  const file = join(root, "detector.onnx");
  writeFileSync(file, quantizedModel());
  await refused(
    ["models", "add", "yolox-nano", file],
    /'yolox-nano' is a preset, whose config looks its model up as 'yolox_nano'; add it with 'imagesent models add yolox_nano /,
  );
});

test("a model cached under a near name is pointed out when the expected name is missing", async () => {
  mkdirSync(join(home, "models"), { recursive: true });
  writeFileSync(join(home, "models", "yolox-nano.onnx"), quantizedModel());
  await refused(
    ["models", "path", "yolox_nano"],
    /model 'yolox_nano' is not in .* \(a model 'yolox-nano' is, but configs look this one up as 'yolox_nano'\)/,
  );
});

/** describe flags that are refused before any work: [flag, value, what the error names]. */
const DESCRIBE_FLAGS: [string, string, RegExp][] = [
  ["--beam", "1000000000", /--beam: expected an integer from 1 to 100, got "1000000000"/],
  ["--beam", "101", /--beam: expected an integer from 1 to 100/],
  ["--beam", "1e1", /--beam: expected an integer from 1 to 100, got "1e1"/],
  ["--beam", "0x10", /--beam: expected an integer from 1 to 100/],
  ["--beam", " 7", /--beam: expected an integer from 1 to 100/],
  ["--beam", "7.0", /--beam: expected an integer from 1 to 100/],
  ["--beam", "-3", /--beam: expected an integer from 1 to 100/],
  ["--beam", "99999999999999999999", /--beam: expected an integer from 1 to 100/],
  ["--region-beam", "101", /--region-beam: expected an integer from 1 to 100/],
  ["--region-beam", "2e0", /--region-beam: expected an integer from 1 to 100/],
  ["--rerank-weight", "Infinity", /--rerank-weight: expected a number >= 0, got "Infinity"/],
  ["--rerank-weight", "-Infinity", /--rerank-weight: expected a number >= 0/],
  ["--rerank-weight", "NaN", /--rerank-weight: expected a number >= 0/],
  ["--rerank-weight", "1e999", /--rerank-weight: expected a number >= 0, got "1e999"/],
  ["--rerank-weight", "0x1", /--rerank-weight: expected a number >= 0/],
  ["--rerank-weight", "", /--rerank-weight: expected a number >= 0/],
  ["--threads", "100000", /--threads: expected an integer from 1 to 64/],
  ["--threads", "1e1", /--threads: expected an integer from 1 to 64/],
];

for (const [flag, value, names] of DESCRIBE_FLAGS) {
  test(`describe refuses ${flag} ${JSON.stringify(value)}`, async () => {
    await refused(["describe", image, "--bundle", good, `${flag}=${value}`], names);
  });
}

test("describe accepts plain flags and writes its page into an existing folder", async () => {
  const page = join(root, "page.html");
  const r = await runCli([
    "describe",
    image,
    "--bundle",
    good,
    "--beam",
    "2",
    "--region-beam",
    "1",
    "--rerank-weight",
    "0.5",
    "--html",
    page,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(page, "utf8"), /<html/i);
});

test("describe --html into a missing folder names the folder, before describing anything", async () => {
  const page = join(root, "no-such-folder", "page.html");
  await refused(
    ["describe", image, "--bundle", good, "--html", page],
    `--html ${page}: folder ${join(root, "no-such-folder")} does not exist`,
  );
});

test("describe --html onto a folder says it is a folder", async () => {
  await refused(
    ["describe", image, "--bundle", good, "--html", checkpoints],
    /is a folder, not a file/,
  );
});

/** search flags: [flag, value, what the error names]. */
const SEARCH_FLAGS: [string, string, RegExp][] = [
  ["--k", "1000001", /--k: expected an integer from 1 to 1000/],
  ["--k", "1e1", /--k: expected an integer from 1 to 1000, got "1e1"/],
  ["--k", "0x10", /--k: expected an integer from 1 to 1000/],
  ["--phrases", "5000", /--phrases: expected an integer from 1 to 1000/],
  ["--phrases", "3.5", /--phrases: expected an integer from 1 to 1000/],
  ["--threads", "9999", /--threads: expected an integer from 1 to 64/],
];

for (const [flag, value, names] of SEARCH_FLAGS) {
  test(`search refuses ${flag} ${JSON.stringify(value)}`, async () => {
    await refused(
      ["search", join(root, "no-index"), "a dog", "--bundle", good, `${flag}=${value}`],
      names,
    );
  });
}

/** `models bundle create` flags: [flags, what the error names]. */
const CREATE_FLAGS: [string[], RegExp][] = [
  [["--regions", "1e1"], /--regions: expected an integer from 1 to 20, got "1e1"/],
  [["--regions", "21"], /--regions: expected an integer from 1 to 20, got "21"/],
  [["--regions", "2.0"], /--regions: expected an integer from 1 to 20/],
  [["--beta", "Infinity"], /--beta: expected a number >= 0, got "Infinity"/],
  [["--beta", "1e999"], /--beta: expected a number >= 0/],
  [["--beta=-1"], /--beta: expected a number >= 0/],
  [["--rerank-weight", "Infinity"], /--rerank-weight: expected a number >= 0/],
  [["--rerank-weight", "NaN"], /--rerank-weight: expected a number >= 0/],
  [
    ["--rerank-weight", "1", "--rerank-beam", "101"],
    /--rerank-beam: expected an integer from 2 to 100/,
  ],
  [
    ["--rerank-weight", "1", "--rerank-beam", "1e1"],
    /--rerank-beam: expected an integer from 2 to 100/,
  ],
  [
    ["--rerank-weight", "1", "--rerank-beam", "1"],
    /--rerank-beam: expected an integer from 2 to 100/,
  ],
];

CREATE_FLAGS.forEach(([flags, names], i) => {
  test(`bundle create refuses ${flags.join(" ")}, writing nothing`, async () => {
    const out = join(root, `created-${i}`);
    await refused(
      [
        "models",
        "bundle",
        "create",
        out,
        "--alignment",
        join(checkpoints, "alignment.ckpt"),
        "--generator",
        join(checkpoints, "generator.ckpt"),
        "--encoder",
        "pixel-stats",
        "--detector",
        "world-shapes",
        ...flags,
      ],
      names,
    );
    assert.equal(existsSync(out), false);
  });
});

const WORDS = ["a", "dog", "runs", "on", "the", "beach", "with", "red", "ball", "near", "water"];
const caption = (n: number) => Array.from({ length: n }, (_, i) => WORDS[(i * 7) % 11]).join(" ");

/** Writes a refs and a cands file; returns the score command's argv. */
function scoreFiles(name: string, refs: [ImageId, string][], cands: [ImageId, string][]): string[] {
  const refsPath = join(root, `${name}-refs.json`);
  const candsPath = join(root, `${name}-cands.json`);
  writeFileSync(
    refsPath,
    JSON.stringify({ annotations: refs.map(([image_id, c]) => ({ image_id, caption: c })) }),
  );
  writeFileSync(
    candsPath,
    JSON.stringify(cands.map(([image_id, c]) => ({ image_id, caption: c }))),
  );
  return ["score", "--refs", refsPath, "--cands", candsPath];
}

test("score refuses a 30,000-word candidate, naming the file and the image", async () => {
  const argv = scoreFiles("long-cand", [[1, "a dog runs"]], [[1, caption(30_000)]]);
  await refused(
    argv,
    /long-cand-cands\.json: \[0\]\.caption: image 1: 30000 words, more than the 100/,
  );
});

test("score refuses a reference over the limit, naming the file and the image", async () => {
  const argv = scoreFiles(
    "long-ref",
    [
      [1, "a dog runs"],
      [7, caption(MAX_CAPTION_WORDS + 1)],
    ],
    [[1, "a dog"]],
  );
  await refused(argv, /long-ref-refs\.json: annotations\[1\]\.caption: image 7: 101 words/);
});

test("score counts the words it scores: punctuation between words does not hide them", async () => {
  const argv = scoreFiles("commas", [["img-3", "a dog runs"]], [["img-3", "dog,".repeat(150)]]);
  await refused(argv, /commas-cands\.json: \[0\]\.caption: image img-3: 150 words/);
});

test(`score takes captions of exactly ${MAX_CAPTION_WORDS} words`, async () => {
  const argv = scoreFiles(
    "at-limit",
    [[1, caption(MAX_CAPTION_WORDS)]],
    [[1, caption(MAX_CAPTION_WORDS)]],
  );
  const r = await runCli(argv);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /images scored: 1/);
});
