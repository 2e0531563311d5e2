// Builds the native kernel addon (native/) with node-gyp at install time, against the local Node
// headers so no network is needed. A failed build is not fatal: imagesent then runs on its
// TypeScript kernels and says so once at start-up.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

if (process.env.IMAGESENT_SKIP_NATIVE === "1") {
  console.log("imagesent: IMAGESENT_SKIP_NATIVE=1, not building the native kernels");
  process.exit(0);
}

/** The Node install prefix that holds include/node/node_api.h, if any. */
function nodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    dirname(dirname(process.execPath)),
    "/usr",
    "/usr/local",
  ];
  return candidates.find((d) => d && existsSync(join(d, "include", "node", "node_api.h")));
}

/** node-gyp's entry script: the one npm passes to install scripts, else the copy bundled with npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(dirname(process.execPath)),
      "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    ),
  ];
  return candidates.find((p) => p && existsSync(p));
}

const gyp = nodeGyp();
const dir = nodeDir();
const args = ["rebuild", "--release", ...(dir ? [`--nodedir=${dir}`] : [])];
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: "inherit" })
  : spawnSync("node-gyp", args, { stdio: "inherit", shell: true });
if (r.status !== 0) {
  console.warn(
    "imagesent: the native kernels did not build; the pure-TypeScript kernels will be used " +
      "(slower). Install python3, make and g++ and run `npm rebuild imagesent` to retry.",
  );
}
