import { InputError } from "../../errors.js";
import { connectQueue } from "../../queue/connection.js";
import { parseQueueUrl } from "../../queue/queue-url.js";
import { startQueueWorker } from "../../queue/queue-worker.js";
import { ModelRegistry } from "../../vision/model-registry.js";
import { MAX_THREADS } from "../app-flags.js";
import type { Command } from "../command.js";
import { boundedInt, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

/** Longest --stall-timeout: a killed worker's job waits this long at most before it is redone. */
const MAX_STALL_SECONDS = 3600;

const USAGE = renderHelp({
  usage: ["worker --queue redis://HOST:PORT/NAME [options]"],
  description: `Takes jobs from a queue that 'imagesent features --queue' or 'imagesent index --queue'
    filled and runs them, one at a time, until stopped (Ctrl-C or SIGTERM finish the current job
    first). Run one on each machine, each with the models in its own cache; every job's shard is
    written to the feature store's (or index's) folder, which must be on storage all machines
    share, at the same path (docs/queue.md).`,
  flags: [
    {
      flag: "--queue URL",
      text: "the Redis server and queue name the enqueuing command was given",
    },
    {
      flag: "--threads N",
      text: `onnxruntime threads per model run, 1 to ${MAX_THREADS}`,
      default: 2,
    },
    {
      flag: "--stall-timeout S",
      text: `seconds without a sign of life after which a worker's job is given to another
        worker (a killed worker's job is taken up within about twice this), 1 to ${MAX_STALL_SECONDS}`,
      default: 30,
    },
  ],
  notes: [
    `A job that fails 3 times (models missing from this machine's cache, a store this machine
      cannot write) is not retried; the enqueuing command reports it with its error.`,
  ],
  examples: [
    "worker --queue redis://10.0.0.5:6379/flickr8k",
    "worker --queue redis://queue-host/coco --threads 4",
  ],
});

export const workerCommand: Command = {
  name: "worker",
  usage: USAGE,
  async run(args) {
    const values = parseCommandArgs(
      args,
      {
        queue: { type: "string" },
        threads: { type: "string" },
        "stall-timeout": { type: "string" },
      },
      USAGE,
      { positionals: false },
    ).values as Record<string, string | undefined>;
    if (!values.queue) throw new InputError(`--queue is required\n\n${USAGE}`);
    const address = parseQueueUrl(values.queue);
    const threads =
      values.threads !== undefined ? boundedInt(values.threads, "--threads", MAX_THREADS) : 2;
    const stallTimeout =
      values["stall-timeout"] !== undefined
        ? boundedInt(values["stall-timeout"], "--stall-timeout", MAX_STALL_SECONDS)
        : 30;
    const connection = await connectQueue(address);
    const log = (line: string) => console.error(line);
    let worker: Awaited<ReturnType<typeof startQueueWorker>>;
    try {
      worker = await startQueueWorker(connection, {
        registry: new ModelRegistry(),
        threads,
        stallTimeout,
        log,
      });
    } catch (err) {
      await connection.close();
      throw err;
    }
    log(
      `worker: taking jobs from ${address.url} (pid ${process.pid}); Ctrl-C stops after the current job`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        // A second signal is Node's default again: the process ends at once.
        log("worker: stopping after the current job");
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    try {
      await worker.stop();
    } finally {
      await connection.close();
    }
    log("worker: stopped");
    return 0;
  },
};
