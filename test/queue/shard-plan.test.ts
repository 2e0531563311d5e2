import assert from "node:assert/strict";
import test from "node:test";
import { InputError } from "../../src/errors.js";
import { type FeatureShardJob, planShards } from "../../src/queue/feature-shard-job.js";
import { parseQueueUrl } from "../../src/queue/queue-url.js";

const base: Omit<FeatureShardJob, "images"> = {
  store: "/shared/features/photos",
  meta: { encoder: "pixel-stats", dim: 256, regionsPerImage: 20, detector: null },
  models: { encoder: undefined, detector: undefined },
  regions: 20,
};
const images = Array.from({ length: 10 }, (_, i) => ({
  filename: `im${i}.jpg`,
  id: i,
  path: `/shared/photos/im${i}.jpg`,
}));

test("shards are cut as a single-process run cuts them, and a rerun plans the same jobs", () => {
  const plans = planShards(images, 4, () => false, base);
  assert.deepEqual(
    plans.map((p) => p.job.images.map((im) => im.id)),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  assert.deepEqual(
    plans.map((p) => p.index),
    [0, 1, 2],
  );
  assert.equal(new Set(plans.map((p) => p.id)).size, 3, "one id per shard");
  assert.ok(plans.every((p) => /^features-[0-9a-f]{40}$/.test(p.id)));

  // After the middle shard is stored, the others keep their ids: a rerun finds their jobs.
  const stored = new Set(["im4.jpg", "im5.jpg", "im6.jpg", "im7.jpg"]);
  const rerun = planShards(images, 4, (f) => stored.has(f), base);
  assert.deepEqual(
    rerun.map((p) => p.id),
    [plans[0].id, plans[2].id],
  );
});

test("a job's id names everything that decides its shard", () => {
  const [plan] = planShards(images, 4, () => false, base);
  const other = (change: Partial<FeatureShardJob>) =>
    planShards(images, 4, () => false, { ...base, ...change })[0].id;
  assert.notEqual(other({ store: "/shared/features/other" }), plan.id);
  assert.notEqual(other({ regions: 1 }), plan.id);
  assert.notEqual(other({ meta: { ...base.meta, dim: 128 } }), plan.id);
  // A shard with one image stored already is another job: it holds the other three.
  const partly = planShards(images, 4, (f) => f === "im0.jpg", base)[0];
  assert.notEqual(partly.id, plan.id);
  assert.deepEqual(
    partly.job.images.map((im) => im.id),
    [1, 2, 3],
  );
});

test("--queue addresses: redis://HOST:PORT/NAME, the name checked", () => {
  assert.deepEqual(parseQueueUrl("redis://10.0.0.5:6380/coco"), {
    host: "10.0.0.5",
    port: 6380,
    name: "coco",
    url: "redis://10.0.0.5:6380/coco",
  });
  assert.equal(parseQueueUrl("redis://queue-host/flickr8k.v2").port, 6379);
  assert.equal(parseQueueUrl("redis://[::1]:7000/q").host, "::1");
  for (const [bad, says] of [
    ["queue-host:6379/q", /expected a redis:\/\/ address/],
    ["rediss://h/q", /expected a redis:\/\/ address/],
    ["redis://h:6379", /queue name/],
    ["redis://h/a:b", /queue name/],
    ["redis://h/a/b", /queue name/],
    ["redis://user:pw@h/q", /password/],
    ["not a url", /expected redis:\/\/HOST:PORT\/NAME/],
  ] as const) {
    assert.throws(
      () => parseQueueUrl(bad),
      (e: Error) => e instanceof InputError && says.test(e.message),
      bad,
    );
  }
});
