import { regionFeatures } from "../app/region-features.js";
import { openVisionModels, type VisionModels } from "../app/vision-setup.js";
import { InputError } from "../errors.js";
import type { StoredImage } from "../vision/feature-store.js";
import type { ModelRegistry } from "../vision/model-registry.js";
import {
  checkShardMeta,
  isAlreadyStaged,
  LastModels,
  type ShardOutcome,
} from "./feature-worker.js";
import type { IndexShardJob } from "./index-shard-job.js";
import { type ImageFailure, writeStagedShard } from "./staged-shards.js";

/** Runs `index --queue` jobs in one worker process, with the bundle's vision models. */
export class IndexShardWorker {
  private readonly loaded = new LastModels<VisionModels>(async (m) => {
    await m.encoder.close();
    await m.detector?.close();
  });

  constructor(
    private readonly registry: ModelRegistry,
    private readonly threads: number,
  ) {}

  /**
   * Computes the job's images' region features as `imagesent index` does and stages them in the
   * index's folder. An image that cannot be decoded is a failure listed in the manifest; anything
   * else (models missing here, an index this machine cannot see or write) throws, and the queue
   * retries.
   */
  async run(id: string, job: IndexShardJob, onImage: () => void): Promise<ShardOutcome> {
    if (isAlreadyStaged(id, job, "index.json", "image index"))
      return { images: 0, failed: 0, alreadyStaged: true };
    const models = await this.models(job);
    const images: StoredImage[] = [];
    const failures: ImageFailure[] = [];
    for (const im of job.images) {
      try {
        const r = await regionFeatures(models, im.path, im.filename);
        const { width, height, regions, features } = r;
        images.push({ filename: im.filename, id: -1, width, height, regions, features });
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        failures.push({ filename: im.filename, error: err.message });
      }
      onImage();
    }
    writeStagedShard(job.store, id, job.meta.dim, images, failures);
    return { images: images.length, failed: failures.length, alreadyStaged: false };
  }

  private async models(job: IndexShardJob): Promise<VisionModels> {
    const models = await this.loaded.get(JSON.stringify([job.bundle, job.setup]), () =>
      openVisionModels(job.setup, {
        registry: this.registry,
        threads: this.threads,
        baseDir: job.bundle,
      }),
    );
    const { encoder, detector, regions } = models;
    checkShardMeta(
      {
        encoder: encoder.name,
        dim: encoder.dim,
        regionsPerImage: regions,
        detector: detector?.name ?? null,
      },
      job,
      "index",
    );
    return models;
  }

  async close(): Promise<void> {
    await this.loaded.close();
  }
}
