import type { Job, JobsOptions, JobType, Queue, QueueEvents } from "bullmq";
import { CorruptFileError } from "../errors.js";
import type { ImageJob } from "../vision/extract.js";
import type { FeatureModelSpec } from "../vision/feature-models.js";
import type { FeatureStore, StoredImage } from "../vision/feature-store.js";
import type { QueueConnection } from "./connection.js";
import {
  FEATURES_JOB,
  type FeatureShardJob,
  planShards,
  type ShardJob,
  type ShardMeta,
  type ShardPlan,
} from "./feature-shard-job.js";
import {
  type ImageFailure,
  listStaged,
  readStagedShard,
  removeStaged,
  removeStagingLeftovers,
} from "./staged-shards.js";

/** Tries of a job before it is reported as failed (a stalled worker's try counts too). */
export const JOB_ATTEMPTS = 3;

const JOB_OPTIONS: Omit<JobsOptions, "jobId"> = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: "fixed", delay: 1000 },
  // The staged manifest is the record of a finished job; a failed one is kept for its error.
  removeOnComplete: true,
  removeOnFail: false,
};

/** BullMQ states of a job that a worker has yet to finish. */
const LIVE_STATES: JobType[] = ["waiting", "active", "delayed", "prioritized"];

/**
 * Where finished shards go: a feature store, or an index. This process is its one writer; the
 * workers stage their shards in `dir`.
 */
export interface ShardSink {
  readonly dir: string;
  readonly meta: ShardMeta;
  has(filename: string): boolean;
  /** Adds a staged shard's images; called in plan order, one shard at a time. */
  append(images: readonly StoredImage[]): void | Promise<void>;
}

interface QueueRunCommon {
  readonly connection: QueueConnection;
  readonly images: readonly ImageJob[];
  readonly imagesPerShard: number;
  /** Called once the jobs are planned, with the number of images the workers are to encode. */
  readonly onPlanned?: (images: number) => void;
  /** Called as workers report images done (over all workers). */
  readonly onImages?: (n: number) => void;
  readonly log: (line: string) => void;
  /** How often the staging folder is read for finished shards (default 500 ms). */
  readonly pollMs?: number;
}

export interface QueuedFeaturesOptions extends QueueRunCommon {
  /** The store, opened for writing: this process is its one writer, the workers stage shards. */
  readonly store: FeatureStore;
  readonly models: FeatureModelSpec;
  readonly regions: number;
}

/** A queue run of any job kind: `base` is every job's data but its images. */
export interface QueuedShardsOptions<J extends ShardJob> extends QueueRunCommon {
  readonly sink: ShardSink;
  /** The BullMQ job name workers dispatch on; also the prefix of job ids and log lines. */
  readonly kind: string;
  readonly base: Omit<J, "images">;
}

/** A job that failed JOB_ATTEMPTS times, with the error of its last try. */
export interface FailedShardJob {
  readonly id: string;
  readonly error: string;
  readonly images: readonly string[];
}

export interface QueuedFeaturesResult {
  /** Images added to the store by this run. */
  readonly written: number;
  /** Images already in the store before it. */
  readonly kept: number;
  readonly shards: number;
  /** Shards finished by workers before this run started (a rerun after a kill). */
  readonly stagedBefore: number;
  readonly enqueued: number;
  /** Unreadable images, reported by workers. */
  readonly failures: readonly ImageFailure[];
  readonly failedJobs: readonly FailedShardJob[];
}

type Outcome = { kind: "staged" } | { kind: "failed"; error: string };

/**
 * Runs `imagesent features` on a queue: plans a job per shard of images not yet stored, enqueues
 * those not staged by workers already (a job id names its content, so a job already queued is not
 * queued twice), and adds the workers' staged shards to the store in plan order as they finish,
 * so that the store holds the shards a single-process run writes. Returns once every job is in
 * the store or has failed JOB_ATTEMPTS times.
 *
 * Finished work lives on disk (the staging folder), not in Redis: a Redis that restarts empty
 * mid-run loses only the jobs not yet finished, and those are enqueued again.
 */
export async function runQueuedFeatures(
  options: QueuedFeaturesOptions,
): Promise<QueuedFeaturesResult> {
  const { store } = options;
  return runQueuedShards<FeatureShardJob>({
    ...options,
    sink: store,
    kind: FEATURES_JOB,
    base: {
      store: store.dir,
      meta: {
        encoder: store.meta.encoder,
        dim: store.meta.dim,
        regionsPerImage: store.meta.regionsPerImage,
        detector: store.meta.detector,
      },
      models: options.models,
      regions: options.regions,
    },
  });
}

/**
 * The queue run behind runQueuedFeatures and `index --queue`: shards of `kind` jobs, staged by
 * workers in the sink's folder and added to the sink in plan order.
 */
export async function runQueuedShards<J extends ShardJob>(
  options: QueuedShardsOptions<J>,
): Promise<QueuedFeaturesResult> {
  const { connection, sink: store, log, kind } = options;
  const plans = planShards<J>(
    options.images,
    options.imagesPerShard,
    (f) => store.has(f),
    options.base,
    kind,
  );
  const planned = plans.reduce((n, p) => n + p.job.images.length, 0);
  const byId = new Map(plans.map((p) => [p.id, p]));
  dropAddedStaged(store, byId);
  const staged = listStaged(store.dir);
  const stagedBefore = plans.filter((p) => staged.has(p.id)).length;
  const outcomes = new Map<number, Outcome>();
  for (const p of plans) if (staged.has(p.id)) outcomes.set(p.index, { kind: "staged" });

  const { Queue, QueueEvents } = connection.bullmq;
  const queue: Queue = new Queue(connection.address.name, { connection: connection.redis });
  const eventsConnection = connection.redis.duplicate();
  // Its outages are the main connection's, which reports them.
  eventsConnection.on("error", () => undefined);
  const events: QueueEvents = new QueueEvents(connection.address.name, {
    connection: eventsConnection,
  });
  const reported = new Map<string, number>();
  const report = (plan: ShardPlan<J>, n: number) => {
    if (staged.has(plan.id)) return;
    const before = reported.get(plan.id) ?? 0;
    if (n <= before) return;
    reported.set(plan.id, n);
    options.onImages?.(n - before);
  };

  /** Plans whose staged shard was found damaged and enqueued again. */
  const redone = new Set<string>();
  let written = 0;
  let next = 0;
  const failures: ImageFailure[] = [];
  const failedJobs: FailedShardJob[] = [];
  let finish: () => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  /** Adds every resolved shard at the head of the plan to the store. */
  const advance = async () => {
    while (next < plans.length) {
      const plan = plans[next];
      const outcome = outcomes.get(plan.index);
      if (!outcome) return;
      if (outcome.kind === "failed") {
        failedJobs.push({
          id: plan.id,
          error: outcome.error,
          images: plan.job.images.map((im) => im.filename),
        });
      } else {
        let shard: ReturnType<typeof readStagedShard>;
        try {
          shard = readStagedShard(store.dir, plan.id, plan.job.meta);
        } catch (err) {
          if (!(err instanceof CorruptFileError)) throw err;
          removeStaged(store.dir, plan.id);
          // Damaged once is a storage fault worth a redo; twice, a worker that writes it so.
          if (redone.has(plan.id)) {
            outcomes.set(plan.index, { kind: "failed", error: err.message });
            continue;
          }
          redone.add(plan.id);
          log(`${kind}: ${err.message}; redoing that shard`);
          outcomes.delete(plan.index);
          await enqueue([plan], true);
          return;
        }
        await store.append(shard.images);
        written += shard.images.length;
        failures.push(...shard.failures);
        removeStaged(store.dir, plan.id);
      }
      report(plan, plan.job.images.length);
      next++;
    }
    finish();
  };

  const resolvePlan = (plan: ShardPlan<J>, outcome: Outcome) => {
    if (outcomes.has(plan.index) || plan.index < next) return;
    outcomes.set(plan.index, outcome);
  };

  /** Jobs' finished shards found in the staging folder. */
  const collectStaged = () => {
    const now = listStaged(store.dir);
    for (const id of now) {
      const plan = byId.get(id);
      if (plan) resolvePlan(plan, { kind: "staged" });
    }
  };

  /**
   * Enqueues plans, first removing a finished record of the same id (a job failed in an earlier
   * run is retried; one that finished but whose shard is gone is redone) and leaving a job still
   * queued or running as it is. Without `lookUp` (the queue holds no job at all) they are added.
   */
  const enqueue = async (batch: readonly ShardPlan<J>[], lookUp: boolean): Promise<number> => {
    let added = 0;
    for (let start = 0; start < batch.length; start += 500) {
      const part = batch.slice(start, start + 500);
      let toAdd = part;
      if (lookUp) {
        const found = await Promise.all(part.map((p) => queue.getJob(p.id)));
        const states = await Promise.all(found.map((j) => j?.getState()));
        const live = new Set<string>();
        await Promise.all(
          found.map(async (job: Job | undefined, i) => {
            if (!job) return;
            if (LIVE_STATES.includes(states[i] as JobType)) live.add(part[i].id);
            else await job.remove();
          }),
        );
        toAdd = part.filter((p) => !live.has(p.id));
      }
      await queue.addBulk(
        toAdd.map((p) => ({
          name: kind,
          data: p.job,
          opts: { ...JOB_OPTIONS, jobId: p.id },
        })),
      );
      added += toAdd.length;
    }
    return added;
  };

  /**
   * When Redis holds no unfinished job but some plans are unresolved, their jobs failed (an event
   * missed) or were lost (Redis restarted without them): record the one, enqueue the other again.
   */
  let reconciling = false;
  const reconcile = async () => {
    if (reconciling) return;
    reconciling = true;
    try {
      const counts = await queue.getJobCounts(...LIVE_STATES);
      if (Object.values(counts).some((n) => n > 0)) return;
      const open = plans.filter((p) => p.index >= next && !outcomes.has(p.index));
      const lost: ShardPlan<J>[] = [];
      for (let start = 0; start < open.length; start += 500) {
        const part = open.slice(start, start + 500);
        const jobs = await Promise.all(part.map((p) => queue.getJob(p.id)));
        const states = await Promise.all(jobs.map((j) => j?.getState()));
        // A job gone from Redis may have finished meanwhile: its manifest is written first.
        collectStaged();
        for (const [i, plan] of part.entries()) {
          const job = jobs[i];
          if (job && states[i] === "failed") {
            resolvePlan(plan, { kind: "failed", error: job.failedReason });
          } else if (!job && !outcomes.has(plan.index)) lost.push(plan);
        }
      }
      if (lost.length > 0) {
        log(`${kind}: ${lost.length} unfinished jobs are no longer in Redis; enqueued again`);
        await enqueue(lost, false);
      }
    } finally {
      reconciling = false;
    }
  };

  // One step at a time, so that a shard is never added twice.
  let chain = Promise.resolve();
  const step = (work: () => void | Promise<void>) => {
    chain = chain
      .then(work)
      .then(advance)
      .catch((err) => fail(err));
  };

  events.on("progress", ({ jobId, data }) => {
    const plan = byId.get(jobId);
    if (plan && typeof data === "number") report(plan, data);
  });
  events.on("completed", ({ jobId }) => {
    if (byId.has(jobId)) step(collectStaged);
  });
  events.on("failed", ({ jobId, failedReason }) => {
    const plan = byId.get(jobId);
    if (!plan) return;
    step(() => {
      collectStaged();
      resolvePlan(plan, { kind: "failed", error: failedReason });
    });
  });
  events.on("error", () => undefined);

  let enqueued = 0;
  let poll: NodeJS.Timeout | undefined;
  try {
    await events.waitUntilReady();
    const todo = plans.filter((p) => !staged.has(p.id));
    options.onPlanned?.(todo.reduce((n, p) => n + p.job.images.length, 0));
    const counts = await queue.getJobCounts();
    const queueEmpty = Object.values(counts).every((n) => n === 0);
    enqueued = await enqueue(todo, !queueEmpty);
    log(
      `${kind}: ${options.images.length} images in ${plans.length} shards to make (${options.images.length - planned} already stored); ${stagedBefore} shards finished by workers before, ${enqueued} jobs enqueued${todo.length > enqueued ? `, ${todo.length - enqueued} already queued` : ""} on ${connection.address.url}`,
    );
    if (todo.length > 0)
      log(`${kind}: waiting for workers (imagesent worker --queue ${connection.address.url})`);
    let ticks = 0;
    const pollMs = options.pollMs ?? 500;
    poll = setInterval(() => {
      ticks++;
      step(collectStaged);
      // Redis is asked about lost jobs every few seconds only (the folder, every poll), outside
      // the steps: while Redis is down, shards that workers finish are still added.
      if (ticks % Math.max(1, Math.round(5000 / pollMs)) === 0)
        reconcile().then(() => step(() => undefined), fail);
    }, pollMs);
    step(() => undefined);
    await finished;
  } finally {
    if (poll) clearInterval(poll);
    // Dropping the connection first ends the events reader's blocking read at once.
    eventsConnection.disconnect();
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
  if (next === plans.length) removeStagingLeftovers(store.dir);
  return {
    written,
    kept: options.images.length - planned,
    shards: plans.length,
    stagedBefore,
    enqueued,
    failures,
    failedJobs,
  };
}

/**
 * Removes staged jobs whose images are all in the store already: a run killed between adding a
 * shard and removing its staged files leaves them (shards of this run's plan are never such).
 */
function dropAddedStaged<J extends ShardJob>(
  store: ShardSink,
  plans: ReadonlyMap<string, ShardPlan<J>>,
): void {
  for (const id of listStaged(store.dir)) {
    if (plans.has(id)) continue;
    let images: readonly { filename: string }[];
    try {
      images = readStagedShard(store.dir, id, store.meta).images;
    } catch {
      continue;
    }
    if (images.every((im) => store.has(im.filename))) removeStaged(store.dir, id);
  }
}
