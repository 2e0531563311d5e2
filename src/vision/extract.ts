import { InputError } from "../errors.js";
import { decodeImage } from "./decode.js";
import type { Detector, DetectorInput } from "./detector.js";
import type { FeatureStore, StoredImage } from "./feature-store.js";
import type { Region, RgbImage } from "./image.js";
import type { RegionEncoder } from "./region-encoder.js";
import { selectRegions } from "./regions.js";

/**
 * The regions of a decoded image: the whole image alone, or whole + detections + fallback, chosen
 * as the detector's config says (its `selection`).
 */
export async function imageRegions(
  image: RgbImage,
  detector: Detector | undefined,
  count: number,
  prepared?: Promise<DetectorInput>,
): Promise<Region[]> {
  const detections = detector && count > 1 ? await detector.detect(image, prepared) : [];
  return selectRegions(image.width, image.height, detections, count, detector?.selection);
}

/** An image to extract: its key in the store, dataset id and file. */
export interface ImageJob {
  readonly filename: string;
  readonly id: number;
  readonly path: string;
}

export interface ExtractOptions {
  readonly encoder: RegionEncoder;
  readonly detector?: Detector;
  /** Regions per image (1..20). */
  readonly regions: number;
  /** Images per shard: what a kill can lose at most. */
  readonly imagesPerShard: number;
  /** Images decoded ahead of the one being encoded (default 2). */
  readonly decodeAhead?: number;
  /** Called after each image (done or failed). */
  readonly onImage?: (job: ImageJob, ok: boolean) => void;
}

export interface ExtractResult {
  readonly written: number;
  /** Images already in the store, not redone. */
  readonly skipped: number;
  readonly failures: readonly { filename: string; error: string }[];
}

/**
 * Encodes every job not yet in `store` and appends them in shards (to a FeatureStore, or to
 * anything that takes shards: a queue worker collects its job's one shard). An image that cannot
 * be read or decoded is recorded as a failure and skipped; any other error stops the run after
 * writing whatever was finished.
 */
export async function extractFeatures(
  jobs: readonly ImageJob[],
  store: Pick<FeatureStore, "has" | "append">,
  options: ExtractOptions,
): Promise<ExtractResult> {
  const todo = jobs.filter((j) => !store.has(j.filename));
  const failures: { filename: string; error: string }[] = [];
  let pending: StoredImage[] = [];
  let written = 0;
  const { detector } = options;
  const decode = (job: ImageJob) =>
    decodeImage(job.path, job.path).then(
      (image) => {
        const prepared = detector && options.regions > 1 ? detector.prepare(image) : undefined;
        // Awaited later, in detect; this only keeps an early failure from counting as unhandled.
        prepared?.catch(() => undefined);
        return { image, prepared };
      },
      (error: unknown) => ({ error }),
    );
  // Decoding and the detector's resize run on libuv's thread pool, so the next images are
  // prepared while this one runs through the models.
  const ahead = Math.max(1, options.decodeAhead ?? 2);
  const queue = todo.slice(0, ahead).map(decode);
  try {
    for (let i = 0; i < todo.length; i++) {
      const job = todo[i];
      const decoded = await queue.shift()!;
      if (i + ahead < todo.length) queue.push(decode(todo[i + ahead]));
      if ("error" in decoded) {
        if (!(decoded.error instanceof InputError)) throw decoded.error;
        failures.push({ filename: job.filename, error: decoded.error.message });
        options.onImage?.(job, false);
        continue;
      }
      const { image, prepared } = decoded;
      const regions = await imageRegions(image, detector, options.regions, prepared);
      const features = await options.encoder.encode(
        image,
        regions.map((r) => r.box),
      );
      pending.push({
        filename: job.filename,
        id: job.id,
        width: image.width,
        height: image.height,
        regions,
        features,
      });
      if (pending.length >= options.imagesPerShard) {
        store.append(pending);
        written += pending.length;
        pending = [];
      }
      options.onImage?.(job, true);
    }
  } finally {
    store.append(pending);
    written += pending.length;
    await Promise.all(queue);
  }
  return { written, skipped: jobs.length - todo.length, failures };
}
