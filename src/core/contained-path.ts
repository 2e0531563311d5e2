import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep, win32 } from "node:path";
import { InputError } from "../errors.js";

/**
 * File names read from a file (a bundle's bundle.json, its vision setup) never leave the folder
 * that file describes: a folder from elsewhere must not make a command read, or a copy write,
 * files outside it.
 */

/**
 * Refuses a file name that could lead out of its folder: it must be one relative path of
 * '/'-separated parts, none of them empty, '.' or '..'. `where` names the file and field.
 * Returns the name.
 */
export function checkContainedName(name: string, where: string): string {
  const parts = name.split("/");
  const problem = name.includes("\0")
    ? "contains a NUL byte"
    : isAbsolute(name) || win32.isAbsolute(name)
      ? "is an absolute path"
      : name.includes("\\")
        ? "contains '\\' (parts of a path are separated by '/')"
        : parts.includes("..")
          ? "climbs out of the folder with '..'"
          : parts.some((p) => p === "" || p === ".")
            ? "has an empty or '.' part"
            : undefined;
  if (problem) {
    throw new InputError(
      `${where}: expected a file name inside the folder, got ${JSON.stringify(name)}, which ${problem}`,
    );
  }
  return name;
}

/**
 * Refuses `name` (already through checkContainedName) when, joined to folder `dir` and its
 * symlinks followed, it lands outside the folder (itself resolved). A path that does not exist
 * yet is resolved as far as it exists, so a missing file is left for its reader to report. Returns the joined path.
 */
export function containedPath(dir: string, name: string, where: string): string {
  const path = join(dir, name);
  let root: string;
  let real: string;
  try {
    root = realpathAsFarAsExists(dir);
    real = realpathAsFarAsExists(path);
  } catch (err) {
    throw new InputError(
      `${where}: ${JSON.stringify(name)}: cannot resolve (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  const rel = relative(root, real);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new InputError(
      `${where}: ${JSON.stringify(name)} resolves to ${real}, outside the folder ${root} (a symlink?)`,
    );
  }
  return path;
}

function realpathAsFarAsExists(path: string): string {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      return join(realpathSync(p), ...missing);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(p) === p) throw err;
    }
    missing.unshift(basename(p));
  }
}
