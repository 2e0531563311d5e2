import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Describer } from "../../app/describer.js";
import { ImageIndex } from "../../app/image-index.js";
import { loadBundle } from "../../app/model-bundle.js";
import { Searcher } from "../../app/searcher.js";
import { CorruptFileError, InputError } from "../../errors.js";
import {
  createAppServer,
  DEFAULT_CONCURRENT_DESCRIBES,
  DEFAULT_QUEUED_DESCRIBES,
  LOOPBACK_HOSTNAMES,
  listen,
} from "../../server/app-server.js";
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_PIXELS } from "../../server/upload.js";
import {
  type AppFlags,
  bundleLabel,
  CAPTION_FLAG_HELP,
  CAPTION_FLAGS,
  captionOptions,
  DEFAULT_BUNDLE,
  DEFAULT_BUNDLE_HELP,
  parseAppFlags,
  positiveIntFlag,
  stringFlag,
} from "../app-flags.js";
import type { Command } from "../command.js";
import { renderHelp } from "../help.js";

export const DEFAULT_PORT = 8321;
export const DEFAULT_HOST = "127.0.0.1";

const USAGE = renderHelp({
  usage: ["serve [--port N] [--host H] [--bundle NAME|DIR] [--index INDEX]"],
  description: `A local web app. Drop or pick an image to see its caption and its regions' boxes
    and phrases (like 'imagesent describe'); with --index, type a sentence to see the indexed
    images it matches best, each phrase highlighted on the region it was aligned to (like
    'imagesent search'). Stop it with Ctrl-C.`,
  flags: [
    { flag: "--port N", text: "port to listen on; 0 picks a free one", default: DEFAULT_PORT },
    {
      flag: "--host H",
      text: `address to listen on (the default is this machine only; 0.0.0.0 lets anyone who can
        reach this machine use the app)`,
      default: DEFAULT_HOST,
    },
    {
      flag: "--bundle B",
      text: "bundle folder or cached bundle name",
      default: DEFAULT_BUNDLE_HELP,
    },
    {
      flag: "--index INDEX",
      text: `index folder to search (from 'imagesent index'; built with the same bundle); opened
        at start-up, so that one that does not open is refused there`,
    },
    {
      flag: "--images DIR",
      text: `folder that images indexed by name are read from, for their thumbnails (images
        indexed by path are read where they are)`,
    },
    {
      flag: "--max-upload-mb N",
      text: "largest image accepted, in MB",
      default: DEFAULT_MAX_UPLOAD_BYTES / 1e6,
    },
    {
      flag: "--max-megapixels N",
      text: `most pixels of an image accepted, in millions, checked in its header before it is
        decoded (decoding takes 3 bytes a pixel)`,
      default: DEFAULT_MAX_UPLOAD_PIXELS / 1e6,
    },
    {
      flag: "--max-concurrent N",
      text: `images described at once; ${DEFAULT_QUEUED_DESCRIBES} more wait their turn, and
        uploads past that are answered 503 with Retry-After`,
      default: DEFAULT_CONCURRENT_DESCRIBES,
    },
    ...CAPTION_FLAG_HELP,
    { flag: "--threads N", text: "onnxruntime threads per model run", default: 2 },
  ],
  examples: ["serve", "serve --bundle runs/demo/bundle --index runs/demo/index --port 8080"],
});

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** The --port flag: an integer from 0 to 65535. */
function portFlag(flags: AppFlags): number {
  const v = stringFlag(flags, "port");
  if (v === undefined) return DEFAULT_PORT;
  const port = Number(v);
  if (!/^\d+$/.test(v) || port > 65535) {
    throw new InputError(`--port: expected a port number from 0 to 65535, got "${v}"`);
  }
  return port;
}

function folderFlag(flags: AppFlags, name: string): string | undefined {
  const dir = stringFlag(flags, name);
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw new InputError(`--${name} ${dir}: not a folder`);
  }
  return dir;
}

export const serveCommand: Command = {
  name: "serve",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      [
        "port",
        "host",
        "bundle",
        "index",
        "images",
        "max-upload-mb",
        "max-megapixels",
        "max-concurrent",
        "threads",
        ...CAPTION_FLAGS,
      ],
      [],
      USAGE,
    );
    if (flags.positionals.length > 0) {
      throw new InputError(`unexpected argument '${flags.positionals[0]}'\n\n${USAGE}`);
    }
    const port = portFlag(flags);
    const host = stringFlag(flags, "host") ?? DEFAULT_HOST;
    const indexDir = folderFlag(flags, "index");
    const imagesDir = folderFlag(flags, "images");
    if (imagesDir && !indexDir) throw new InputError("--images goes with --index");
    const maxUploadBytes = positiveIntFlag(flags, "max-upload-mb", 10) * 1_000_000;
    const maxUploadPixels =
      positiveIntFlag(flags, "max-megapixels", DEFAULT_MAX_UPLOAD_PIXELS / 1e6) * 1_000_000;
    const maxConcurrentDescribes = positiveIntFlag(
      flags,
      "max-concurrent",
      DEFAULT_CONCURRENT_DESCRIBES,
    );
    const threads = positiveIntFlag(flags, "threads", 2);
    const caption = captionOptions(flags);
    const bundleName = stringFlag(flags, "bundle") ?? DEFAULT_BUNDLE;
    // Absolute, so that the index's errors name its files as the server recognises them.
    const indexPath = indexDir ? resolve(indexDir) : undefined;
    const index = indexPath ? await openIndex(indexPath) : undefined;

    const bundle = loadBundle(bundleName);
    const searcher = indexPath ? Searcher.open(bundle, indexPath, { threads }) : undefined;
    // Refused here, with one line, when the index was built with another bundle.
    await searcher?.size();
    const describer = await Describer.load(bundle, { ...caption, threads });
    const server = createAppServer({
      describer,
      bundleName: bundleLabel(bundleName, bundle.dir),
      maxUploadBytes,
      maxUploadPixels,
      maxConcurrentDescribes,
      ...(LOOPBACK.has(host) ? { hostnames: LOOPBACK_HOSTNAMES } : {}),
      ...(searcher && index ? { search: { searcher, index, imagesDir } } : {}),
    });
    try {
      const url = await listen(server, port, host).catch((err: NodeJS.ErrnoException) => {
        throw listenError(err, host, port);
      });
      console.log(`imagesent serve: ${url}`);
      if (!LOOPBACK.has(host)) {
        console.error(
          `imagesent serve: listening on ${host}: anyone who can reach this machine can use the app`,
        );
      }
      if (index) console.error(`imagesent serve: searching ${index.size} images in ${indexDir}`);
      await stopSignal();
      console.error("imagesent serve: stopping");
    } finally {
      server.closeAllConnections();
      server.close();
      await describer.close();
      await searcher?.close();
      await index?.close();
    }
    return 0;
  },
};

/**
 * The index at `dir`, its tables opened and a row read: an index that does not open stops serve
 * at start-up with one line and exit 2, rather than failing every search later; nothing is
 * read through, so serve starts as fast on a million images as on ten. An error the readers did
 * not foresee is reported as a CorruptFileError too: it is the index's fault.
 */
async function openIndex(dir: string): Promise<ImageIndex> {
  try {
    const index = await ImageIndex.open(dir);
    await index.keys(0, 1);
    return index;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new CorruptFileError(
      `${dir}: cannot read the index (${why}); rebuild it with imagesent index`,
    );
  }
}

/** Why the server could not listen, said in terms of the flags; other errors as they are. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (err.code) {
    case "EADDRINUSE":
      return new InputError(
        `port ${port} on ${host} is in use; pick another with --port N (0 picks a free one)`,
      );
    case "EACCES":
      return new InputError(`port ${port}: not allowed to listen on it; pick one above 1023`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new InputError(`--host ${host}: not an address of this machine`);
    default:
      return err;
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
