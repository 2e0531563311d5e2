import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after, before } from "node:test";
import { FeatureStore } from "../../src/vision/feature-store.js";
import { assertClearError, runCli } from "../support/cli-run.js";
import { skipUnlessRedis, TestRedis } from "../support/redis-server.js";
import { writeQuantizedModel } from "../vision/tiny-models.js";
import {
  assertSameStore,
  type Child,
  imagesent,
  listedShards,
  makeImages,
  stagedNotStored,
  stagedShards,
  stopWorker,
  waitFor,
} from "./fixture.js";

const skip = skipUnlessRedis();
let redis: TestRedis;
let dir: string;
let images: string;
const IMAGES = 24;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-queue-"));
  images = join(dir, "images");
  await makeImages(images, IMAGES);
  if (!skip) redis = await TestRedis.start();
});
after(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `features` on the test images with the weight-free encoder: 20 regions, shards of `shard`. */
const featureArgs = (out: string, shard: number) => [
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
  String(shard),
];

/** The store a single-process run makes, once per shard size. */
const plainStores = new Map<number, string>();
async function plainStore(shard: number): Promise<string> {
  const known = plainStores.get(shard);
  if (known) return known;
  const out = join(dir, `plain-${shard}`);
  const r = await runCli(featureArgs(out, shard));
  assert.equal(r.code, 0, r.stderr);
  plainStores.set(shard, out);
  return out;
}

let queues = 0;
/** A queue of its own for each test, on the test's Redis. */
const newQueue = () => redis.url(`test-${++queues}`);

const worker = (url: string, env?: NodeJS.ProcessEnv): Child =>
  imagesent(["worker", "--queue", url, "--stall-timeout", "2"], env);

/** BullMQ's view of a queue, for what only Redis knows (active jobs, attempts). */
async function inspect(url: string) {
  const { Queue, QueueEvents } = await import("bullmq");
  const { Redis } = await import("ioredis");
  const port = Number(new URL(url).port);
  const name = new URL(url).pathname.slice(1);
  const connection = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
  const eventsConnection = connection.duplicate();
  for (const c of [connection, eventsConnection]) c.on("error", () => undefined);
  const events = new QueueEvents(name, { connection: eventsConnection });
  return {
    queue: new Queue(name, { connection }),
    events,
    async close() {
      eventsConnection.disconnect();
      await events.close();
      connection.disconnect();
    },
  };
}

test("--queue without a Redis, or with a malformed address, is one clear line and writes nothing", async () => {
  const out = join(dir, "refused");
  const bad = await runCli([...featureArgs(out, 4), "--queue", "http://127.0.0.1:1/x"]);
  assertClearError(bad, "--queue: expected a redis:// address", "not a redis:// URL");
  const noName = await runCli([...featureArgs(out, 4), "--queue", "redis://127.0.0.1:1/"]);
  assertClearError(noName, "queue name", "a URL without a queue name");
  const worker = await runCli(["worker", "--queue", "redis://127.0.0.1:9/a:b"]);
  assertClearError(worker, "queue name", "a name BullMQ cannot take");
  assertClearError(await runCli(["worker"]), "--queue is required", "worker without --queue");
  assertClearError(
    await runCli(["worker", "--queue", "redis://127.0.0.1:9/x", "--stall-timeout", "0"]),
    '--stall-timeout: expected an integer from 1 to 3600, got "0"',
    "a stall timeout of 0",
  );
  assertClearError(
    await runCli(["worker", "--queue", "redis://127.0.0.1:9/x"]),
    /cannot reach Redis at 127\.0\.0\.1:9/,
    "a worker without a Redis",
  );
  assert.ok(!existsSync(out), "nothing is written for a refused flag");
  // Port 9 (discard) has no Redis on a test machine: refused at once, not retried forever.
  const down = await runCli([...featureArgs(out, 4), "--queue", "redis://127.0.0.1:9/x"]);
  assertClearError(down, /cannot reach Redis at 127\.0\.0\.1:9/, "no Redis listening");
});

test("bullmq and ioredis are loaded only with --queue, and their absence is one clear line", async () => {
  // A resolve hook that refuses both packages, as an install without optional dependencies does.
  const hook = `export async function resolve(s, c, next) { if (s === "bullmq" || s === "ioredis") throw new Error("Cannot find package '" + s + "'"); return next(s, c); }`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const loader = ["--import", `data:text/javascript,${encodeURIComponent(register)}`];
  const out = join(dir, "without-bullmq");
  const plain = imagesent([...featureArgs(out, 4), "--limit", "2"], process.env, loader);
  assert.equal(await plain.exited, 0, plain.stderr());
  assert.equal(FeatureStore.open(out).size, 2);
  const queued = imagesent(
    [...featureArgs(out, 4), "--queue", "redis://127.0.0.1:9/x"],
    process.env,
    loader,
  );
  assert.equal(await queued.exited, 2, queued.stderr());
  assert.match(
    queued.stderr(),
    /^imagesent features: --queue needs the optional dependencies bullmq and ioredis \(npm install bullmq ioredis\)/,
  );
});

test("features --queue with two workers makes the store a single-process run makes, byte for byte", {
  skip,
}, async () => {
  const expected = await plainStore(4);
  const url = newQueue();
  const out = join(dir, "queued-2-workers");
  const workers = [worker(url), worker(url)];
  try {
    const r = await runCli([...featureArgs(out, 4), "--queue", url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /24 images in 6 shards to make .* 6 jobs enqueued/);
    assert.match(r.stderr, /features 24\/24 \(100\.0%\) [\d.]+ images\/s ETA 0s/);
    assert.match(r.stderr, /wrote 24, kept 0 already stored, 0 failed; store has 24 images/);
    assertSameStore(out, expected, "2 workers");

    const again = await runCli([...featureArgs(out, 4), "--queue", url]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /in 0 shards to make \(24 already stored\).* 0 jobs enqueued/);
    assertSameStore(out, expected, "a rerun of a finished run");
  } finally {
    for (const w of workers) await stopWorker(w);
  }
  for (const w of workers) {
    assert.equal(await w.exited, 0, w.stderr());
    assert.match(w.stderr(), /worker: stopped/);
  }
});

test("a worker killed mid-job: its job is taken up after the stall timeout and the store is the same", {
  skip,
}, async () => {
  const expected = await plainStore(8);
  const url = newQueue();
  const out = join(dir, "queued-killed-worker");
  const redisView = await inspect(url);
  const first = worker(url);
  let second: Child | undefined;
  try {
    await redisView.events.waitUntilReady();
    // Two of a job's eight images done: the worker is in the middle of it.
    const midJob = new Promise<string>((resolve) =>
      redisView.events.on("progress", ({ jobId, data }) => {
        if (data === 2) resolve(jobId);
      }),
    );
    const run = runCli([...featureArgs(out, 8), "--queue", url]);
    const killedJob = await midJob;
    first.process.kill("SIGKILL");
    assert.equal(await first.exited, null, "killed");
    assert.ok(!existsSync(join(out, "incoming", `${killedJob}.json`)), "the job was unfinished");
    assert.equal((await redisView.queue.getJob(killedJob))?.finishedOn, undefined);
    second = worker(url);
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wrote 24, kept 0 already stored, 0 failed/);
    assert.match(second.stderr(), new RegExp(`${killedJob} 8 images`), "redone by the other");
    assertSameStore(out, expected, "after a SIGKILLed worker");
  } finally {
    first.process.kill("SIGKILL");
    if (second) await stopWorker(second);
    await redisView.close();
  }
});

test("a job that fails 3 times is reported with its error and the images it held, and not retried", {
  skip,
}, async () => {
  const url = newQueue();
  const out = join(dir, "queued-failing");
  // The enqueuing machine has the model in its cache; the worker's machine does not.
  const home = join(dir, "home-with-model");
  mkdirSync(join(home, "models"), { recursive: true });
  writeQuantizedModel(join(home, "models"), 8);
  const config = join(dir, "tiny-cached.json");
  writeFileSync(
    config,
    JSON.stringify({ model: "tiny-quantized", feature: "q", preprocess: { width: 8, height: 8 } }),
  );
  const emptyHome = join(dir, "home-without-model");
  const w = worker(url, { ...process.env, IMAGESENT_HOME: emptyHome });
  const redisView = await inspect(url);
  const saved = process.env.IMAGESENT_HOME;
  process.env.IMAGESENT_HOME = home;
  try {
    const args = ["--images", images, "--out", out, "--encoder", config, "--regions", "1"];
    const r = await runCli(["features", ...args, "--shard", "4", "--limit", "8", "--queue", url]);
    assert.equal(r.code, 1, r.stderr);
    const failed = [
      ...r.stderr.matchAll(/failed: job (features-\w+) \(4 images\) failed 3 times: (.*)/g),
    ];
    assert.equal(failed.length, 2, r.stderr);
    for (const [, , error] of failed) assert.match(error, /tiny-quantized/);
    for (let i = 0; i < 8; i++) assert.match(r.stderr, new RegExp(`^    im0${i}\\.png$`, "m"));
    assert.match(r.stderr, /wrote 0, kept 0 already stored, 8 failed; store has 0 images/);
    for (const [, id] of failed) {
      const job = await redisView.queue.getJob(id);
      assert.equal(job?.attemptsMade, 3, `${id} was tried 3 times`);
      assert.equal(await job?.getState(), "failed");
    }
    assert.equal(w.process.exitCode, null, "the worker lives on");
    assert.equal(FeatureStore.open(out).size, 0);
  } finally {
    if (saved === undefined) delete process.env.IMAGESENT_HOME;
    else process.env.IMAGESENT_HOME = saved;
    await stopWorker(w);
    await redisView.close();
  }
});

test("Redis killed mid-run loses no finished shard: the rerun enqueues only what is missing", {
  skip,
}, async () => {
  const expected = await plainStore(2);
  const url = newQueue();
  const out = join(dir, "queued-redis-restart");
  const args = [...featureArgs(out, 2), "--queue", url];
  const first = worker(url);
  const enqueuer = imagesent(args);
  await waitFor(() => listedShards(out) >= 2, "two shards in the store");
  // The enqueuer dies first, so that finished shards are also left staged, not yet in the store;
  // then Redis with every job it held, and the worker.
  enqueuer.process.kill("SIGKILL");
  await enqueuer.exited;
  // Counted as the assertion below counts them: a shard the enqueuer added to the store just
  // before it died can still be staged, and is not one the rerun finds waiting.
  await waitFor(() => stagedNotStored(out) >= 2, "two shards staged and not yet stored");
  await redis.kill();
  first.process.kill("SIGKILL");
  await first.exited;
  await redis.restart();
  const listed = listedShards(out);
  const staged = stagedNotStored(out);
  assert.ok(staged >= 2 && listed + staged < 12, `${listed} + ${staged} of 12 shards`);

  const second = worker(url);
  try {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    const left = 12 - listed;
    assert.match(
      r.stderr,
      new RegExp(
        `in ${left} shards to make \\(${2 * listed} already stored\\); ${staged} shards finished by workers before, ${left - staged} jobs enqueued`,
      ),
    );
    assertSameStore(out, expected, "after a Redis restart and a rerun");
  } finally {
    await stopWorker(second);
  }
});

test("Redis restarted empty under a running enqueuer: the lost jobs are enqueued again", {
  skip,
}, async () => {
  const expected = await plainStore(2);
  const url = newQueue();
  const out = join(dir, "queued-redis-back");
  const w = worker(url);
  try {
    const run = runCli([...featureArgs(out, 2), "--queue", url]);
    await waitFor(() => listedShards(out) + stagedShards(out) >= 3, "three finished shards");
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart();
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /unfinished jobs are no longer in Redis; enqueued again/);
    assertSameStore(out, expected, "after Redis came back empty");
  } finally {
    await stopWorker(w);
  }
});
