import assert from "node:assert/strict";
import test from "node:test";
import { HELP_WIDTH, renderHelp, wrap } from "../../src/cli/help.js";
import { runCli } from "../support/cli-run.js";
import { COMMANDS, listedCommands } from "../support/command-args.js";

test("renderHelp lays a page out: usage, description, aligned table with defaults, examples", () => {
  const page = renderHelp({
    usage: ["thing --in FILE [--n N]", "thing --list"],
    description: `Does a thing to FILE,
      over two source lines.`,
    args: [{ flag: "FILE", text: "the input" }],
    flags: [
      { flag: "--n N", text: "how many", default: 3 },
      { flag: "--verbose", text: "say more" },
    ],
    notes: ["Only one at a time."],
    examples: ["thing --in a.txt"],
  });
  assert.equal(
    page,
    [
      "usage: imagesent thing --in FILE [--n N]",
      "       imagesent thing --list",
      "",
      "Does a thing to FILE, over two source lines.",
      "",
      "arguments:",
      "  FILE       the input",
      "",
      "flags:",
      "  --n N      how many (default: 3)",
      "  --verbose  say more",
      "",
      "Only one at a time.",
      "",
      "examples:",
      "  imagesent thing --in a.txt",
    ].join("\n"),
  );
});

test("renderHelp wraps text beside its flag, keeps a default whole, and puts a long flag alone", () => {
  // Two lines of text beside the flag, the second with room for "(default:" but not the rest.
  const long = "word ".repeat(24).trim();
  const page = renderHelp({
    usage: ["thing"],
    description: "x",
    flags: [
      { flag: "--a", text: long, default: "every image of the set" },
      { flag: "--a-flag-longer-than-the-column X", text: "short" },
    ],
    examples: ["thing"],
  });
  const table = page.split("\n\n")[2]!.split("\n");
  assert.equal(table[0], "flags:");
  assert.ok(
    table.every((l) => l.length <= HELP_WIDTH),
    page,
  );
  // The column is capped, so --a's text starts at 2 + 24 + 2.
  assert.ok(table[1]!.startsWith(`  --a${" ".repeat(23)}word word`), page);
  assert.ok(table.includes(`${" ".repeat(28)}(default: every image of the set)`), page);
  assert.equal(table.at(-2), "  --a-flag-longer-than-the-column X");
  assert.equal(table.at(-1), `${" ".repeat(28)}short`);
});

test("a long usage line wraps under the command, never inside a bracket or a flag's value", () => {
  const flags = Array.from({ length: 12 }, (_, i) => `[--flag-${i} VALUE]`).join(" ");
  const page = renderHelp({
    usage: [`thing --gallery N (--dataset D | --world W) ${flags}`],
    description: "x",
    flags: [],
    examples: ["thing"],
  });
  const usage = page.split("\n\n")[0]!.split("\n");
  assert.ok(usage.length > 1, page);
  assert.ok(
    usage.every((l) => l.length <= HELP_WIDTH),
    page,
  );
  assert.ok(usage[0]!.startsWith("usage: imagesent thing --gallery N (--dataset D | --world W)"));
  for (const l of usage.slice(1)) assert.match(l, /^ {23}\[--flag-\d+ VALUE\]/, page);
});

test("wrap breaks at spaces only, at most width columns a line", () => {
  assert.deepEqual(wrap("aa bb  cc\n dd", 5), ["aa bb", "cc dd"]);
  assert.deepEqual(wrap("", 5), []);
  assert.deepEqual(wrap("toolongword x", 5), ["toolongword", "x"]);
});

/** One command's help page, checked against the shared layout; returns its table rows' flags. */
function checkLayout(name: string, text: string): string[] {
  const sections = text.replace(/\n$/, "").split("\n\n");
  const where = `imagesent ${name} --help:\n${text}`;
  const usage = sections[0]!.split("\n");
  assert.ok(usage[0]!.startsWith(`usage: imagesent ${name}`), where);
  for (const line of usage.slice(1)) {
    assert.match(line, new RegExp(`^( {7}imagesent ${name} | {20,}\\S)`), where);
  }
  const description = sections[1]!;
  assert.match(description, /^[A-Z]/, `a description paragraph second: ${where}`);
  assert.doesNotMatch(description, /^ /m, where);

  const examples = sections.at(-1)!.split("\n");
  assert.equal(examples[0], "examples:", `examples last: ${where}`);
  assert.ok(examples.length > 1, where);
  for (const e of examples.slice(1)) assert.ok(e.startsWith(`  imagesent ${name}`), where);

  // Tables: a "heading:" line, then rows "  FLAG  text" aligned on one column.
  const tables = sections.slice(2, -1).filter((s) => /^[a-z ]+:\n {2}\S/.test(s));
  const headings = tables.map((t) => t.split("\n")[0]);
  assert.ok(headings.includes("flags:") || headings.includes("arguments:"), where);
  const flagged = tables.filter((t) => /^(arguments|flags):/.test(t));
  const columns = new Set<number>();
  const rows: string[] = [];
  for (const t of tables) {
    let column: number | undefined;
    for (const line of t.split("\n").slice(1)) {
      const row = /^ {2}(\S(?:.*?\S)?)(?: {2,}(\S.*))?$/.exec(line);
      if (row && !line.startsWith("   ")) {
        rows.push(row[1]!);
        if (row[2] !== undefined) {
          const at = line.length - row[2].length;
          assert.ok(column === undefined || column === at, `aligned: ${line}\n${where}`);
          column = at;
          if (flagged.includes(t)) columns.add(at);
        }
      } else {
        assert.ok(column !== undefined, `a continuation line after a row: ${line}\n${where}`);
        assert.match(line, new RegExp(`^ {${column}}\\S`), `continues under the text: ${where}`);
      }
    }
  }
  assert.ok(columns.size <= 1, `arguments and flags share one column: ${where}`);
  // Defaults are said one way, "(default: ...)".
  assert.doesNotMatch(text, /\(default [^:]|default: [^)]*$/m, where);
  for (const line of text.split("\n")) {
    if (!line.startsWith("  imagesent ")) assert.ok(line.length <= HELP_WIDTH, `${line}\n${where}`);
  }
  return rows;
}

test("every command's --help follows the one layout", async () => {
  const names = await listedCommands();
  assert.deepEqual([...names].sort(), Object.keys(COMMANDS).sort());
  for (const name of names) {
    const r = await runCli([name, "--help"]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stderr, "");
    checkLayout(name, r.stdout);
  }
});

test("every flag a help page lists with a value is one the command takes", async () => {
  for (const [name, { before }] of Object.entries(COMMANDS)) {
    const page = (await runCli([name, "--help"])).stdout;
    const flags = checkLayout(name, page).filter((f) => /^--[a-z0-9-]+ \S/.test(f));
    assert.ok(flags.length > 0, name);
    for (const row of flags) {
      const flag = row.split(" ")[0]!;
      // models lists its actions' flags on one page; those of bundle create go after it.
      const args = name === "models" && flag !== "--sha256" ? ["bundle", "create", "DIR"] : before;
      const r = await runCli([name, ...args, flag]);
      assert.equal(r.code, 2, `${name} ${flag}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^imagesent ${name}: ${flag} needs a value`), name);
    }
  }
});

test("imagesent --help still lists describe, index, search and serve first", async () => {
  const names = await listedCommands();
  assert.deepEqual(names.slice(0, 4), ["describe", "index", "search", "serve"]);
});
