import { hostname } from "node:os";
import type { Job } from "bullmq";
import { InputError } from "../errors.js";
import type { ModelRegistry } from "../vision/model-registry.js";
import type { QueueConnection } from "./connection.js";
import { FEATURES_JOB, type FeatureShardJob } from "./feature-shard-job.js";
import { FeatureShardWorker, type ShardOutcome } from "./feature-worker.js";
import { INDEX_JOB, type IndexShardJob } from "./index-shard-job.js";
import { IndexShardWorker } from "./index-worker.js";

export interface QueueWorkerOptions {
  readonly registry: ModelRegistry;
  /** onnxruntime threads per model run. */
  readonly threads: number;
  /**
   * Seconds a job's lock lasts without renewal: a worker killed mid-job holds it that long, and
   * its job is taken up again at the next stall check of any live worker (within about twice
   * this).
   */
  readonly stallTimeout: number;
  /** One line per finished or failed job. */
  readonly log: (line: string) => void;
}

export interface RunningWorker {
  /** Stops taking jobs, waits for the current one, and releases the models and connections. */
  stop(): Promise<void>;
}

/** Takes jobs from the queue one at a time until stopped. */
export async function startQueueWorker(
  connection: QueueConnection,
  options: QueueWorkerOptions,
): Promise<RunningWorker> {
  const features = new FeatureShardWorker(options.registry, options.threads);
  const index = new IndexShardWorker(options.registry, options.threads);
  const me = `${hostname()}:${process.pid}`;
  const processor = async (job: Job): Promise<ShardOutcome> => {
    if ((job.name !== FEATURES_JOB && job.name !== INDEX_JOB) || job.id === undefined) {
      throw new InputError(
        `job ${job.id}: unknown kind '${job.name}' (this worker runs ${FEATURES_JOB} and ${INDEX_JOB})`,
      );
    }
    const start = performance.now();
    let done = 0;
    const onImage = () => {
      done++;
      // Progress is for the enqueuer's display only; a lost update is not worth failing a job.
      job.updateProgress(done).catch(() => undefined);
    };
    const outcome =
      job.name === INDEX_JOB
        ? await index.run(job.id, job.data as IndexShardJob, onImage)
        : await features.run(job.id, job.data as FeatureShardJob, onImage);
    const secs = (performance.now() - start) / 1000;
    options.log(
      outcome.alreadyStaged
        ? `worker ${me}: ${job.id} was already staged by an earlier attempt`
        : `worker ${me}: ${job.id} ${outcome.images} images${outcome.failed ? `, ${outcome.failed} unreadable` : ""} in ${secs.toFixed(1)} s`,
    );
    return outcome;
  };
  const worker = new connection.bullmq.Worker(connection.address.name, processor, {
    connection: connection.redis,
    concurrency: 1,
    lockDuration: options.stallTimeout * 1000,
    stalledInterval: (options.stallTimeout * 1000) / 2,
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on("failed", (job, err) => {
    options.log(
      `worker ${me}: ${job?.id ?? "a job"} failed (attempt ${job?.attemptsMade ?? "?"}): ${err.message}`,
    );
  });
  worker.on("error", (err) => options.log(`worker ${me}: ${err.message}`));
  await worker.waitUntilReady();
  const running = worker.run();
  return {
    async stop() {
      await worker.close();
      await running;
      await features.close();
      await index.close();
    },
  };
}
