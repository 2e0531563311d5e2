import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Searcher } from "../../../src/app/searcher.js";
import { serveCommand } from "../../../src/cli/commands/serve.js";
import { InputError } from "../../../src/errors.js";
import { type TrainedWorld, trainedWorld } from "../../app/fixtures.js";
import { assertClearError, runCli } from "../../support/cli-run.js";

let dir: string;
let trained: TrainedWorld;
/** An index of one world image. */
let index: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-serve-cli-"));
  trained = await trainedWorld(dir, { images: 30 });
  index = join(dir, "index");
  const searcher = Searcher.open(trained.bundleDir, index);
  await searcher.index([join(trained.world.imagesDir, trained.world.world.images[0].filename)]);
  await searcher.close();
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("argument errors are InputErrors that say what is wrong", async () => {
  const cases: [string[], RegExp][] = [
    [["extra"], /unexpected argument 'extra'/],
    [["--port", "70000"], /--port: expected a port number from 0 to 65535, got "70000"/],
    [["--port", "http"], /--port: expected a port number/],
    [["--index", join(dir, "none")], /--index .*none: not a folder/],
    [["--images", dir], /--images goes with --index/],
    [["--max-upload-mb", "0"], /--max-upload-mb: expected a positive integer, got "0"/],
    [["--max-megapixels", "0.5"], /--max-megapixels: expected a positive integer, got "0.5"/],
    [["--max-concurrent", "none"], /--max-concurrent: expected a positive integer, got "none"/],
    [["--bundle", "./no/such/bundle"], /no\/such\/bundle: bundle folder not found/],
    [["--colour", "red"], /colour/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      async () => serveCommand.run(args),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      args.join(" "),
    );
  }
});

test("serve prints its loopback URL, answers there, and stops on SIGTERM", async (t) => {
  const printed: string[] = [];
  let announced: (url: string) => void;
  const url = new Promise<string>((resolve) => {
    announced = resolve;
  });
  t.mock.method(console, "log", (line: string) => {
    printed.push(line);
    const match = /^imagesent serve: (http:\/\/\S+)$/.exec(line);
    if (match) announced(match[1]);
  });
  t.mock.method(console, "error", () => {});
  const run = serveCommand.run([
    "--bundle",
    trained.bundleDir,
    "--index",
    index,
    "--port",
    "0",
    "--max-upload-mb",
    "3",
    "--max-megapixels",
    "5",
  ]);
  const root = await url;
  let info: Record<string, unknown>;
  try {
    assert.match(root, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    info = (await (await fetch(new URL("api/info", root))).json()) as Record<string, unknown>;
  } finally {
    process.emit("SIGTERM");
  }
  assert.equal(await run, 0);
  assert.deepEqual(info, {
    bundle: trained.bundleDir,
    describesRegions: true,
    index: { images: 1 },
    maxUploadBytes: 3_000_000,
    maxUploadPixels: 5_000_000,
    maxSearchResults: 50,
    queryExample: "a sentence, e.g. a red circle next to a blue square",
  });
  await assert.rejects(fetch(root));
});

test("a port in use is an InputError that says to pick another", async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    await assert.rejects(
      async () => serveCommand.run(["--bundle", trained.bundleDir, "--port", String(port)]),
      (e: unknown) =>
        e instanceof InputError &&
        e.message ===
          `port ${port} on 127.0.0.1 is in use; pick another with --port N (0 picks a free one)`,
    );
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test("a corrupt index stops serve at start-up with one line and exit 2", {
  timeout: 60_000,
}, async () => {
  const dataFiles = (copy: string) => {
    const data = join(copy, "db", "images.lance", "data");
    return readdirSync(data).map((f) => join(data, f));
  };
  const corruptions: [string, (copy: string) => void, RegExp][] = [
    [
      "index.json is garbage",
      (copy) => writeFileSync(join(copy, "index.json"), "\x00\x01 garbage {"),
      /index\.json: invalid JSON/,
    ],
    [
      "index.json is null",
      (copy) => writeFileSync(join(copy, "index.json"), "null"),
      /index\.json: expected a JSON object/,
    ],
    [
      "a data file is garbage",
      (copy) => {
        for (const f of dataFiles(copy)) writeFileSync(f, "garbage garbage garbage");
      },
      /\/db: cannot read the index's tables/,
    ],
    [
      "a data file's end is overwritten",
      (copy) => {
        for (const f of dataFiles(copy)) {
          const bytes = readFileSync(f);
          writeFileSync(f, bytes.fill(0xff, bytes.length - 64));
        }
      },
      /\/db: cannot read the index's tables/,
    ],
    [
      "the index was built with another bundle",
      (copy) => {
        const path = join(copy, "index.json");
        const json = JSON.parse(readFileSync(path, "utf8"));
        writeFileSync(path, JSON.stringify({ ...json, bundle: "0".repeat(32), bundleName: "old" }));
      },
      /built with another bundle \(old\).*imagesent index --rebuild/,
    ],
  ];
  for (const [what, corrupt, names] of corruptions) {
    const copy = join(dir, `corrupt-${what.replace(/\W+/g, "-")}`);
    cpSync(index, copy, { recursive: true });
    corrupt(copy);
    const r = await runCli([
      "serve",
      "--bundle",
      trained.bundleDir,
      "--index",
      copy,
      "--port",
      "0",
    ]);
    assertClearError(r, names, what);
    assert.equal(r.stderr.trim().split("\n").length, 1, what);
  }
});
