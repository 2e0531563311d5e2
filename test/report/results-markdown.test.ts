import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resultsCommand } from "../../src/cli/commands/results.js";
import { InputError } from "../../src/errors.js";
import { resultsMarkdown } from "../../src/report/results-markdown.js";

const captions = {
  name: "captions",
  markdown: "# Captions: the generator (fullframe)\n\n## Decoding\n\n```\n# not a heading\n```\n",
};
const retrieval = { name: "retrieval", markdown: "# Image-sentence retrieval\n\n| a | b |\n" };
const extra = { name: "aaa-extra", markdown: "# Extra\n" };

test("sections come in the paper's order, known ones first, with headings one level deeper", () => {
  const page = resultsMarkdown([captions, extra, retrieval], "imagesent results");
  const order = ["## Image-sentence retrieval", "## Captions: the generator", "## Extra"].map((h) =>
    page.indexOf(h),
  );
  assert.ok(order.every((i) => i > 0));
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
  );
  assert.match(page, /^### Decoding$/m);
  assert.match(page, /^# not a heading$/m, "headings inside code fences stay as they are");
  assert.match(page, /^# Results$/m);
  assert.match(
    page,
    /\[Captions: the generator \(fullframe\)\]\(#captions-the-generator-fullframe\)/,
  );
});

test("a missing known section is listed with the command that makes it", () => {
  const page = resultsMarkdown([retrieval], "imagesent results");
  assert.match(page, /- mrf: `imagesent mrf-grid --markdown docs\/results\/mrf\.md`/);
  assert.match(page, /- captions: `imagesent eval-gen/);
  assert.doesNotMatch(page, /- retrieval: `/);
});

test("imagesent results writes the page from a folder of sections", () => {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-results-"));
  try {
    const sections = join(dir, "results");
    mkdirSync(sections);
    writeFileSync(join(sections, "retrieval.md"), retrieval.markdown);
    writeFileSync(join(sections, "notes.txt"), "ignored");
    const out = join(dir, "results.md");
    assert.equal(resultsCommand.run(["--sections", sections, "--out", out]), 0);
    const page = readFileSync(out, "utf8");
    assert.match(page, /## Image-sentence retrieval/);
    assert.doesNotMatch(page, /ignored/);
    assert.throws(
      () => resultsCommand.run(["--sections", join(dir, "nope"), "--out", out]),
      (err: unknown) => err instanceof InputError && /nope: no such folder/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
