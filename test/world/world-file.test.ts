import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputError } from "../../src/errors.js";
import { sampleWorld } from "../../src/world/generate.js";
import { formatWorld, parseWorld, readWorldFile } from "../../src/world/world-file.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-world-file-"));
after(() => rmSync(root, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the tests reach into arbitrary fields to break them.
type Json = any;

/** A fresh, valid world.json value to break one field of. */
function valid(): Json {
  return JSON.parse(formatWorld(sampleWorld({ images: 2, seed: 1 })));
}

function rejects(mutate: (w: Json) => void, field: string, what: RegExp): void {
  const w = valid();
  mutate(w);
  assert.throws(
    () => parseWorld(w, "world.json"),
    (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.ok(err.message.startsWith(`world.json: ${field}: `), err.message);
      assert.match(err.message, what);
      return true;
    },
  );
}

test("a written world reads back unchanged", () => {
  const world = sampleWorld({ images: 3, seed: 9 });
  const path = join(root, "world.json");
  writeFileSync(path, formatWorld(world));
  assert.deepEqual(readWorldFile(path), JSON.parse(JSON.stringify(world)));
});

test("malformed worlds are rejected with the field named", () => {
  rejects((w) => (w.format = "other"), "format", /imagesent-synthetic-world/);
  rejects((w) => (w.version = 2), "version", /expected 1/);
  rejects((w) => delete w.images, "images", /expected a list of objects, missing$/);
  rejects((w) => (w.width = "224"), "width", /integer/);
  rejects(
    (w) => (w.images[1].split = "dev"),
    "images[1].split",
    /one of "train", "val", "test".*, got "dev"$/,
  );
  rejects((w) => (w.images[1].id = 0), "images[1].id", /used twice/);
  rejects(
    (w) => delete w.images[0].filename,
    "images[0].filename",
    /a file name inside images\/, missing$/,
  );
  rejects((w) => (w.images[0].filename = "../x.jpg"), "images[0].filename", /inside images/);
  rejects((w) => (w.images[0].background.kind = "dots"), "images[0].background.kind", /striped/);
  rejects((w) => (w.images[0].objects[0].shape = "blob"), "images[0].objects[0].shape", /circle/);
  rejects(
    (w) => (w.images[0].objects[0].rgb = [1, 2]),
    "images[0].objects[0].rgb",
    /a list of 3 integers from 0 to 255, got \[1,2\]/,
  );
  rejects((w) => (w.images[0].objects[0].rgb[2] = 300), "images[0].objects[0].rgb[2]", /255/);
  rejects((w) => (w.images[0].objects[0].box.x2 = 500), "images[0].objects[0].box.x2", /outside/);
  rejects(
    (w) => (w.images[0].objects[0].box.y2 = w.images[0].objects[0].box.y1),
    "images[0].objects[0].box.y2",
    /integer >=/,
  );
  rejects((w) => (w.images[0].regions[3].source = "guess"), "images[0].regions[3].source", /whole/);
  rejects((w) => (w.images[0].regions[3].score = "high"), "images[0].regions[3].score", /number/);
  rejects(
    (w) => w.images[0].sentences[2].refs.pop(),
    "images[0].sentences[2].refs",
    /object indices or -1 \(one per token\)/,
  );
  rejects(
    (w) => (w.images[0].sentences[2].refs[0] = 9),
    "images[0].sentences[2].refs[0]",
    /object 9 does not exist/,
  );
  rejects(
    (w) => (w.images[0].sentences[2].refs[0] = -2),
    "images[0].sentences[2].refs[0]",
    /integer >= -1/,
  );
  rejects((w) => (w.images[1].sentences[0].id = 0), "images[1].sentences[0].id", /used twice/);
  rejects((w) => (w.images[0].filename = ".."), "images[0].filename", /inside images/);
  rejects((w) => (w.images[0].background = 7), "images[0].background", /an object, got 7/);
  rejects((w) => (w.images[0].objects = [3]), "images[0].objects[0]", /a JSON object, got 3/);
  rejects(
    (w) => (w.images[0].sentences[1].tokens[0] = 3),
    "images[0].sentences[1].tokens[0]",
    /string/,
  );
});

test("unreadable files and bad JSON name the file", () => {
  const path = join(root, "broken.json");
  writeFileSync(path, "{ not json");
  assert.throws(
    () => readWorldFile(path),
    (e: unknown) => e instanceof InputError && e.message.startsWith(`${path}: invalid JSON`),
  );
  const missing = join(root, "missing.json");
  assert.throws(
    () => readWorldFile(missing),
    (e: unknown) => e instanceof InputError && e.message.startsWith(`${missing}: cannot read`),
  );
});
