import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after, before } from "node:test";
import { ImageIndex } from "../../src/app/image-index.js";
import { type TrainedWorld, trainedWorld } from "../app/fixtures.js";
import { assertClearError, runCli } from "../support/cli-run.js";
import { skipUnlessRedis, TestRedis } from "../support/redis-server.js";
import { type Child, imagesent, stopWorker } from "./fixture.js";

const skip = skipUnlessRedis();
let redis: TestRedis;
let dir: string;
let trained: TrainedWorld;
let images: string;
let plain: string;
let worker: Child;
const url = () => redis.url("index");

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-index-queue-"));
  trained = await trainedWorld(dir, { images: 30 });
  images = join(dir, "photos");
  mkdirSync(images);
  for (const im of trained.world.world.images.slice(0, 7)) {
    cpSync(join(trained.world.imagesDir, im.filename), join(images, im.filename));
  }
  // An undecodable file: both runs list it as failed and leave it out.
  writeFileSync(join(images, "broken.jpg"), "not an image");
  plain = join(dir, "plain");
  const r = await runCli(["index", images, "--out", plain, "--bundle", trained.bundleDir]);
  assert.equal(r.code, 1, r.stderr);
  if (!skip) {
    redis = await TestRedis.start();
    worker = imagesent(["worker", "--queue", url(), "--stall-timeout", "2"]);
  }
});
after(async () => {
  if (worker) await stopWorker(worker);
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every indexed image with its stored codes and region vectors, in index order. */
async function contents(indexDir: string) {
  const index = await ImageIndex.open(indexDir);
  try {
    const vectors: unknown[] = [];
    for await (const { images: ims, vs } of index.scanVectors()) {
      for (const [i, im] of ims.entries()) vectors.push({ ...im, vs: vs.map((v) => v[i]) });
    }
    const codes: unknown[] = [];
    for await (const part of index.scanFeatures()) codes.push(...part);
    return { size: index.size, vectors, codes, vision: index.manifest.vision };
  } finally {
    await index.close();
  }
}

const queueArgs = (out: string) => [
  "index",
  images,
  "--out",
  out,
  "--bundle",
  trained.bundleDir,
  "--queue",
  url(),
  "--shard",
  "3",
];

test("index --queue with one worker makes the plain run's index; a rerun enqueues nothing", {
  skip,
}, async () => {
  const out = join(dir, "queued");
  const r = await runCli(queueArgs(out));
  assert.equal(r.code, 1, `the broken image is a failure: ${r.stderr}`);
  assert.match(r.stderr, /index: 8 images in 3 shards to make .* 3 jobs enqueued/);
  assert.match(r.stderr, /added 7 images, re-indexed 0 changed, kept 0 unchanged, 1 failed/);
  assert.match(r.stderr, /failed: .*broken\.jpg/);
  assert.deepEqual(await contents(out), await contents(plain));
  assert.ok(!existsSync(join(out, "incoming")), "the staging folder is removed");

  // A failed image is tried again by a rerun, as by a plain one; without it nothing is left to do.
  rmSync(join(images, "broken.jpg"));
  const again = await runCli(queueArgs(out));
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /jobs enqueued/);
  assert.match(again.stderr, /added 0 images, re-indexed 0 changed, kept 7 unchanged, 0 failed/);

  // A changed file is one new job, never the staged shard of its old bytes.
  const changed = join(images, trained.world.world.images[2].filename);
  utimesSync(changed, new Date(), new Date(Date.now() + 5000));
  const third = await runCli(queueArgs(out));
  assert.equal(third.code, 0, third.stderr);
  assert.match(
    third.stderr,
    /index: 7 images in 1 shards to make \(6 already stored\).* 1 jobs enqueued/,
  );
  assert.match(third.stderr, /added 0 images, re-indexed 1 changed, kept 6 unchanged, 0 failed/);
  assert.equal((await contents(out)).size, 7);
});

test("index --queue refuses --rebuild, and --shard without --queue, in one line", async () => {
  assertClearError(
    await runCli(["index", "--rebuild", "--out", join(dir, "x"), "--queue", "redis://h/q"]),
    "--rebuild reads stored codes here: it takes no --queue",
    "--rebuild with --queue",
  );
  assertClearError(
    await runCli(["index", images, "--out", join(dir, "x"), "--shard", "4"]),
    "--shard applies to --queue only",
    "--shard without --queue",
  );
  assertClearError(
    await runCli([
      "index",
      images,
      "--out",
      join(dir, "x"),
      "--bundle",
      trained.bundleDir,
      "--queue",
      "redis://127.0.0.1:9/x",
    ]),
    /cannot reach Redis at 127\.0\.0\.1:9/,
    "no Redis listening",
  );
  assert.ok(!existsSync(join(dir, "x")), "nothing is written for a refused flag");
});
