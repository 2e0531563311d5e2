import type { Redis as RedisClient } from "ioredis";
import { InputError } from "../errors.js";
import type { QueueAddress } from "./queue-url.js";

/** BullMQ's module, loaded only when a command is given --queue. */
export type BullMq = typeof import("bullmq");

/** A connection to the queue's Redis and the BullMQ module to use it with. */
export interface QueueConnection {
  readonly bullmq: BullMq;
  /** A ready client; BullMQ duplicates it for its blocking reads. */
  readonly redis: RedisClient;
  readonly address: QueueAddress;
  close(): Promise<void>;
}

/**
 * Loads the optional dependencies bullmq and ioredis (only here, so that a run without --queue
 * never needs them), checks that Redis answers, and returns a client that reconnects for as
 * long as the process lives: a Redis restart mid-run is waited out, not fatal.
 */
export async function connectQueue(address: QueueAddress): Promise<QueueConnection> {
  const [bullmq, { Redis }] = await Promise.all([import("bullmq"), import("ioredis")]).catch(
    (err: Error) => {
      throw new InputError(
        `--queue needs the optional dependencies bullmq and ioredis (npm install bullmq ioredis): ${err.message}`,
      );
    },
  );
  const where = `${address.host}:${address.port}`;
  // One attempt, no retries: an address nothing answers at is a mistake to report at once.
  const probe = new Redis({
    host: address.host,
    port: address.port,
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  probe.on("error", (err: Error) => {
    cause ??= err;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new InputError(
      `--queue ${address.url}: cannot reach Redis at ${where} (${(cause ?? (err as Error)).message})`,
    );
  } finally {
    probe.disconnect();
  }
  // BullMQ's workers and event readers block on Redis, which needs unlimited retries per request.
  const redis = new Redis({ host: address.host, port: address.port, maxRetriesPerRequest: null });
  let lastError = "";
  redis.on("error", (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    console.error(`queue: Redis at ${where}: ${err.message}; retrying`);
  });
  redis.on("ready", () => {
    if (lastError !== "") console.error(`queue: Redis at ${where} is back`);
    lastError = "";
  });
  return {
    bullmq,
    redis,
    address,
    async close() {
      redis.disconnect();
    },
  };
}
