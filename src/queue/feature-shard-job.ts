import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { ImageJob } from "../vision/extract.js";
import type { FeatureModelSpec } from "../vision/feature-models.js";
import type { StoreMeta } from "../vision/feature-store.js";

/** The BullMQ job name of a shard of feature extraction. */
export const FEATURES_JOB = "features";

/** What the store expects of every shard: checked by the worker against the models it loaded. */
export type ShardMeta = Pick<StoreMeta, "encoder" | "dim" | "regionsPerImage" | "detector">;

/** One job: encode these images into one shard staged in the store's folder. */
export interface FeatureShardJob {
  /** The feature store's folder, as an absolute path every worker sees (shared storage). */
  readonly store: string;
  readonly meta: ShardMeta;
  readonly models: FeatureModelSpec;
  /** Regions per image (1..20). */
  readonly regions: number;
  /** The images, in the order a single-process run stores them; paths absolute. */
  readonly images: readonly ImageJob[];
}

/** What every kind of shard job holds: the folder its shard is staged in, and its images. */
export interface ShardJob {
  /** The store's (or index's) folder, as an absolute path every worker sees. */
  readonly store: string;
  readonly meta: ShardMeta;
  readonly images: readonly ImageJob[];
}

/** A chunk of the run's images and the job that encodes those of them not yet stored. */
export interface ShardPlan<J extends ShardJob = FeatureShardJob> {
  /** Position in the run: shards are added to the store in this order. */
  readonly index: number;
  readonly id: string;
  readonly job: J;
}

/**
 * The job id: a hash of everything that decides the shard's bytes (store, models, images), so
 * that enqueueing the same shard twice is one job, and a rerun finds the jobs and staged shards
 * of the run before it. BullMQ ids may not be integers or hold ':'.
 */
export function shardJobId(job: ShardJob, kind = FEATURES_JOB): string {
  const hash = createHash("sha256").update(JSON.stringify(job)).digest("hex");
  return `${kind}-${hash.slice(0, 40)}`;
}

/**
 * Cuts the run's images into shards of `imagesPerShard`, as a single-process run does from an
 * empty store, and plans a job for each shard with images not yet in the store (`stored`). A
 * shard keeps its place and id from one run to the next, so a rerun redoes only what is missing.
 */
export function planShards<J extends ShardJob = FeatureShardJob>(
  images: readonly ImageJob[],
  imagesPerShard: number,
  stored: (filename: string) => boolean,
  base: Omit<J, "images">,
  kind = FEATURES_JOB,
): ShardPlan<J>[] {
  const plans: ShardPlan<J>[] = [];
  for (let start = 0; start < images.length; start += imagesPerShard) {
    const todo = images
      .slice(start, start + imagesPerShard)
      .filter((im) => !stored(im.filename))
      .map((im) => ({ ...im, path: resolve(im.path) }));
    if (todo.length === 0) continue;
    // `base` is J without its images, so adding them gives a J back.
    const job = { ...base, store: resolve(base.store), images: todo } as unknown as J;
    plans.push({ index: plans.length, id: shardJobId(job, kind), job });
  }
  return plans;
}
