import { basename } from "node:path";
import type * as ort from "onnxruntime-node";
import { InputError } from "../errors.js";
import type { Box, RgbImage } from "./image.js";
import type { EncoderConfig } from "./model-config.js";
import type { ModelRegistry } from "./model-registry.js";
import { addGraphOutputs, readOnnxGraph } from "./onnx-proto.js";
import {
  imageInputName,
  onnxRuntime,
  openSession,
  readModelFile,
  type SessionOptions,
} from "./onnx-session.js";
import { boxesToBatch, ImagePyramid, type Normalisation, normalisation } from "./preprocess.js";
import { findQuantization, type Quantization } from "./quantization.js";
import type { RegionEncoder } from "./region-encoder.js";
import { ResampleWorker } from "./resample-pool.js";

export interface EncoderOptions extends SessionOptions {
  /** Cut regions out on a worker thread as well as this one (default true). */
  readonly resampleWorker?: boolean;
}

/**
 * A RegionEncoder over any ONNX CNN: each box is warped and normalised as the config says, the
 * boxes of an image go through the network in batches, and the configured intermediate tensor
 * (made a graph output at load time) is read back, dequantized and spatially pooled as needed.
 */
export class OnnxEncoder implements RegionEncoder {
  private readonly norm: Normalisation;
  private inputBuffer = new Float32Array(0);
  private resampler: ResampleWorker | undefined;

  private constructor(
    readonly name: string,
    readonly dim: number,
    private readonly config: EncoderConfig,
    private readonly session: ort.InferenceSession,
    private readonly input: string,
    private readonly quant: Quantization | undefined,
    private readonly maxBatch: number,
  ) {
    this.norm = normalisation(config.preprocess);
  }

  static async load(
    config: EncoderConfig,
    registry: ModelRegistry,
    options: EncoderOptions = {},
  ): Promise<OnnxEncoder> {
    const path = registry.resolve(config.model);
    const bytes = readModelFile(path);
    let graph: ReturnType<typeof readOnnxGraph>;
    try {
      graph = readOnnxGraph(bytes);
    } catch (err) {
      throw new InputError(`${path}: not an ONNX model (${(err as Error).message})`);
    }
    const feature = config.feature;
    const known =
      graph.nodes.some((n) => n.outputs.includes(feature)) || graph.inputs.includes(feature);
    if (!known) {
      const last = graph.nodes.slice(-5).flatMap((n) => n.outputs);
      throw new InputError(
        `${path}: no tensor '${feature}' in the graph (the last ones are ${last.join(", ")})`,
      );
    }
    let quant: Quantization | undefined;
    if (config.dequantize === "auto") quant = findQuantization(graph, feature);
    else if (config.dequantize !== "none") quant = { ...config.dequantize, elemType: 0 };
    const elemTypes = new Map(graph.elemTypes);
    if (quant?.elemType) elemTypes.set(feature, quant.elemType);
    const session = await openSession(addGraphOutputs(bytes, [feature], elemTypes), path, options);
    let input: string;
    let maxBatch = Number.POSITIVE_INFINITY;
    let shape: readonly number[];
    try {
      input = imageInputName(session, config.input, path);
      const probe = new OnnxEncoder("", 0, config, session, input, quant, maxBatch);
      try {
        shape = await probe.runShape(2);
      } catch {
        // A graph exported with a fixed batch of 1 encodes one region per run.
        maxBatch = 1;
        shape = await probe.runShape(1);
      }
    } catch (err) {
      await session.release();
      if (err instanceof InputError) throw err;
      throw new InputError(
        `${path}: does not fit its encoder config (${(err as Error).message.split("\n")[0]})`,
      );
    }
    const dim = config.pool === "mean" ? shape[1] : shape.slice(1).reduce((a, b) => a * b, 1);
    const p = config.preprocess;
    const name = [
      `onnx:${basename(config.model, ".onnx")}#${feature}`,
      `${p.width}x${p.height}`,
      p.resize,
      `ctx${p.contextPadding}`,
      config.pool === "mean" ? "pool" : "",
    ]
      .filter((s) => s !== "")
      .join(":");
    const encoder = new OnnxEncoder(name, dim, config, session, input, quant, maxBatch);
    if (options.resampleWorker ?? true) encoder.resampler = new ResampleWorker();
    return encoder;
  }

  private inputDims(n: number): number[] {
    const { width, height, layout } = this.config.preprocess;
    return layout === "nchw" ? [n, 3, height, width] : [n, height, width, 3];
  }

  private async runShape(n: number): Promise<readonly number[]> {
    const { width, height } = this.config.preprocess;
    const data = new Float32Array(n * 3 * width * height);
    const out = await this.run(data, n);
    if (out.type !== "float32" && !this.quant) {
      throw new InputError(
        `tensor '${this.config.feature}' is ${out.type} and its scale/zero point were not found; set "dequantize": {"scale": S, "zeroPoint": Z} in the encoder config`,
      );
    }
    return out.dims;
  }

  private async run(data: Float32Array, n: number): Promise<ort.Tensor> {
    const { Tensor } = await onnxRuntime();
    const feeds = { [this.input]: new Tensor("float32", data, this.inputDims(n)) };
    const result = await this.session.run(feeds, [this.config.feature]);
    return result[this.config.feature];
  }

  async encode(image: RgbImage, boxes: readonly Box[]): Promise<Float32Array> {
    const out = new Float32Array(boxes.length * this.dim);
    const step = Math.min(this.config.batchSize || boxes.length, this.maxBatch);
    const { width, height } = this.config.preprocess;
    const need = step * 3 * width * height;
    // onnxruntime-node reads the input during run(), so one buffer serves every batch.
    if (this.inputBuffer.length < need) this.inputBuffer = new Float32Array(need);
    const pyramid = new ImagePyramid(image);
    for (let start = 0; start < boxes.length; start += step) {
      const chunk = boxes.slice(start, start + step);
      const data = this.inputBuffer.subarray(0, chunk.length * 3 * width * height);
      if (this.resampler?.healthy && chunk.length > 1) {
        await this.resampler.batch(pyramid, chunk, this.config.preprocess, this.norm, data);
      } else {
        boxesToBatch(pyramid, chunk, this.config.preprocess, this.norm, data);
      }
      const t = await this.run(data, chunk.length);
      this.readFeatures(t, chunk.length, out, start * this.dim);
    }
    return out;
  }

  /** Dequantizes (when integer) and pools (when configured) n rows of `t` into `out`. */
  private readFeatures(t: ort.Tensor, n: number, out: Float32Array, offset: number): void {
    const raw = t.data as ArrayLike<number>;
    const per = raw.length / n;
    const scale = t.type === "float32" || !this.quant ? 1 : this.quant.scale;
    const zero = t.type === "float32" || !this.quant ? 0 : this.quant.zeroPoint;
    const spatial = per / this.dim;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < this.dim; c++) {
        let sum = 0;
        const base = i * per + c * spatial;
        for (let s = 0; s < spatial; s++) sum += raw[base + s];
        out[offset + i * this.dim + c] = (sum / spatial - zero) * scale;
      }
    }
  }

  async close(): Promise<void> {
    await this.resampler?.close();
    await this.session.release();
  }
}
