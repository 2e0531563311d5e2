import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import sharp from "sharp";
import { decodeShard, FeatureStore } from "../../src/vision/feature-store.js";

const main = new URL("../../src/cli/main.js", import.meta.url).href;

/** `count` PNG images of distinct colours, `width` x `height`, named im00.png, im01.png, ... */
export async function makeImages(
  dir: string,
  count: number,
  width = 96,
  height = 72,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const background = { r: (37 * i) % 256, g: (90 + 11 * i) % 256, b: 255 - ((7 * i) % 256) };
    await sharp({ create: { width: width + i, height, channels: 3, background } })
      .png()
      .toFile(join(dir, `im${String(i).padStart(2, "0")}.png`));
  }
}

/** A child `imagesent` process, with what it has printed to stderr so far. */
export interface Child {
  readonly process: ChildProcess;
  readonly stderr: () => string;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/**
 * Runs `imagesent ARGS` in a child process, with this process's loader flags (e.g. tsx) and
 * `nodeFlags` after them.
 */
export function imagesent(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  nodeFlags: string[] = [],
): Child {
  const code = `import(${JSON.stringify(main)}).then(async (m) => process.exit(await m.main(${JSON.stringify(args)})))`;
  const flags = [...process.execArgv, ...nodeFlags, "--input-type=module", "-e", code];
  const child = spawn(process.execPath, flags, { stdio: ["ignore", "ignore", "pipe"], env });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  return { process: child, stderr: () => err, exited };
}

/** Stops a worker as Ctrl-C does and waits for it to exit. */
export async function stopWorker(worker: Child): Promise<void> {
  if (worker.process.exitCode === null && worker.process.signalCode === null) {
    worker.process.kill("SIGTERM");
  }
  await worker.exited;
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every file under `dir` (relative name -> bytes), folders included as names ending in '/'. */
export function storeFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) {
        files.set(`${relative(dir, p)}/`, Buffer.alloc(0));
        walk(p);
      } else files.set(relative(dir, p), readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return files;
}

/** Asserts that two stores hold the same files with the same bytes (same images, same vectors). */
export function assertSameStore(actual: string, expected: string, what: string): void {
  const a = storeFiles(actual);
  const e = storeFiles(expected);
  assert.deepEqual([...a.keys()], [...e.keys()], `${what}: the same files`);
  for (const [name, bytes] of e) {
    assert.ok(a.get(name)?.equals(bytes), `${what}: ${name} differs from the single-process run's`);
  }
  const store = FeatureStore.open(actual);
  assert.equal([...store.entries()].length, FeatureStore.open(expected).size, what);
}

/** Shards listed in the store's store.json. */
export function listedShards(store: string): number {
  const path = join(store, "store.json");
  if (!existsSync(path)) return 0;
  try {
    return JSON.parse(readFileSync(path, "utf8")).shards.length;
  } catch {
    return 0;
  }
}

/** Jobs finished by workers and waiting in the store's staging folder. */
export function stagedShards(store: string): number {
  const dir = join(store, "incoming");
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^features-.*\.json$/.test(f)).length : 0;
}

/**
 * Staged jobs whose shard is not in the store yet (an enqueuer killed between adding a shard and
 * removing its staged files leaves one that is).
 */
export function stagedNotStored(store: string): number {
  const dir = join(store, "incoming");
  if (!existsSync(dir)) return 0;
  const stored = FeatureStore.open(store);
  return readdirSync(dir)
    .filter((f) => /^features-.*\.json$/.test(f))
    .filter((f) => {
      const bytes = readFileSync(join(dir, f.replace(/\.json$/, ".isf")));
      return !decodeShard(bytes).every((im) => stored.has(im.filename));
    }).length;
}
