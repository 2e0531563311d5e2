import { existsSync, readFileSync, statSync } from "node:fs";
import { Searcher } from "../../app/searcher.js";
import { InputError } from "../../errors.js";
import {
  boundedIntFlag,
  DEFAULT_BUNDLE,
  DEFAULT_BUNDLE_HELP,
  imageFilesIn,
  MAX_THREADS,
  parseAppFlags,
  positiveIntFlag,
  stringFlag,
} from "../app-flags.js";
import type { Command } from "../command.js";
import { Progress } from "../progress.js";

const USAGE = `usage: imagesent index DIR --out INDEX [--bundle NAME|DIR] [--sentences FILE]

Builds (or adds to) a search index: the region features of every image file in DIR, computed
with the bundle's vision setup, stored in INDEX (a feature store plus the sentences). Images
already in INDEX are skipped, so rerunning after a kill or with new images only does the new ones.

  --out INDEX        index folder (created, or added to)
  --bundle B         bundle folder or cached bundle name (default:
                     ${DEFAULT_BUNDLE_HELP})
  --sentences FILE   a text file, one sentence per line, for 'imagesent search INDEX --image IMG'
  --limit N          only the first N images (by file name)
  --threads N        onnxruntime threads per model run, 1 to ${MAX_THREADS} (default 2)

One run at a time writes an index: it holds INDEX/features/LOCK, and a second is refused while
the first lives.`;

export const indexCommand: Command = {
  name: "index",
  summary: "index a folder of images (and sentences) for search",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      ["out", "bundle", "sentences", "limit", "threads"],
      [],
      USAGE,
    );
    if (flags.positionals.length !== 1) {
      throw new InputError(`give exactly one image folder DIR\n\n${USAGE}`);
    }
    const out = stringFlag(flags, "out");
    if (!out) throw new InputError(`--out is required\n\n${USAGE}`);
    if (existsSync(out) && !statSync(out).isDirectory())
      throw new InputError(`--out ${out}: exists and is not a folder (an index is a folder)`);
    const threads = boundedIntFlag(flags, "threads", 2, MAX_THREADS);
    const dir = flags.positionals[0];
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new InputError(`${dir}: not a folder`);
    }
    let images = imageFilesIn(dir);
    const limit = stringFlag(flags, "limit");
    if (limit !== undefined) images = images.slice(0, positiveIntFlag(flags, "limit", 1));
    if (images.length === 0) throw new InputError(`${dir}: no image files`);
    const sentencesFile = stringFlag(flags, "sentences");
    const sentences = sentencesFile ? readSentences(sentencesFile) : undefined;
    const searcher = Searcher.open(stringFlag(flags, "bundle") ?? DEFAULT_BUNDLE, out, { threads });
    const progress = new Progress({ label: "indexing", total: images.length, unit: "images" });
    try {
      const result = await searcher.index(images, { sentences, onImage: () => progress.tick() });
      progress.finish();
      console.error(
        `index: added ${result.added} images, kept ${result.skipped} already indexed, ${result.failures.length} failed${sentences ? `; ${sentences.length} sentences` : ""} -> ${out}`,
      );
      for (const f of result.failures) console.error(`  failed: ${f.error}`);
      return result.failures.length > 0 ? 1 : 0;
    } finally {
      await searcher.close();
    }
  },
};

/** One sentence per non-blank line. */
export function readSentences(path: string): string[] {
  if (!existsSync(path)) throw new InputError(`${path}: sentences file not found`);
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 0) throw new InputError(`${path}: no sentences (one per line)`);
  return lines;
}
