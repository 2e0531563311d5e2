import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { writeFileAtomic } from "../../src/core/atomic-file.js";

test("writeFileAtomic replaces the file and leaves no temporary behind", () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-atomic-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "out.json");
  writeFileSync(path, "old");
  writeFileAtomic(path, "new contents");
  assert.equal(readFileSync(path, "utf8"), "new contents");
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.deepEqual(readdirSync(dir), ["out.json"]);
});

test("a failed write leaves the old file intact", () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-atomic-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "out.json");
  writeFileSync(path, "old");
  assert.throws(() => writeFileAtomic(join(dir, "missing-dir", "x"), "data"), /ENOENT/);
  assert.equal(readFileSync(path, "utf8"), "old");
});
