import assert from "node:assert/strict";
import test from "node:test";
import { DescribeQueue, RETRY_AFTER_SECONDS } from "../../src/server/describe-queue.js";
import { HttpError } from "../../src/server/http-error.js";

/** A task that runs until `finish` is called, and counts how many of its kind run at once. */
function heldTasks() {
  const finish: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const task = () =>
    new Promise<number>((resolve) => {
      running++;
      most = Math.max(most, running);
      finish.push(() => {
        running--;
        resolve(most);
      });
    });
  return { task, finish, most: () => most };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("runs at most `concurrency` tasks at once, the waiting ones in order of arrival", async () => {
  const queue = new DescribeQueue(2, 3);
  const held = heldTasks();
  const order: number[] = [];
  const runs = [0, 1, 2, 3, 4].map((i) =>
    queue.run(async () => {
      order.push(i);
      return held.task();
    }),
  );
  await tick();
  assert.deepEqual(queue.load, { running: 2, waiting: 3 });
  while (held.finish.length > 0 || order.length < 5) {
    held.finish.shift()?.();
    await tick();
  }
  await Promise.all(runs);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.equal(held.most(), 2);
  assert.deepEqual(queue.load, { running: 0, waiting: 0 });
});

test("a task past the waiting ones is refused at once with 503 and Retry-After", async () => {
  const queue = new DescribeQueue(1, 1);
  const held = heldTasks();
  const first = queue.run(held.task);
  const second = queue.run(held.task);
  await assert.rejects(
    queue.run(held.task),
    (e: unknown) =>
      e instanceof HttpError &&
      e.status === 503 &&
      e.headers["Retry-After"] === String(RETRY_AFTER_SECONDS),
  );
  held.finish.shift()!();
  await first;
  await tick();
  held.finish.shift()!();
  await second;
  assert.deepEqual(queue.load, { running: 0, waiting: 0 });
});

test("a waiting task whose client went away leaves the queue and never runs", async () => {
  const queue = new DescribeQueue(1, 2);
  const held = heldTasks();
  const first = queue.run(held.task);
  const gone = new AbortController();
  let ran = false;
  const waiting = queue.run(async () => {
    ran = true;
    return 0;
  }, gone.signal);
  const after = queue.run(held.task);
  assert.deepEqual(queue.load, { running: 1, waiting: 2 });
  gone.abort();
  await assert.rejects(waiting, (e: unknown) => e instanceof HttpError && e.status === 400);
  assert.deepEqual(queue.load, { running: 1, waiting: 1 });
  held.finish.shift()!();
  await first;
  await tick();
  held.finish.shift()!();
  await after;
  assert.equal(ran, false);
  await assert.rejects(
    queue.run(async () => 0, gone.signal),
    (e: unknown) => e instanceof HttpError && e.status === 400,
  );
});

test("a task that throws hands its turn on", async () => {
  const queue = new DescribeQueue(1, 1);
  const failing = queue.run(() => Promise.reject(new Error("boom")));
  const next = queue.run(async () => "next");
  await assert.rejects(failing, /boom/);
  assert.equal(await next, "next");
  assert.deepEqual(queue.load, { running: 0, waiting: 0 });
});
