import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/package-root.js";

/**
 * The shared data folder: $IMAGESENT_SHARED, else ../shared beside the project. Returns undefined
 * when it is absent; tests pass `skipUnlessShared(...)` as `test(name, { skip }, fn)` so the run
 * says why it skipped.
 */
export function sharedDir(): string | undefined {
  const dir = process.env.IMAGESENT_SHARED ?? join(packageRoot, "..", "shared");
  return existsSync(dir) ? dir : undefined;
}

/** `false` when shared data (and each relative path given) is present, else why not. */
export function skipUnlessShared(...relative: string[]): string | false {
  const dir = sharedDir();
  if (!dir) return "shared data not found (set IMAGESENT_SHARED or put it at ../shared)";
  for (const r of relative) {
    if (!existsSync(join(dir, r))) return `shared data lacks ${r} (in ${dir})`;
  }
  return false;
}
