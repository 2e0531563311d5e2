/**
 * Feature extraction through the job queue (BullMQ on a redis-server of its own) against the
 * plain command on the same images: images/s with 1 worker process and with 2, and the queue's
 * overhead (goal: under 5%). Real photos and models from ../shared when present (MobileNetV2 int8
 * + YOLOX-Nano, 20 regions), else generated images and the weight-free encoder. Every run is a
 * CLI process; workers are started first and do one warm-up job (loading their models), as on a
 * cluster waiting for work. Each run is measured in CPU time over every process it uses (the
 * command, the workers, redis-server: what the queue costs, and little disturbed by other load on
 * a shared machine) and in images/s from start to exit of the command; its store is checked to be
 * byte-identical to the plain one.
 *
 *   npm run bench:queue [-- --limit N] [-- --shard N] [-- --threads N] [-- --rounds N] [-- --json]
 *
 * With --json the last line is one JSON object with every number.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { packageRoot } from "../src/package-root.js";
import { findRedisServer, TestRedis } from "../test/support/redis-server.js";

const { values } = parseArgs({
  options: {
    limit: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    shard: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const limit = Number(values.limit);
const threads = Number(values.threads);
const rounds = Number(values.rounds);

if (!findRedisServer()) {
  console.error("bench:queue: no redis-server binary (apt-get install redis-server); skipping");
  process.exit(0);
}
try {
  await import("bullmq");
} catch {
  console.error("bench:queue: the optional dependency bullmq is not installed; skipping");
  process.exit(0);
}

const shared = process.env.IMAGESENT_SHARED ?? join(packageRoot, "..", "shared");
const originals = join(shared, "data/flickr8k/originals");
const encoderModel = join(shared, "models/mobilenetv2-12-int8.onnx");
const detectorModel = join(shared, "models/yolox_nano.onnx");
const real = [originals, encoderModel, detectorModel].every((p) => existsSync(p));

const work = mkdtempSync(join(tmpdir(), "imagesent-bench-queue-"));
const images = join(work, "images");
mkdirSync(images);
if (real) {
  for (const f of readdirSync(originals)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, limit))
    symlinkSync(join(originals, f), join(images, f));
} else {
  for (let i = 0; i < limit; i++) {
    await sharp({
      create: { width: 640, height: 480, channels: 3, background: { r: i % 256, g: 90, b: 200 } },
    })
      .jpeg()
      .toFile(join(images, `im${String(i).padStart(4, "0")}.jpg`));
  }
}
const modelArgs = real
  ? [
      ...["--encoder", "mobilenetv2-12-int8", "--encoder-model", encoderModel],
      ...["--detector", "yolox-nano-proposals", "--detector-model", detectorModel],
    ]
  : ["--encoder", "pixel-stats", "--detector", "none"];
const what = real
  ? `${limit} Flickr8k photos, 20 regions (YOLOX-Nano proposals + MobileNetV2 int8)`
  : `${limit} generated 640x480 images, 20 regions (pixel-stats encoder; no ../shared)`;

const main = new URL("../src/cli/main.js", import.meta.url).href;
/**
 * `imagesent ARGS` in a child process, as bin/imagesent.js runs it (with tsx's loader under tsx),
 * that prints its CPU seconds (all threads: onnxruntime's too) as its last stderr line.
 */
function cli(args: string[]): ChildProcess {
  const code = `process.on("exit", () => { const u = process.cpuUsage(); process.stderr.write("\\nbench-cpu " + (u.user + u.system) / 1e6 + "\\n"); }); import(${JSON.stringify(main)}).then(async (m) => process.exit(await m.main(${JSON.stringify(args)})))`;
  return spawn(process.execPath, [...process.execArgv, "--input-type=module", "-e", code], {
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** CPU seconds a live process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

interface Timing {
  /** Seconds from start to exit of the enqueuing (or plain) command. */
  readonly wall: number;
  /** CPU seconds of every process the run used: the command, the workers, redis-server. */
  readonly cpu: number;
}

/** Runs `imagesent features` into `out` (removed first), timing it and the `helpers`' CPU. */
async function timeFeatures(
  out: string,
  extra: string[],
  helpers: readonly (number | undefined)[] = [],
): Promise<Timing> {
  rmSync(out, { recursive: true, force: true });
  const before = helpers.reduce((t: number, pid) => t + cpuSeconds(pid), 0);
  const start = performance.now();
  const child = cli([
    "features",
    ...["--images", images, "--out", out, "--shard", values.shard],
    ...["--threads", String(threads)],
    ...modelArgs,
    ...extra,
  ]);
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const wall = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`features exited with ${code}:\n${err}`);
  const own = Number(/bench-cpu ([\d.]+)/.exec(err)?.[1] ?? Number.NaN);
  const others = helpers.reduce((t: number, pid) => t + cpuSeconds(pid), 0) - before;
  return { wall, cpu: own + others };
}

/** Starts `count` workers with `workerThreads` each and waits until each takes jobs. */
async function startWorkers(url: string, count: number, workerThreads: number) {
  const workers = Array.from({ length: count }, () => {
    const child = cli(["worker", "--queue", url, "--threads", String(workerThreads)]);
    const ready = new Promise<void>((resolve) => {
      let err = "";
      child.stderr?.on("data", (d) => {
        err += String(d);
        if (err.includes("taking jobs")) resolve();
      });
    });
    return { child, ready, exited: new Promise((r) => child.on("exit", r)) };
  });
  await Promise.all(workers.map((w) => w.ready));
  return {
    pids: workers.map((w) => w.child.pid),
    async stop() {
      for (const w of workers) w.child.kill("SIGTERM");
      await Promise.all(workers.map((w) => w.exited));
    },
  };
}

/** Every file of a store, for the identity check. */
function files(dir: string): string {
  return readdirSync(dir)
    .sort()
    .map((f) => `${f}:${readFileSync(join(dir, f)).toString("base64")}`)
    .join("\n");
}

const redis = await TestRedis.start();
const runs = ["plain", "oneWorker", "twoWorkers"] as const;
type Run = (typeof runs)[number];
const best = Object.fromEntries(runs.map((r) => [r, { wall: Infinity, cpu: Infinity }])) as Record<
  Run,
  Timing
>;
const keep = (key: Run, t: Timing) => {
  best[key] = { wall: Math.min(best[key].wall, t.wall), cpu: Math.min(best[key].cpu, t.cpu) };
};
let identical = true;
let queues = 0;
try {
  for (let round = 0; round < rounds; round++) {
    const plain = join(work, "plain");
    keep("plain", await timeFeatures(plain, []));
    const expected = files(plain);
    for (const [key, count] of [
      ["oneWorker", 1],
      ["twoWorkers", 2],
    ] as const) {
      const url = redis.url(`bench-${++queues}`);
      const workers = await startWorkers(url, count, Math.max(1, Math.floor(threads / count)));
      const out = join(work, key);
      try {
        // Workers of a cluster load their models once, for their first job: done here first.
        const warmUp = ["--queue", url, "--shard", "1", "--limit", String(2 * count)];
        await timeFeatures(join(work, "warm-up"), warmUp);
        keep(key, await timeFeatures(out, ["--queue", url], [...workers.pids, redis.pid]));
      } finally {
        await workers.stop();
      }
      identical &&= files(out) === expected;
    }
  }
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}

const perImage = (t: Timing) => (1000 * t.cpu) / limit;
const overhead = best.oneWorker.cpu / best.plain.cpu - 1;
const row = (name: string, t: Timing, note = "") =>
  console.log(
    `${name.padEnd(17)} ${perImage(t).toFixed(0).padStart(5)} ms CPU/image   ${(limit / t.wall).toFixed(1).padStart(5)} images/s (${t.wall.toFixed(1)} s)${note}`,
  );
console.log(
  `${what}, shards of ${values.shard}, ${threads} onnxruntime threads in all, best of ${rounds}:`,
);
row("plain command", best.plain);
row(
  "queue, 1 worker",
  best.oneWorker,
  `   CPU overhead ${(100 * overhead).toFixed(1)}% (goal < 5%)`,
);
row(
  "queue, 2 workers",
  best.twoWorkers,
  `   ${Math.max(1, Math.floor(threads / 2))} threads each; ${(best.oneWorker.wall / best.twoWorkers.wall).toFixed(2)}x the images/s of 1 worker`,
);
console.log(
  "CPU: the command's, plus the workers' and redis-server's during the run (workers warmed up on one job first); images/s: start to exit of the command",
);
console.log(`stores byte-identical to the plain run's: ${identical ? "yes" : "NO"}`);
if (values.json) {
  console.log(
    JSON.stringify({
      bench: "queue",
      images: limit,
      real,
      threads,
      shard: Number(values.shard),
      plainCpuMsPerImage: perImage(best.plain),
      oneWorkerCpuMsPerImage: perImage(best.oneWorker),
      twoWorkersCpuMsPerImage: perImage(best.twoWorkers),
      queueCpuOverhead: overhead,
      plainImagesPerSecond: limit / best.plain.wall,
      oneWorkerImagesPerSecond: limit / best.oneWorker.wall,
      twoWorkersImagesPerSecond: limit / best.twoWorkers.wall,
      identical,
    }),
  );
}
if (!identical) process.exitCode = 1;
