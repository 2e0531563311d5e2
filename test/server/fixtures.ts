import type { Server } from "node:http";
import { join } from "node:path";
import { Describer } from "../../src/app/describer.js";
import { ImageIndex } from "../../src/app/image-index.js";
import { type IndexInput, Searcher } from "../../src/app/searcher.js";
import {
  type AppServerOptions,
  createAppServer,
  type ImageDescriber,
  LOOPBACK_HOSTNAMES,
  listen,
} from "../../src/server/app-server.js";
import { type TrainedWorld, trainedWorld } from "../app/fixtures.js";

/** The web app running on a free loopback port over a small trained world and an index of it. */
export interface ServedApp {
  /** The app's root URL, ending in "/". */
  readonly url: string;
  readonly trained: TrainedWorld;
  /** The world images in the index, by path (their keys). */
  readonly indexed: readonly string[];
  /** The index's folder. */
  readonly indexDir: string;
  close(): Promise<void>;
}

/**
 * Trains a world in `dir` (trainedWorld), indexes its first `indexed` images by path and the
 * `named` inputs by name, and serves the app over them; `imagesDir` is where named images are
 * read from for thumbnails. `describer` may wrap the trained Describer (to hold its describes);
 * the limits are the server's options.
 */
export async function serveTrainedWorld(
  dir: string,
  options: {
    indexed?: number;
    named?: readonly IndexInput[];
    imagesDir?: string;
    describer?: (trained: ImageDescriber) => ImageDescriber;
    log?: (message: string) => void;
  } & Pick<
    AppServerOptions,
    "maxUploadBytes" | "maxUploadPixels" | "maxConcurrentDescribes" | "maxQueuedDescribes"
  > = {},
): Promise<ServedApp> {
  const trained = await trainedWorld(dir, { images: 40 });
  const indexed = trained.world.world.images
    .slice(0, options.indexed ?? 12)
    .map((im) => join(trained.world.imagesDir, im.filename));
  const indexDir = join(dir, "index");
  const searcher = Searcher.open(trained.bundleDir, indexDir);
  await searcher.index([...indexed, ...(options.named ?? [])]);
  const index = await ImageIndex.open(indexDir);
  const describer = await Describer.load(trained.bundleDir, { regionBeam: 2 });
  const server: Server = createAppServer({
    describer: options.describer ? options.describer(describer) : describer,
    bundleName: "test-bundle",
    search: { searcher, index, imagesDir: options.imagesDir },
    maxUploadBytes: options.maxUploadBytes,
    maxUploadPixels: options.maxUploadPixels,
    maxConcurrentDescribes: options.maxConcurrentDescribes,
    maxQueuedDescribes: options.maxQueuedDescribes,
    log: options.log,
    hostnames: LOOPBACK_HOSTNAMES,
  });
  const url = await listen(server, 0, "127.0.0.1");
  return {
    url,
    trained,
    indexed,
    indexDir,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await describer.close();
      await searcher.close();
      await index.close();
    },
  };
}
