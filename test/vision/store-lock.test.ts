import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import sharp from "sharp";
import { FeatureStore } from "../../src/vision/feature-store.js";
import { runCli } from "../support/cli-run.js";

const main = new URL("../../src/cli/main.js", import.meta.url).href;

/** Runs `imagesent ARGS` in a child process (with this process's loader flags, e.g. tsx). */
function imagesent(args: string[]) {
  const code = `import(${JSON.stringify(main)}).then(async (m) => process.exit(await m.main(${JSON.stringify(args)})))`;
  return spawn(process.execPath, [...process.execArgv, "--input-type=module", "-e", code], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

async function images(dir: string, names: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const [i, name] of names.entries()) {
    await sharp({
      create: { width: 320, height: 240, channels: 3, background: { r: 4 * i, g: 90, b: 200 } },
    })
      .png()
      .toFile(join(dir, name));
  }
}

test("two writers into one store: the second is refused while the first runs, nothing is lost", async () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-lock-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const half = (h: string) =>
    Array.from({ length: 40 }, (_, i) => `${h}${String(i).padStart(2, "0")}.png`);
  await images(join(dir, "first"), half("a"));
  await images(join(dir, "second"), half("b"));
  const out = join(dir, "store");
  const args = (from: string) => [
    "features",
    "--images",
    join(dir, from),
    "--out",
    out,
    "--encoder",
    "pixel-stats",
    "--detector",
    "none",
    "--shard",
    "2",
  ];
  const first = imagesent(args("first"));
  let firstErr = "";
  first.stderr.on("data", (d) => {
    firstErr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => first.on("exit", resolve));
  while (!existsSync(join(out, "LOCK")) && first.exitCode === null)
    await new Promise((r) => setTimeout(r, 2));
  const lock = JSON.parse(readFileSync(join(out, "LOCK"), "utf8"));
  assert.equal(lock.pid, first.pid);

  const second = await runCli(args("second"));
  assert.equal(second.code, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `store is being written by pid ${first.pid} since .*; wait for it, or remove .*LOCK if that process is gone`,
    ),
  );
  assert.equal(await exited, 0, firstErr);
  assert.equal(first.exitCode, 0);

  const again = await runCli(args("second"));
  assert.equal(again.code, 0, again.stderr);
  const store = FeatureStore.open(out);
  assert.equal(store.size, 80, "both halves are stored");
  assert.equal([...store.entries()].length, 80);
  assert.equal(readdirSync(out).filter((f) => f.endsWith(".isf")).length, 40);
  assert.ok(!existsSync(join(out, "LOCK")), "released");
});

test("a second writer in the same process takes the store over; the first may not append", () => {
  const root = mkdtempSync(join(tmpdir(), "imagesent-lock-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "store");
  const meta = { encoder: "enc", dim: 1, regionsPerImage: 1, detector: null };
  const entry = (filename: string) => ({
    filename,
    id: -1,
    width: 2,
    height: 2,
    regions: [{ box: { x1: 0, y1: 0, x2: 2, y2: 2 }, source: "whole" as const }],
    features: new Float32Array([1]),
  });
  const a = FeatureStore.openForWriting(dir, meta);
  a.append([entry("a.jpg")]);
  const b = FeatureStore.openForWriting(dir, meta);
  assert.throws(() => a.append([entry("x.jpg")]), /opened for writing again in this process/);
  b.append([entry("b.jpg")]);
  a.close();
  assert.ok(existsSync(join(dir, "LOCK")), "closing the superseded writer leaves the lock alone");
  b.close();
  assert.ok(!existsSync(join(dir, "LOCK")));
  assert.deepEqual(FeatureStore.open(dir).filenames(), ["a.jpg", "b.jpg"]);
});
