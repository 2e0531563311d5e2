import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { main } from "../../src/cli/main.js";
import { packageRoot } from "../../src/package-root.js";

/** What one CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `imagesent ...argv` in this process (as bin/imagesent.js does), capturing what it prints
 * through console and process.stderr (process.stdout is the test runner's own report, so it is
 * left alone: commands print results with console.log). An error main() lets escape is returned as
 * code -1 with its stack in stderr, so a test sees a crash as a failed expectation, not as its own
 * exception.
 */
export async function runCli(argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = {
    log: console.log,
    error: console.error,
    warn: console.warn,
    stderr: process.stderr.write,
  };
  const capture =
    (into: string[]) =>
    (...parts: unknown[]) => {
      into.push(`${parts.map(String).join(" ")}\n`);
    };
  console.log = capture(out);
  console.error = capture(err);
  console.warn = capture(err);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    err.push(`${(e as Error).stack ?? String(e)}\n`);
    code = -1;
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    console.warn = saved.warn;
    process.stderr.write = saved.stderr;
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/**
 * Runs bin/imagesent.js in a child process (for what only a process shows: that it exits, its
 * exit code after an uncaught error), killed after `timeoutMs`.
 */
export function spawnCli(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliResult & { timedOut: boolean } {
  const r = spawnSync(process.execPath, [join(packageRoot, "bin", "imagesent.js"), ...argv], {
    encoding: "utf8",
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 60_000,
  });
  return {
    code: r.status ?? -1,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    timedOut: r.error !== undefined && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT",
  };
}

/**
 * Asserts a refused input: exit code 2, no stack trace, and a first stderr line
 * `imagesent COMMAND: ...` that matches `names` (the file, line or field at fault). Anything after
 * that line may only be the command's usage, after a blank line.
 */
export function assertClearError(r: CliResult, names: RegExp | string, what: string): void {
  const context = `${what}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
  assert.equal(r.code, 2, `exit code 2 expected: ${context}`);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace printed: ${context}`);
  const lines = r.stderr.split("\n");
  const first = lines[0];
  assert.match(first, /^imagesent [a-z-]+( [a-z]+)*: \S/, `one error line expected: ${context}`);
  if (typeof names === "string") assert.ok(first.includes(names), `names ${names}: ${context}`);
  else assert.match(first, names, `names ${names}: ${context}`);
  const rest = lines.slice(1).join("\n").trim();
  if (rest !== "") assert.equal(lines[1], "", `only usage may follow the error line: ${context}`);
}

/** Every file under `dir` with its size and modification time, to compare before and after. */
export function snapshotTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      const s = statSync(p);
      if (s.isDirectory()) {
        files.set(`${relative(dir, p)}/`, "dir");
        walk(p);
      } else {
        files.set(
          relative(dir, p),
          `${s.size}:${s.mtimeMs}:${readFileSync(p).subarray(0, 64).toString("hex")}`,
        );
      }
    }
  };
  walk(resolve(dir));
  return files;
}

/** Asserts that nothing under `dir` was created, changed or removed since `before`. */
export function assertTreeUnchanged(dir: string, before: Map<string, string>, what: string): void {
  assert.deepEqual(snapshotTree(dir), before, `files changed under ${dir}: ${what}`);
}
