import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test from "node:test";
import type { Command } from "../../src/cli/command.js";
import { closest, editDistance, parseCommandArgs } from "../../src/cli/flags.js";
import { InputError } from "../../src/errors.js";
import { packageRoot } from "../../src/package-root.js";
import { assertClearError, runCli } from "../support/cli-run.js";

const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8"));

test("--version and -V print the version in package.json", async () => {
  for (const flag of ["--version", "-V"]) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${manifest.version}\n`);
  }
});

test("a mistyped command is refused in one line that names the nearest command", async () => {
  for (const [typed, near] of [
    ["descibe", "describe"],
    ["serch", "search"],
    ["sevre", "serve"],
    ["trian-align", "train-align"],
  ]) {
    const r = await runCli([typed, "x.jpg"]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `imagesent: unknown command '${typed}' (did you mean '${near}'?); see imagesent --help\n`,
    );
    assert.equal(r.stdout, "");
  }
  const far = await runCli(["frobnicate"]);
  assert.equal(far.code, 2);
  assert.equal(far.stderr, "imagesent: unknown command 'frobnicate'; see imagesent --help\n");
});

test("a flag before the command is refused in one line", async () => {
  const r = await runCli(["--jsn"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^imagesent: unknown flag --jsn; flags go after the command/);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1);
});

test("an unknown flag gets imagesent's message with the nearest flag, not Node's", async () => {
  const cases: [string[], string][] = [
    [
      ["data", "stats", "x.json", "--jsn"],
      "imagesent data: unknown flag --jsn (did you mean --json?); see imagesent data stats --help",
    ],
    [
      ["data", "stats", "x.json", "--min-cnt", "3"],
      "imagesent data: unknown flag --min-cnt (did you mean --min-count?); see imagesent data stats --help",
    ],
    [
      ["models", "list", "--sha"],
      "imagesent models: unknown flag --sha (did you mean --sha256?); see imagesent models --help",
    ],
    [
      ["data", "stats", "x.json", "--frobnicate"],
      "imagesent data: unknown flag --frobnicate; see imagesent data stats --help",
    ],
    [
      ["data", "stats", "x.json", "--min-count"],
      "imagesent data: --min-count needs a value; see imagesent data stats --help",
    ],
    [
      ["data", "stats", "x.json", "--json=yes"],
      "imagesent data: --json takes no value; see imagesent data stats --help",
    ],
  ];
  for (const [argv, line] of cases) {
    const r = await runCli(argv);
    assertClearError(r, line.replace(/^imagesent [a-z]+: /, ""), argv.join(" "));
    assert.equal(r.stderr, `${line}\n`, argv.join(" "));
    assert.doesNotMatch(r.stderr, /To specify a positional argument|-- "/);
  }
});

test("parseCommandArgs words every parseArgs error itself", () => {
  const options = {
    limit: { type: "string" as const, short: "l" },
    json: { type: "boolean" as const },
  };
  const usage = "usage: imagesent search INDEX QUERY [--limit N] [--json]";
  const refused = (args: string[], message: string) =>
    assert.throws(
      () => parseCommandArgs(args, options, usage),
      (e: unknown) => e instanceof InputError && e.message === message,
      args.join(" "),
    );
  refused(
    ["--limt", "3"],
    "unknown flag --limt (did you mean --limit?); see imagesent search --help",
  );
  refused(["-x"], "unknown flag -x; see imagesent search --help");
  refused(["-l"], "--limit needs a value; see imagesent search --help");
  refused(
    ["--limit", "-3"],
    "--limit: a value starting with '-' must be written --limit=VALUE; see imagesent search --help",
  );
  assert.deepEqual(parseCommandArgs(["q", "--limit=-3"], options, usage).values.limit, "-3");
});

test("closest suggests only near names", () => {
  assert.equal(editDistance("descibe", "describe"), 1);
  assert.equal(editDistance("serach", "search"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(closest("--jsn", ["--json", "--limit"]), "--json");
  assert.equal(closest("--lim", ["--json", "--limit"]), "--limit");
  assert.equal(closest("--x", ["--json", "--limit"]), undefined);
  assert.equal(closest("zzzzzz", ["describe", "search"]), undefined);
});

test("models without an action says so once, with no doubled prefix", async () => {
  for (const [argv, first] of [
    [
      ["models"],
      "imagesent models: missing action (one of list, add, fetch, remove, path, bundle)",
    ],
    [["models", "lst"], "imagesent models: unknown action 'lst' (did you mean 'list'?)"],
    [
      ["models", "bundle"],
      "imagesent models bundle: missing action (one of list, add, remove, create)",
    ],
    [["models", "remove"], "imagesent models remove: expected 1 argument(s)"],
  ] as const) {
    const r = await runCli([...argv]);
    assertClearError(r, first.replace(/^imagesent [a-z]+( bundle| remove)?: /, ""), argv.join(" "));
    assert.equal(r.stderr.split("\n")[0], first);
    assert.doesNotMatch(r.stderr, /models: models|imagesent models: imagesent/);
  }
});

test("--help lists the everyday commands first, then the research pipeline", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  const [everyday, research] = r.stdout.split(/\n\n(?=research pipeline)/);
  assert.ok(research, r.stdout);
  const names = (block: string) => [...block.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]);
  assert.deepEqual(names(everyday).slice(0, 4), ["describe", "index", "search", "serve"]);
  for (const name of ["train-align", "eval-retrieval", "train-gen", "eval-gen", "features"]) {
    assert.ok(names(research).includes(name), name);
    assert.ok(!names(everyday).includes(name), name);
  }
  const listed = [...names(everyday), ...names(research)];
  const own = await commandModules();
  assert.deepEqual([...listed].sort(), [...own.keys()].sort(), "every command, each once");
});

test("--help gives every command of src/cli/commands a line of its own", async () => {
  // main.ts holds the summaries beside the names, so that --help imports no command module.
  const r = await runCli(["--help"]);
  const shown = new Map(
    [...r.stdout.matchAll(/^ {2}([a-z-]+) {2,}(.+)$/gm)].map((m) => [m[1], m[2]] as const),
  );
  for (const name of (await commandModules()).keys()) {
    assert.ok((shown.get(name) ?? "").length >= 20, `${name}: "${shown.get(name)}"`);
  }
});

test("each command's --help page is the usage its module declares", async () => {
  for (const [name, command] of await commandModules()) {
    const r = await runCli([name, "--help"]);
    assert.equal(r.code, 0, name);
    assert.equal(r.stdout, `${command.usage}\n`, name);
  }
});

/**
 * Each Command that a file of src/cli/commands exports (beside this test's module when
 * compiled, dist/src/cli/commands), by name, so a command added there and not to main.ts is caught.
 */
async function commandModules(): Promise<Map<string, Command>> {
  const dir = new URL("../../src/cli/commands/", import.meta.url);
  const files = readdirSync(dir).filter((f) => /\.[jt]s$/.test(f) && !f.endsWith(".d.ts"));
  const found = new Map<string, Command>();
  for (const file of files) {
    const module: Record<string, unknown> = await import(new URL(file, dir).href);
    for (const value of Object.values(module)) {
      const c = value as Partial<Command> | null;
      if (typeof c?.name === "string" && typeof c.run === "function") {
        assert.ok(!found.has(c.name), `two commands named ${c.name}`);
        found.set(c.name, c as Command);
      }
    }
  }
  assert.ok(found.has("describe"), `no commands found in ${dir.pathname}`);
  return found;
}

test("the LICENSE is MIT, as package.json says", () => {
  assert.equal(manifest.license, "MIT");
  const license = readFileSync(join(packageRoot, "LICENSE"), "utf8");
  assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 imagesent contributors\n/);
});
