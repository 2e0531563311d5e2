import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import sharp from "sharp";
import { FeatureStore } from "../../src/vision/feature-store.js";

const main = new URL("../../src/cli/main.js", import.meta.url).href;

/** Runs `imagesent ARGS` in a child process (with this process's loader flags, e.g. tsx). */
function imagesent(args: string[]) {
  const code = `import(${JSON.stringify(main)}).then(async (m) => process.exit(await m.main(${JSON.stringify(args)})))`;
  return spawn(process.execPath, [...process.execArgv, "--input-type=module", "-e", code], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

test("a run killed mid-way keeps its finished shards, and the rerun completes the store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-resume-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const images = join(dir, "images");
  mkdirSync(images);
  const n = 60;
  for (let i = 0; i < n; i++) {
    await sharp({
      create: {
        width: 320,
        height: 240,
        channels: 3,
        background: { r: 4 * i, g: 100, b: 240 - 4 * i },
      },
    })
      .png()
      .toFile(join(images, `im${String(i).padStart(2, "0")}.png`));
  }
  const out = join(dir, "store");
  const args = [
    "features",
    "--images",
    images,
    "--out",
    out,
    "--encoder",
    "pixel-stats",
    "--detector",
    "none",
    "--shard",
    "1",
  ];
  // Shards listed in store.json: a shard file is linked in just before it is listed.
  const shards = () =>
    existsSync(join(out, "store.json"))
      ? (JSON.parse(readFileSync(join(out, "store.json"), "utf8")).shards?.length ?? 0)
      : 0;

  const first = imagesent(args);
  const exited = new Promise<number | null>((resolve) => first.on("exit", (code) => resolve(code)));
  while (shards() < 3 && first.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  first.kill("SIGKILL");
  await exited;
  const kept = FeatureStore.open(out).size;
  assert.ok(kept >= 3 && kept < n, `killed after ${kept} of ${n} images`);

  const second = imagesent(args);
  let err = "";
  second.stderr.on("data", (d) => {
    err += String(d);
  });
  const code = await new Promise<number | null>((resolve) => second.on("exit", resolve));
  assert.equal(code, 0, err);
  assert.match(err, new RegExp(`${n} images, ${kept} already in`));
  const store = FeatureStore.open(out);
  assert.equal(store.size, n);
  assert.equal([...store.entries()].length, n, "every shard reads back whole");
  assert.deepEqual(
    readdirSync(out).filter((f) => !f.endsWith(".isf")),
    ["store.json"],
    "the lock is released and no temporary file is left",
  );
});
