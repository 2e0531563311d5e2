import { Worker } from "node:worker_threads";
import type { Box } from "./image.js";
import type { PreprocessConfig } from "./model-config.js";
import {
  type ImagePyramid,
  type Normalisation,
  planWarp,
  type Warp,
  writeWarp,
} from "./preprocess.js";
import type { ResampleJob } from "./resample-worker.js";

/**
 * Resampling of an image's regions split between this thread and one worker thread. While regions
 * are being cut out the models are idle, so on a 2-core machine the second core would otherwise
 * wait; the worker reads the pyramid's planes from shared memory and writes into a shared buffer
 * that this thread copies into the model input (onnxruntime does not accept shared memory).
 */
export class ResampleWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private shared: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private failure: Error | undefined;

  constructor() {
    // Run from compiled JavaScript, or from TypeScript sources under tsx, whose loader hooks a
    // worker does not inherit: there the worker registers tsx before importing its module.
    const fromSource = import.meta.url.endsWith(".ts");
    const url = new URL(`./resample-worker.${fromSource ? "ts" : "js"}`, import.meta.url).href;
    const tsx = fromSource ? import.meta.resolve("tsx/esm/api") : undefined;
    this.worker = new Worker(
      `const { workerData } = require("node:worker_threads");
      (async () => {
        if (workerData.tsx) (await import(workerData.tsx)).register();
        await import(workerData.url);
      })();`,
      { eval: true, workerData: { url, tsx } },
    );
    this.worker.on("message", (id: number) => {
      this.waiting.get(id)?.();
      this.waiting.delete(id);
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on("error", (err) => {
      this.failure = err;
      for (const done of this.waiting.values()) done();
      this.waiting.clear();
    });
    // The worker holds the event loop only while a job is out, so a program that never calls
    // close() still exits when its work is done. unref() comes after on("message"), which would
    // otherwise ref the worker's port again.
    this.worker.unref();
  }

  /** False once the worker has failed; callers then resample on their own thread. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Writes the network input of each box into `out` (box i at i x input size), alternating boxes
   * between this thread and the worker. Returns the warps.
   */
  async batch(
    pyramid: ImagePyramid,
    boxes: readonly Box[],
    config: PreprocessConfig,
    norm: Normalisation,
    out: Float32Array,
  ): Promise<Warp[]> {
    const size = config.width * config.height * 3;
    const { width, height } = pyramid.base;
    const warps = boxes.map((b) => planWarp(width, height, b, config));
    const levels = warps.map((w) => pyramid.levelFor(w, norm));
    const theirs = warps.map((_, i) => i).filter((i) => i % 2 === 1);
    if (this.shared.length < theirs.length * size) {
      this.shared = new Float32Array(new SharedArrayBuffer(theirs.length * size * 4));
    }
    const id = this.nextId++;
    const job: ResampleJob = {
      id,
      config,
      pad: Array.from(norm.pad),
      out: this.shared,
      tasks: theirs.map((i, k) => ({ level: levels[i], warp: warps[i], offset: k * size })),
    };
    const done = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    this.worker.ref();
    this.worker.postMessage(job);
    for (let i = 0; i < warps.length; i += 2)
      writeWarp(levels[i], warps[i], config, norm.pad, out, i * size);
    await done;
    theirs.forEach((i, k) => {
      // Should the worker have died, its share is done here instead.
      if (this.failure) writeWarp(levels[i], warps[i], config, norm.pad, out, i * size);
      else out.set(this.shared.subarray(k * size, (k + 1) * size), i * size);
    });
    return warps;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
