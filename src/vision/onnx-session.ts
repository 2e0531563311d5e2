import { readFileSync } from "node:fs";
import type * as ort from "onnxruntime-node";
import { InputError } from "../errors.js";

let runtime: Promise<typeof ort> | undefined;

/**
 * onnxruntime, imported on first use: a process that runs no model (a text search) does not
 * spend the ~50 ms of loading it.
 */
export function onnxRuntime(): Promise<typeof ort> {
  runtime ??= import("onnxruntime-node");
  return runtime;
}

/** How a session runs: threads for one operator, and whether to optimise the graph. */
export interface SessionOptions {
  /** Threads inside one operator (the work of one run); default 2. */
  readonly threads?: number;
}

/**
 * Opens an onnxruntime session over model bytes, with full graph optimisation and sequential
 * execution (the graphs are chains; parallel branches would only contend for the same cores).
 * Worker threads do not spin between runs: with a detector and an encoder each owning a thread
 * pool, the idle pool's spinning takes the cores the busy one needs (measured: detector + encoder
 * per image 85 ms spinning, 51 ms not, on 2 cores).
 */
export async function openSession(
  bytes: Uint8Array,
  what: string,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const { InferenceSession } = await onnxRuntime();
  try {
    return await InferenceSession.create(bytes, {
      intraOpNumThreads: options.threads ?? 2,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
  } catch (err) {
    throw new InputError(
      `${what}: onnxruntime cannot load the model (${(err as Error).message.split("\n")[0]})`,
    );
  }
}

export function readModelFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new InputError(`${path}: cannot read model (${(err as Error).message})`);
  }
}

/** The graph input an image goes into: the configured one, else the only one. */
export function imageInputName(
  session: ort.InferenceSession,
  configured: string | undefined,
  what: string,
): string {
  if (configured !== undefined) {
    if (!session.inputNames.includes(configured)) {
      throw new InputError(
        `${what}: no input '${configured}' (inputs: ${session.inputNames.join(", ")})`,
      );
    }
    return configured;
  }
  if (session.inputNames.length !== 1) {
    throw new InputError(
      `${what}: has inputs ${session.inputNames.join(", ")}; name the image input in the config`,
    );
  }
  return session.inputNames[0];
}
