import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { demoCommand, parseDemoArgs } from "../../../src/cli/commands/demo.js";
import { readKarpathyDataset } from "../../../src/data/karpathy.js";
import { InputError } from "../../../src/errors.js";
import { readWorldFile } from "../../../src/world/world-file.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-demo-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("flags are parsed, with defaults", () => {
  assert.deepEqual(parseDemoArgs([]), { out: "runs/demo", images: 1000, seed: 1 });
  assert.deepEqual(parseDemoArgs(["--out", "x", "--images", "12", "--seed", "0"]), {
    out: "x",
    images: 12,
    seed: 0,
  });
});

test("bad flags are InputErrors naming the flag", () => {
  const bad: [string[], RegExp][] = [
    [["--images", "0"], /--images: expected a positive integer, got "0"/],
    [["--images", "ten"], /--images/],
    [["--seed", "-3"], /--seed/],
    [["--seed", "1.5"], /--seed/],
    [["--colour", "red"], /colour/],
    [["extra"], /extra/],
  ];
  for (const [args, message] of bad) {
    assert.throws(
      () => parseDemoArgs(args),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      args.join(" "),
    );
  }
});

test("the demo writes the world and reports where", async (t) => {
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => lines.push(line));
  const out = join(root, "run");
  assert.equal(await demoCommand.run(["--out", out, "--images", "4", "--seed", "3"]), 0);
  const world = readWorldFile(join(out, "world", "world.json"));
  assert.equal(world.images.length, 4);
  assert.equal(readKarpathyDataset(join(out, "world", "dataset.json")).images.length, 4);
  assert.ok(existsSync(join(out, "world", "images", "000003.jpg")));
  const text = lines.join("\n");
  assert.match(text, /\[1\/\d+\] world/);
  assert.match(text, /synthetic: 4 images, 20 sentences/);
  assert.ok(text.includes(join(out, "world", "world.json")), text);
});
