import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { modelsCommand } from "../../src/cli/commands/models.js";
import { quantizedModel } from "./tiny-models.js";

async function run(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...p: unknown[]) => lines.push(p.join(" "));
  try {
    assert.equal(await modelsCommand.run(args), 0);
    return lines.join("\n");
  } finally {
    console.log = log;
  }
}

test("models add, list, path and remove work on $IMAGESENT_HOME", async () => {
  const home = mkdtempSync(join(tmpdir(), "imagesent-home-"));
  after(() => rmSync(home, { recursive: true, force: true }));
  const before = process.env.IMAGESENT_HOME;
  process.env.IMAGESENT_HOME = home;
  try {
    const file = join(home, "x.onnx");
    const model = quantizedModel();
    writeFileSync(file, model);
    assert.match(
      await run(["add", "tiny", file]),
      new RegExp(`added tiny \\(${model.length} bytes\\)`),
    );
    const list = await run(["list"]);
    assert.match(list, /tiny\s+0\.0 MB/);
    assert.match(list, /yolox-nano\s+detector\s+model yolox_nano \(not cached\)/);
    assert.equal(await run(["path", "tiny"]), join(home, "models", "tiny.onnx"));
    assert.match(await run(["remove", "tiny"]), /removed tiny/);
    await assert.rejects(
      Promise.resolve(modelsCommand.run(["fetch", "x", "http://127.0.0.1:9/m"])),
      /--sha256/,
    );
    await assert.rejects(Promise.resolve(modelsCommand.run(["frobnicate"])), /unknown action/);
  } finally {
    if (before === undefined) delete process.env.IMAGESENT_HOME;
    else process.env.IMAGESENT_HOME = before;
  }
});
