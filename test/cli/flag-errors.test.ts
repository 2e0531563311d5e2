import assert from "node:assert/strict";
import test from "node:test";
import { assertClearError, runCli } from "../support/cli-run.js";
import { COMMANDS, helpOf, listedCommands } from "../support/command-args.js";

/** `flag` with the second and third letters of its name swapped: "--images" -> "--iamges" */
function mistype(flag: string): string {
  const name = flag.slice(2);
  return `--${name[0]}${name[2]}${name[1]}${name.slice(3)}`;
}

/** Asserts exit 2 and exactly one stderr line, `imagesent NAME: MESSAGE`. */
function assertOneLine(r: { code: number; stdout: string; stderr: string }, line: string): void {
  assertClearError(r, line.replace(/^imagesent [a-z-]+: /, ""), line);
  assert.equal(r.stderr, `${line}\n`, "one line, nothing after it");
  assert.equal(r.stdout, "");
}

test("the table covers every command imagesent --help lists", async () => {
  assert.deepEqual((await listedCommands()).sort(), Object.keys(COMMANDS).sort());
});

for (const [name, { before, flag }] of Object.entries(COMMANDS)) {
  test(`${name}: an unknown flag, a mistyped one and one without its value are one line, exit 2`, async () => {
    const unknown = await runCli([name, ...before, "--frobnicate"]);
    assertOneLine(
      unknown,
      `imagesent ${name}: unknown flag --frobnicate; see ${helpOf(name)} --help`,
    );

    const typo = mistype(flag);
    const mistyped = await runCli([name, ...before, typo, "x"]);
    assertOneLine(
      mistyped,
      `imagesent ${name}: unknown flag ${typo} (did you mean ${flag}?); see ${helpOf(name)} --help`,
    );

    const bare = await runCli([name, ...before, flag]);
    assertOneLine(bare, `imagesent ${name}: ${flag} needs a value; see ${helpOf(name)} --help`);
  });
}

test("a flag that takes no value, given one, is one line too", async () => {
  const r = await runCli(["eval-gen", "--json=yes"]);
  assertOneLine(r, "imagesent eval-gen: --json takes no value; see imagesent eval-gen --help");
});

test("a stray argument to a command that takes flags only is one line", async () => {
  for (const name of ["features", "train-align", "train-gen", "eval-gen", "score", "demo"]) {
    const r = await runCli([name, "stray"]);
    assertOneLine(
      r,
      `imagesent ${name}: unexpected argument 'stray' (this command takes flags only); see imagesent ${name} --help`,
    );
  }
});
