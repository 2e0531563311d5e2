// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith(".test.js") ? [p] : [];
  });
}

const files = find("dist/test").sort();
const filter = process.argv.slice(2);
const chosen = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
const r = spawnSync(process.execPath, ["--test", ...chosen], { stdio: "inherit" });
process.exit(r.status ?? 1);
