/**
 * Worker side of ResampleWorker (resample-pool.ts): writes the warps it is sent into a
 * shared output buffer, from planes in shared memory, and answers with the job id.
 */
import { parentPort } from "node:worker_threads";
import type { PreprocessConfig } from "./model-config.js";
import { type Planes, type Warp, writeWarp } from "./preprocess.js";

export interface ResampleJob {
  readonly id: number;
  readonly config: PreprocessConfig;
  readonly pad: readonly number[];
  readonly out: Float32Array;
  readonly tasks: readonly {
    readonly level: Planes;
    readonly warp: Warp;
    readonly offset: number;
  }[];
}

parentPort?.on("message", (job: ResampleJob) => {
  for (const t of job.tasks) writeWarp(t.level, t.warp, job.config, job.pad, job.out, t.offset);
  parentPort?.postMessage(job.id);
});
