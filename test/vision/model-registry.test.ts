import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { InputError } from "../../src/errors.js";
import { ModelRegistry, modelCacheDir, sha256Hex } from "../../src/vision/model-registry.js";
import { quantizedModel } from "./tiny-models.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-registry-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const bytes = quantizedModel();
const file = join(dir, "m.onnx");
writeFileSync(file, bytes);

test("the cache lives under $IMAGESENT_HOME or ~/.cache/imagesent", () => {
  assert.equal(modelCacheDir({ IMAGESENT_HOME: "/x" }), join("/x", "models"));
  assert.match(modelCacheDir({}), /\.cache\/imagesent\/models$/);
});

test("add, list, resolve and remove", () => {
  const reg = new ModelRegistry(join(dir, "cache1"));
  assert.deepEqual(reg.list(), []);
  reg.add("tiny", file);
  assert.deepEqual(
    reg.list().map((m) => [m.name, m.bytes]),
    [["tiny", bytes.length]],
  );
  assert.deepEqual(readFileSync(reg.resolve("tiny")), Buffer.from(bytes));
  assert.equal(reg.resolve(file), file, "a path resolves to itself");
  assert.throws(() => reg.resolve("other"), /imagesent models add other/);
  assert.throws(() => reg.resolve("./missing.onnx"), /not found/);
  assert.throws(() => reg.add("../evil", file), InputError);
  assert.throws(() => reg.add("x", file, "0".repeat(64)), /sha256 mismatch/);
  assert.ok(reg.remove("tiny"));
  assert.equal(reg.remove("tiny"), false);
});

test("fetch downloads from a URL and keeps the file only when its sha256 matches", async () => {
  const server = createServer((req, res) => {
    if (req.url === "/m.onnx") res.end(Buffer.from(bytes));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const reg = new ModelRegistry(join(dir, "cache2"));
    const got = await reg.fetch("remote", `${base}/m.onnx`, sha256Hex(bytes));
    assert.deepEqual(readFileSync(got.path), Buffer.from(bytes));
    await assert.rejects(
      reg.fetch("tampered", `${base}/m.onnx`, "f".repeat(64)),
      /sha256 mismatch/,
    );
    assert.equal(existsSync(reg.pathOf("tampered")), false);
    await assert.rejects(reg.fetch("gone", `${base}/nope`, sha256Hex(bytes)), /HTTP 404/);
  } finally {
    server.close();
  }
});
