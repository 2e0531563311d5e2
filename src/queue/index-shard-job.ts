import type { FeatureSource, FeatureSourceContext } from "../app/searcher.js";
import type { VisionSetup } from "../app/vision-setup.js";
import type { ImageJob } from "../vision/extract.js";
import type { QueueConnection } from "./connection.js";
import { JOB_ATTEMPTS, runQueuedShards } from "./feature-queue-run.js";
import type { ShardJob } from "./feature-shard-job.js";

/** The BullMQ job name of a shard of `index --queue`. */
export const INDEX_JOB = "index";

/** An image file to index, with the size and mtime it is indexed under. */
export interface IndexImageJob extends ImageJob {
  readonly size: number;
  readonly mtime: number;
}

/**
 * One job: compute these image files' region features with the bundle's vision setup and stage
 * them in the index's folder. Size and mtime are part of the job (and so of its id): a file that
 * changed between two runs is a new job, never the staged shard of its old bytes.
 */
export interface IndexShardJob extends ShardJob {
  /** The index's folder, as an absolute path every worker sees. */
  readonly store: string;
  readonly images: readonly IndexImageJob[];
  /** The bundle's folder (absolute, on shared storage) and its vision setup. */
  readonly bundle: string;
  readonly setup: VisionSetup;
  readonly fingerprint: string;
}

export interface QueuedIndexOptions {
  readonly connection: QueueConnection;
  readonly imagesPerShard: number;
  /** Called once the jobs are planned, with the number of images the workers are to encode. */
  readonly onPlanned?: (images: number) => void;
  /** Called as workers report images done (over all workers). */
  readonly onImages?: (n: number) => void;
  readonly log: (line: string) => void;
  readonly pollMs?: number;
}

/**
 * A FeatureSource for Searcher.index that has `imagesent worker` processes compute the features:
 * a job per shard of the files to index, staged in INDEX/incoming/ and handed to the index, its
 * one writer, in image order (runQueuedShards).
 */
export function queuedIndexSource(options: QueuedIndexOptions): FeatureSource {
  return async (todo, context: FeatureSourceContext, deliver) => {
    const wanted = new Map(todo.map((t) => [t.key, t]));
    const result = await runQueuedShards<IndexShardJob>({
      ...options,
      // Shards are cut from the whole list, as features does, so that a rerun after a kill finds
      // the jobs and staged shards of the run before it; only the images to do are in a job.
      images: context.keys.map((key) => {
        const t = wanted.get(key);
        return {
          filename: key,
          id: -1,
          path: t?.path ?? key,
          size: t?.size ?? -1,
          mtime: t?.mtime ?? -1,
        };
      }),
      // Images outside this run's list count as indexed: staged leftovers of them are dropped.
      sink: {
        dir: context.indexDir,
        meta: context.vision,
        has: (key) => !wanted.has(key),
        append: (images) =>
          deliver(
            images.map((im) => ({
              key: im.filename,
              width: im.width,
              height: im.height,
              regions: im.regions,
              features: im.features,
            })),
            [],
          ),
      },
      kind: INDEX_JOB,
      base: {
        store: context.indexDir,
        meta: context.vision,
        bundle: context.bundleDir,
        setup: context.setup,
        fingerprint: context.fingerprint,
      },
    });
    const failures = result.failures.map((f) => ({ image: f.filename, error: f.error }));
    for (const job of result.failedJobs) {
      for (const image of job.images) {
        failures.push({
          image,
          error: `${image}: job ${job.id} failed ${JOB_ATTEMPTS} times: ${job.error}`,
        });
      }
    }
    if (failures.length > 0) await deliver([], failures);
  };
}
