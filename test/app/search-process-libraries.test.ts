import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "imagesent-search-libraries-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const searcherModule = new URL("../../src/app/searcher.js", import.meta.url).href;
const decodeModule = new URL("../../src/vision/decode.js", import.meta.url).href;
const sessionModule = new URL("../../src/vision/onnx-session.js", import.meta.url).href;

/**
 * Which of libvips (sharp) and onnxruntime a child process has mapped after running `body`: the
 * shared libraries in /proc/self/maps, what a process really loaded.
 */
function librariesAfter(body: string): { sharp: boolean; onnxruntime: boolean } {
  const script = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `${body}
const maps = (await import("node:fs")).readFileSync("/proc/self/maps", "utf8");
console.log(JSON.stringify({ sharp: /libvips|sharp-/.test(maps), onnxruntime: /onnxruntime/.test(maps) }));`,
  );
  const r = spawnSync(process.execPath, [...process.execArgv, script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

const skip = !existsSync("/proc/self/maps") && "no /proc/self/maps on this system";

test("importing the searcher (a text search) loads neither libvips nor onnxruntime", {
  skip,
}, () => {
  assert.deepEqual(librariesAfter(`await import(${JSON.stringify(searcherModule)});`), {
    sharp: false,
    onnxruntime: false,
  });
});

test("they load when an image is decoded or a model session is wanted", { skip }, () => {
  const decoded = librariesAfter(
    `const { loadSharp } = await import(${JSON.stringify(decodeModule)}); await loadSharp();`,
  );
  assert.equal(decoded.sharp, true);
  const session = librariesAfter(
    `const { onnxRuntime } = await import(${JSON.stringify(sessionModule)}); await onnxRuntime();`,
  );
  assert.equal(session.onnxruntime, true);
});
