import { HttpError } from "./http-error.js";

/** Seconds a refused client is told to wait before it tries again (Retry-After). */
export const RETRY_AFTER_SECONDS = 2;

/**
 * The describes of uploaded images: at most `concurrency` run at once, and at most `maxWaiting`
 * more wait their turn in order of arrival; one past that is refused at once with a 503 and
 * Retry-After. A describe takes hundreds of MB and its caption search holds the event loop, so a
 * burst of uploads would otherwise take the memory and stall every other request.
 */
export class DescribeQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  /** Describes running now, and waiting. */
  get load(): { readonly running: number; readonly waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Runs `task` when a turn is free. `signal` (the client went away) takes a waiting task out
   * of the queue, and refuses one not started yet; a task already running is left to finish.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw cancelled();
    if (this.running < this.concurrency) this.running++;
    else await this.turn(signal);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Waits for a running task to hand over its turn (the count of running tasks stays the same). */
  private turn(signal: AbortSignal | undefined): Promise<void> {
    if (this.waiting.length >= this.maxWaiting) {
      throw new HttpError(
        503,
        `the server is busy describing other images (${this.running} running, ${this.waiting.length} waiting); try again in ${RETRY_AFTER_SECONDS} s`,
        { headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } },
      );
    }
    return new Promise((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener("abort", leave);
        resolve();
      };
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(start), 1);
        reject(cancelled());
      };
      signal?.addEventListener("abort", leave, { once: true });
      this.waiting.push(start);
    });
  }
}

function cancelled(): HttpError {
  return new HttpError(400, "the request was cancelled before its turn");
}
