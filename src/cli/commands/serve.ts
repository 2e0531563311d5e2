import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_REGION_BEAM, Describer } from "../../app/describer.js";
import { ImageIndex } from "../../app/image-index.js";
import { loadBundle } from "../../app/model-bundle.js";
import { Searcher } from "../../app/searcher.js";
import { CorruptFileError, InputError } from "../../errors.js";
import { DEFAULT_BEAM } from "../../generate/decoding.js";
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
  CAPTION_FLAGS,
  captionOptions,
  DEFAULT_BUNDLE,
  DEFAULT_BUNDLE_HELP,
  parseAppFlags,
  positiveIntFlag,
  stringFlag,
} from "../app-flags.js";
import type { Command } from "../command.js";

export const DEFAULT_PORT = 8321;
export const DEFAULT_HOST = "127.0.0.1";

const USAGE = `usage: imagesent serve [--port N] [--host H] [--bundle NAME|DIR] [--index INDEX]

A local web app. Drop or pick an image to see its caption and its regions' boxes and phrases
(like 'imagesent describe'); with --index, type a sentence to see the indexed images it matches
best, each phrase highlighted on the region it was aligned to (like 'imagesent search').
Stop it with Ctrl-C.

  --port N           port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host H           address to listen on (default ${DEFAULT_HOST}, this machine only; 0.0.0.0
                     lets anyone who can reach this machine use the app)
  --bundle B         bundle folder or cached bundle name (default:
                     ${DEFAULT_BUNDLE_HELP})
  --index INDEX      index folder to search (from 'imagesent index'; built with the same bundle);
                     read through once at start-up, so that a corrupt index is refused there
  --images DIR       folder that images indexed by name are read from, for their thumbnails
                     (images indexed by path are read where they are)
  --max-upload-mb N  largest image accepted, in MB (default ${DEFAULT_MAX_UPLOAD_BYTES / 1e6})
  --max-megapixels N most pixels of an image accepted, in millions, checked in its header
                     before it is decoded (default ${DEFAULT_MAX_UPLOAD_PIXELS / 1e6}; decoding takes 3 bytes a pixel)
  --max-concurrent N images described at once (default ${DEFAULT_CONCURRENT_DESCRIBES}); ${DEFAULT_QUEUED_DESCRIBES} more wait their turn,
                     and uploads past that are answered 503 with Retry-After
  --beam N           beam width of the whole-image caption (default ${DEFAULT_BEAM}; with reranking,
                     the bundle's rerank beam)
  --rerank-weight W  rerank the caption's beam with the bundle's alignment model(s) at this
                     weight (default: the bundle's captionRerank, docs/bundle.md; 0 turns it off)
  --region-beam N    beam width of each region's phrase (default ${DEFAULT_REGION_BEAM})
  --threads N        onnxruntime threads per model run (default 2)`;

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
  summary: "a local web app: describe a dropped image, search indexed images with a sentence",
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
    const index = indexPath ? openIndex(indexPath) : undefined;

    const bundle = loadBundle(bundleName);
    const describer = await Describer.load(bundle, { ...caption, threads });
    const searcher = indexPath ? Searcher.open(bundle, indexPath, { threads }) : undefined;
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
    }
    return 0;
  },
};

/**
 * The index at `dir`, every shard read through once: a corrupt index stops serve at start-up
 * with one line and exit 2, rather than failing every search later. An error the readers did not
 * foresee is reported as a CorruptFileError too: it is the index's fault.
 */
function openIndex(dir: string): ImageIndex {
  try {
    const index = ImageIndex.open(dir);
    index.store.verify();
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
