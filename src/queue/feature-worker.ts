import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { extractFeatures } from "../vision/extract.js";
import { type FeatureModels, loadFeatureModels } from "../vision/feature-models.js";
import type { StoredImage } from "../vision/feature-store.js";
import type { ModelRegistry } from "../vision/model-registry.js";
import type { FeatureShardJob } from "./feature-shard-job.js";
import { isStaged, writeStagedShard } from "./staged-shards.js";

/** What a worker reports of one finished job (also BullMQ's return value for it). */
export interface ShardOutcome {
  readonly images: number;
  readonly failed: number;
  /** The shard was already staged by an earlier attempt: nothing was redone. */
  readonly alreadyStaged: boolean;
}

/**
 * Runs feature jobs in one worker process: the models of the last job stay loaded, since every
 * job of a run names the same ones.
 */
export class FeatureShardWorker {
  private loaded: { key: string; models: FeatureModels } | undefined;

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
    if (!existsSync(join(job.store, "store.json"))) {
      throw new InputError(
        `${job.store}: no feature store here; the store must be on storage this worker shares with the enqueuing machine, at the same path`,
      );
    }
    if (isStaged(job.store, id)) return { images: 0, failed: 0, alreadyStaged: true };
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
    const key = JSON.stringify(job.models);
    if (this.loaded?.key !== key) {
      await this.close();
      const models = await loadFeatureModels(job.models, this.registry, this.threads);
      this.loaded = { key, models };
    }
    const { encoder, detector } = this.loaded.models;
    const got = { encoder: encoder.name, dim: encoder.dim, detector: detector?.name ?? null };
    for (const k of ["encoder", "dim", "detector"] as const) {
      if (got[k] !== job.meta[k]) {
        throw new InputError(
          `this worker's models give ${k} = ${got[k]}, the store ${job.store} holds ${job.meta[k]}: its model cache has other model files than the enqueuing machine's`,
        );
      }
    }
    return this.loaded.models;
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await loaded?.models.close();
  }
}
