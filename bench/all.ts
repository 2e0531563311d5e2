/**
 * Runs every benchmark in bench/ one after another, each in its own process so one's thread pools
 * and caches do not skew the next. Other arguments (e.g. --json) are passed to each.
 *
 *   npm run bench [-- --markdown docs/benchmarks.md]
 *
 * With --markdown FILE the printed tables are also written to FILE, with the machine and date.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/core/atomic-file.js";

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const ext = self.endsWith(".ts") ? ".ts" : ".js";
const args = process.argv.slice(2);
const mdAt = args.indexOf("--markdown");
const markdown = mdAt >= 0 ? args[mdAt + 1] : undefined;
if (mdAt >= 0 && !markdown) {
  console.error("bench: --markdown needs a file name");
  process.exit(2);
}
const passOn = mdAt >= 0 ? args.filter((_, i) => i !== mdAt && i !== mdAt + 1) : args;

const benches = readdirSync(here)
  .filter((f) => f.endsWith(ext) && !f.endsWith(`.d${ext}`) && f !== self)
  .sort();
const sections: string[] = [];
let failed = 0;
for (const file of benches) {
  const name = basename(file, ext);
  console.log(`\n== ${name} ==`);
  const r = spawnSync(process.execPath, [...process.execArgv, join(here, file), ...passOn], {
    stdio: ["inherit", "pipe", "inherit"],
    encoding: "utf8",
  });
  process.stdout.write(r.stdout);
  if (r.status !== 0) failed++;
  sections.push(`## ${name}\n\n\`\`\`\n${r.stdout.trimEnd()}\n\`\`\`\n`);
}
if (markdown) {
  const header = [
    "# Benchmarks",
    "",
    `Written by \`npm run bench -- --markdown ${markdown}\` on ${new Date().toISOString().slice(0, 10)},`,
    `${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}), Node ${process.version}.`,
    "",
  ].join("\n");
  writeFileAtomic(markdown, `${header}\n${sections.join("\n")}`);
  console.log(`\nwrote ${markdown}`);
}
process.exit(failed ? 1 : 0);
