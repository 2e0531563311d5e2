import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import { dataCommand } from "../../../src/cli/commands/data.js";
import { InputError } from "../../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-cli-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, "dataset.json");
writeFileSync(
  path,
  JSON.stringify({
    dataset: "tiny",
    images: [
      {
        filename: "a.jpg",
        imgid: 0,
        split: "train",
        sentences: [
          { raw: "A dog runs", sentid: 0 },
          { raw: "A dog", sentid: 1 },
        ],
      },
    ],
  }),
);

async function capture(args: string[]): Promise<{ code: number | undefined; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    const code = await dataCommand.run(args);
    return { code, out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

test("data stats prints the source and the table", async () => {
  const { code, out } = await capture(["stats", path, "--min-count", "2"]);
  assert.equal(code, 0);
  assert.match(out, /^read Karpathy dataset\.json .*dataset\.json\n/);
  assert.match(out, /tiny: 1 images, 2 sentences \(2 per image\)/);
  assert.match(out, /vocabulary: 2 words seen >= 2 times in train, of 3 distinct/);
});

test("data stats --json prints one JSON object with the source", async () => {
  const { out } = await capture(["stats", "--json", path]);
  const stats = JSON.parse(out);
  assert.deepEqual(stats.source, { format: "karpathy-json", path });
  assert.equal(stats.vocabulary.minCount, 5);
  assert.equal(stats.splits.train.tokens, 5);
});

test("bad arguments are input errors", async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing subcommand/],
    [["show", path], /unknown subcommand 'show'/],
    [["stats", path, "--min-cnt", "3"], /unknown flag --min-cnt \(did you mean --min-count\?\)/],
    [["stats"], /expected one DATASET path, got 0/],
    [["stats", path, "--min-count", "0"], /--min-count: expected a positive integer, got "0"/],
    [["stats", path, "--min-count", "x"], /--min-count: expected a positive integer, got "x"/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      async () => dataCommand.run(args),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      args.join(" "),
    );
  }
});
