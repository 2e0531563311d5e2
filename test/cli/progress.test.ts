import assert from "node:assert/strict";
import test from "node:test";
import { formatSeconds, Progress } from "../../src/cli/progress.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

test("off a TTY progress prints plain lines with rate and ETA, the last at completion", () => {
  const { stream, writes } = fakeStream(false);
  const p = new Progress({ label: "encode", total: 4, unit: "images", stream });
  p.tick(1);
  p.tick(3, "loss 0.5");
  assert.ok(writes.length >= 1);
  for (const w of writes) assert.ok(!w.includes("\r"), "no carriage returns in logs");
  const last = writes.at(-1)!;
  assert.match(last, /^encode 4\/4 \(100\.0%\) [\d.]+ images\/s ETA 0s loss 0\.5\n$/);
});

test("on a TTY progress redraws one line in place", () => {
  const { stream, writes } = fakeStream(true);
  const p = new Progress({ label: "train", total: 2, stream });
  p.tick(2);
  p.finish();
  assert.ok(writes[0].startsWith("\r\x1b[K"));
  assert.equal(writes.at(-1), "\n");
});

test("formatSeconds", () => {
  assert.equal(formatSeconds(5.2), "5s");
  assert.equal(formatSeconds(125), "2m05s");
  assert.equal(formatSeconds(7260), "2h01m");
  assert.equal(formatSeconds(Number.POSITIVE_INFINITY), "?");
});

test("off a TTY finish does not repeat a line already logged at completion", () => {
  const { stream, writes } = fakeStream(false);
  const p = new Progress({ label: "x", total: 2, stream });
  p.tick(2);
  p.finish();
  assert.equal(writes.length, 1);
  p.finish("done");
  assert.equal(writes.length, 2);
  assert.match(writes[1], / done\n$/);
});
