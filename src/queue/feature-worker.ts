import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { extractFeatures } from "../vision/extract.js";
import { type FeatureModels, loadFeatureModels } from "../vision/feature-models.js";
import type { StoredImage } from "../vision/feature-store.js";
import type { ModelRegistry } from "../vision/model-registry.js";
import type { FeatureShardJob, ShardJob, ShardMeta } from "./feature-shard-job.js";
import { isStaged, writeStagedShard } from "./staged-shards.js";

/** What a worker reports of one finished job (also BullMQ's return value for it). */
export interface ShardOutcome {
  readonly images: number;
  readonly failed: number;
  /** The shard was already staged by an earlier attempt: nothing was redone. */
  readonly alreadyStaged: boolean;
}

/**
 * The models of a worker's last job, kept loaded: every job of a run names the same ones, so
 * only a worker's first job of a run loads them.
 */
export class LastModels<M> {
  private loaded: { key: string; models: M } | undefined;

  constructor(private readonly release: (models: M) => Promise<void>) {}

  async get(key: string, load: () => Promise<M>): Promise<M> {
    if (this.loaded?.key !== key) {
      await this.close();
      this.loaded = { key, models: await load() };
    }
    return this.loaded.models;
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (loaded) await this.release(loaded.models);
  }
}

/** Fails a job whose store (or index) holds other models than those this worker loaded. */
export function checkShardMeta(got: Partial<ShardMeta>, job: ShardJob, what: string): void {
  for (const k of Object.keys(got) as (keyof ShardMeta)[]) {
    if (got[k] !== job.meta[k]) {
      throw new InputError(
        `this worker's models give ${k} = ${got[k]}, the ${what} ${job.store} holds ${job.meta[k]}: its model cache has other model files than the enqueuing machine's`,
      );
    }
  }
}

/**
 * Whether the job's shard is staged already (an earlier attempt finished it); throws when the job's
 * folder, which holds `file`, is not one this worker sees.
 */
export function isAlreadyStaged(id: string, job: ShardJob, file: string, what: string): boolean {
  if (!existsSync(join(job.store, file))) {
    throw new InputError(
      `${job.store}: no ${what} here; the ${what} must be on storage this worker shares with the enqueuing machine, at the same path`,
    );
  }
  return isStaged(job.store, id);
}

/** Runs feature jobs in one worker process. */
export class FeatureShardWorker {
  private readonly loaded = new LastModels<FeatureModels>((m) => m.close());

  constructor(
    private readonly registry: ModelRegistry,
    private readonly threads: number,
  ) {}

  /**
   * Encodes the job's images and stages their shard in the store's folder. An image that cannot
   * be read is a failure listed in the manifest; anything else (models missing from this
   * machine's cache, a store this machine cannot see or write) throws, and the queue retries.
   */
  async run(id: string, job: FeatureShardJob, onImage: () => void): Promise<ShardOutcome> {
    if (isAlreadyStaged(id, job, "store.json", "feature store"))
      return { images: 0, failed: 0, alreadyStaged: true };
    const models = await this.models(job);
    const images: StoredImage[] = [];
    const result = await extractFeatures(
      job.images,
      { has: () => false, append: (batch) => images.push(...batch) },
      {
        encoder: models.encoder,
        detector: models.detector,
        regions: job.regions,
        imagesPerShard: job.images.length,
        onImage,
      },
    );
    writeStagedShard(job.store, id, models.encoder.dim, images, result.failures);
    return { images: images.length, failed: result.failures.length, alreadyStaged: false };
  }

  private async models(job: FeatureShardJob): Promise<FeatureModels> {
    const models = await this.loaded.get(JSON.stringify(job.models), () =>
      loadFeatureModels(job.models, this.registry, this.threads),
    );
    const { encoder, detector } = models;
    checkShardMeta(
      { encoder: encoder.name, dim: encoder.dim, detector: detector?.name ?? null },
      job,
      "store",
    );
    return models;
  }

  async close(): Promise<void> {
    await this.loaded.close();
  }
}
