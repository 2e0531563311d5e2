import { existsSync, readFileSync, statSync } from "node:fs";
import { DEFAULT_CODEC } from "../../app/image-index.js";
import { REGION_CODECS, type RegionCodec } from "../../app/region-codes.js";
import { Searcher } from "../../app/searcher.js";
import { InputError } from "../../errors.js";
import { connectQueue } from "../../queue/connection.js";
import { queuedIndexSource } from "../../queue/index-shard-job.js";
import { parseQueueUrl } from "../../queue/queue-url.js";
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
import { renderHelp } from "../help.js";
import { Progress } from "../progress.js";

/** Most images per queued job: a job's features are held in memory until staged. */
const MAX_SHARD = 4096;

const USAGE = renderHelp({
  usage: [
    "index DIR --out INDEX [--bundle NAME|DIR] [--sentences FILE] [--prune]",
    "index DIR --out INDEX --queue URL [--bundle NAME|DIR] [--shard N]",
    "index --rebuild --out INDEX [--bundle NAME|DIR]",
  ],
  description: `Builds (or adds to) a search index (docs/search.md): for every image file in DIR,
    its regions' CNN codes (computed with the bundle's vision setup) and each search model's
    region vectors, in LanceDB tables in INDEX. Files already indexed are skipped while their
    size and modification time are unchanged and embedded again when they changed, so rerunning
    after a kill or with new images only does what is new. --rebuild embeds every indexed image
    again from its stored codes, without decoding images: for another bundle, or to convert an
    index of imagesent's first format. With --queue, 'imagesent worker' processes on any number
    of machines compute the new images' features and this command adds them to the index.`,
  args: [{ flag: "DIR", text: "folder of image files" }],
  flags: [
    { flag: "--out INDEX", text: "index folder (created, or added to)" },
    {
      flag: "--bundle B",
      text: "bundle folder or cached bundle name",
      default: DEFAULT_BUNDLE_HELP,
    },
    {
      flag: "--sentences FILE",
      text: "a text file, one sentence per line, for 'imagesent search INDEX --image IMG'",
    },
    { flag: "--limit N", text: "only the first N images (by file name)", default: "all" },
    { flag: "--prune", text: "remove indexed files of DIR that are gone from it" },
    { flag: "--rebuild", text: "re-embed the whole index from its stored codes (no DIR)" },
    {
      flag: "--codec C",
      text: "how a new index stores region vectors: int8-residual, int8 or fp16 (docs/search.md)",
      default: DEFAULT_CODEC,
    },
    {
      flag: "--threads N",
      text: `onnxruntime threads per model run, 1 to ${MAX_THREADS}`,
      default: 2,
    },
    {
      flag: "--queue URL",
      text: `redis://HOST:PORT/NAME: enqueue a job per shard of new or changed images for
        'imagesent worker' processes instead of computing their features here, show their
        progress, and add their features to the index in image order (docs/queue.md); DIR, INDEX
        and the bundle must be on storage every worker sees at the same path`,
    },
    {
      flag: "--shard N",
      text: `images per queued job, 1 to ${MAX_SHARD} (with --queue)`,
      default: 16,
    },
  ],
  notes: [
    `One run at a time writes an index: it holds INDEX/LOCK, and a second is refused while the
      first lives.`,
  ],
  examples: [
    "index photos --out runs/photos-index",
    "index --rebuild --out runs/photos-index --bundle my-bundle",
    "index runs/demo/world/images --out runs/demo/index --bundle runs/demo/bundle --sentences sentences.txt",
    "index /shared/photos --out /shared/photos-index --queue redis://10.0.0.5:6379/photos",
  ],
});

export const indexCommand: Command = {
  name: "index",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      ["out", "bundle", "sentences", "limit", "threads", "codec", "queue", "shard"],
      ["rebuild", "prune"],
      USAGE,
    );
    const out = stringFlag(flags, "out");
    const codecName = stringFlag(flags, "codec") ?? DEFAULT_CODEC;
    if (!REGION_CODECS.includes(codecName as RegionCodec)) {
      throw new InputError(
        `--codec: expected one of ${REGION_CODECS.join(", ")}, got "${codecName}"`,
      );
    }
    const codec = codecName as RegionCodec;
    const threads = boundedIntFlag(flags, "threads", 2, MAX_THREADS);
    const queueUrl = stringFlag(flags, "queue");
    const address = queueUrl === undefined ? undefined : parseQueueUrl(queueUrl);
    const imagesPerShard = boundedIntFlag(flags, "shard", 16, MAX_SHARD);
    if (!address && stringFlag(flags, "shard") !== undefined)
      throw new InputError("--shard applies to --queue only");
    if (flags.values.rebuild) {
      if (address) throw new InputError("--rebuild reads stored codes here: it takes no --queue");
      if (flags.positionals.length > 0) {
        throw new InputError(
          `--rebuild takes no DIR: it reads the index's stored codes\n\n${USAGE}`,
        );
      }
      if (!out) throw new InputError(`--out INDEX is required\n\n${USAGE}`);
      return rebuild(out, stringFlag(flags, "bundle") ?? DEFAULT_BUNDLE, threads);
    }
    if (flags.positionals.length !== 1) {
      throw new InputError(`give exactly one image folder DIR\n\n${USAGE}`);
    }
    if (!out) throw new InputError(`--out is required\n\n${USAGE}`);
    if (existsSync(out) && !statSync(out).isDirectory())
      throw new InputError(`--out ${out}: exists and is not a folder (an index is a folder)`);
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
    const searcher = Searcher.open(stringFlag(flags, "bundle") ?? DEFAULT_BUNDLE, out, {
      threads,
      codec,
    });
    // Redis is reached before anything is loaded or written, so a wrong address costs nothing.
    const connection = address && (await connectQueue(address));
    // On the queue the bar counts the workers' images; skipped ones are in the summary.
    let progress = connection
      ? undefined
      : new Progress({ label: "indexing", total: images.length, unit: "images" });
    try {
      const source =
        connection &&
        queuedIndexSource({
          connection,
          imagesPerShard,
          onPlanned: (total) => {
            progress = new Progress({ label: "index", total, unit: "images" });
          },
          onImages: (n) => progress?.tick(n),
          log: (line) => console.error(line),
        });
      // An index written before fine sketches or cluster summaries gets them first, a bar each.
      const upgrades = new Map<string, { bar: Progress; done: number }>();
      const result = await searcher.index(images, {
        sentences,
        onImage: source ? undefined : () => progress?.tick(),
        source,
        onUpgrade: (what, n, total) => {
          let u = upgrades.get(what);
          if (!u) {
            u = { bar: new Progress({ label: what, total, unit: "images" }), done: 0 };
            upgrades.set(what, u);
          }
          u.bar.tick(n);
          u.done += n;
          if (u.done >= total) u.bar.finish();
        },
      });
      progress?.finish();
      const pruned = flags.values.prune
        ? await searcher.remove(await searcher.missingFiles(dir))
        : 0;
      console.error(
        `index: added ${result.added} images, re-indexed ${result.reindexed} changed, kept ${result.skipped} unchanged${flags.values.prune ? `, removed ${pruned} gone` : ""}, ${result.failures.length} failed${sentences ? `; ${sentences.length} sentences` : ""} -> ${out}`,
      );
      for (const f of result.failures) console.error(`  failed: ${f.error}`);
      return result.failures.length > 0 ? 1 : 0;
    } finally {
      await searcher.close();
      await connection?.close();
    }
  },
};

/** imagesent index --rebuild: every indexed image embedded again from its stored codes. */
async function rebuild(out: string, bundle: string, threads: number): Promise<number> {
  const searcher = Searcher.open(bundle, out, { threads });
  let progress: Progress | undefined;
  try {
    const { images } = await searcher.rebuild({
      onStart: (total) => {
        progress = new Progress({ label: "re-embedding", total, unit: "images" });
      },
      onImage: () => progress?.tick(),
    });
    progress?.finish();
    console.error(`index: re-embedded ${images} images from their stored codes -> ${out}`);
    return 0;
  } finally {
    await searcher.close();
  }
}

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
