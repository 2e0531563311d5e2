import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { type Browser, chromium } from "playwright-core";

/** Browser set-up shared by the web app's browser tests and its screenshot tool. */

/** Names the Chromium executable goes by on Linux distributions. */
const NAMES = ["chromium", "chromium-browser"];

/**
 * The Chromium executable for browser tests: $IMAGESENT_CHROMIUM when set, else the first of
 * NAMES on the PATH; undefined when there is none (the tests then skip).
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.IMAGESENT_CHROMIUM) return env.IMAGESENT_CHROMIUM;
  const dirs = (env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const name of NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not in this folder; try the next
      }
    }
  }
  return undefined;
}

/** Headless Chromium from `executable` (no sandbox: CI runs as root in a container). */
export function launchChromium(executable: string): Promise<Browser> {
  return chromium.launch({ executablePath: executable, args: ["--no-sandbox"] });
}

/** What the page's <img> elements are to allLoaded (the project compiles without DOM types). */
interface PageImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
}

/**
 * Runs in the page (page.waitForFunction(allLoaded, selector)): every image `selector` finds, of
 * which there is at least one, has loaded and has pixels. A function, not a string, because the
 * page's CSP forbids eval.
 */
export function allLoaded(selector: string): boolean {
  const doc = (
    globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<PageImage> } }
  ).document;
  const images = [...doc.querySelectorAll(selector)];
  return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
}
