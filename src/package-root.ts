import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The imagesent package root (the folder holding its package.json), found by walking up from this
 * module, so it is the same whether code runs from src/ (tsx) or dist/src/ (compiled).
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "imagesent") {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("imagesent: cannot find the package root");
    dir = parent;
  }
})();
