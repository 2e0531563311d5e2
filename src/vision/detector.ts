import { basename } from "node:path";
import type * as ort from "onnxruntime-node";
import { InputError } from "../errors.js";
import { clipBox } from "./boxes.js";
import { loadSharp } from "./decode.js";
import type { RgbImage } from "./image.js";
import type { DetectorConfig } from "./model-config.js";
import type { ModelRegistry } from "./model-registry.js";
import { nonMaxSuppression } from "./nms.js";
import {
  imageInputName,
  onnxRuntime,
  openSession,
  readModelFile,
  type SessionOptions,
} from "./onnx-session.js";
import {
  boxToImage,
  type Normalisation,
  normalisation,
  planWarp,
  type Warp,
  writeResized,
} from "./preprocess.js";
import { type LabelledDetection, type RegionSelection, selectionName } from "./regions.js";
import { decodeYolox } from "./yolox.js";

/** A detector's network input for one image. */
export interface DetectorInput {
  readonly data: Float32Array;
  readonly warp: Warp;
  readonly width: number;
  readonly height: number;
}

/**
 * What a detector config changes beyond its network, for its name: "" for the paper's settings
 * (score 0.25, class-aware NMS at 0.45, score selection), so stores made with them keep their name.
 */
export function detectorSettingsName(c: DetectorConfig): string {
  const parts: string[] = [];
  if (c.scoreThreshold !== 0.25) parts.push(`score${c.scoreThreshold}`);
  if (c.nms !== "class" || c.nmsThreshold !== 0.45) parts.push(`nms-${c.nms}${c.nmsThreshold}`);
  const selection = selectionName(c.selection);
  if (selection) parts.push(`regions-${selection}`);
  return parts.map((p) => `:${p}`).join("");
}

/** Finds objects in an image: boxes in image pixels with class labels and scores, best first. */
export class Detector {
  private readonly norm: Normalisation;
  /** How regions are chosen from this detector's boxes (selectRegions). */
  readonly selection: RegionSelection;

  private constructor(
    readonly name: string,
    private readonly config: DetectorConfig,
    private readonly session: ort.InferenceSession,
    private readonly input: string,
    private readonly output: string,
  ) {
    this.norm = normalisation(config.preprocess);
    this.selection = config.selection;
  }

  static async load(
    config: DetectorConfig,
    registry: ModelRegistry,
    options: SessionOptions = {},
  ): Promise<Detector> {
    const path = registry.resolve(config.model);
    const session = await openSession(readModelFile(path), path, options);
    try {
      const input = imageInputName(session, config.input, path);
      const output = config.output ?? session.outputNames[0];
      if (!session.outputNames.includes(output)) {
        throw new InputError(
          `${path}: no output '${output}' (outputs: ${session.outputNames.join(", ")})`,
        );
      }
      const name = `${config.format}:${basename(config.model, ".onnx")}@${config.preprocess.width}x${config.preprocess.height}${detectorSettingsName(config)}`;
      const detector = new Detector(name, config, session, input, output);
      // One blank run checks that the output matches the configured layout (and warms up).
      const blank = { width: 2, height: 2, data: new Uint8Array(12) };
      try {
        await detector.detect(blank);
      } catch (err) {
        throw new InputError(
          `${path}: does not fit its detector config (${(err as Error).message.split("\n")[0]})`,
        );
      }
      return detector;
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /**
   * The network input for an image and the warp that maps input pixels back to it. The resize
   * runs in sharp, on libuv's thread pool, so preparing the next image overlaps this one's run.
   */
  async prepare(image: RgbImage): Promise<DetectorInput> {
    const p = this.config.preprocess;
    const whole = { x1: 0, y1: 0, x2: image.width, y2: image.height };
    const warp = planWarp(image.width, image.height, whole, p);
    const { src, dst } = warp;
    const sharp = await loadSharp();
    const resized = await sharp(image.data, {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .extract({ left: src.x, top: src.y, width: src.w, height: src.h })
      .resize(dst.w, dst.h, { fit: "fill", kernel: "linear" })
      .raw()
      .toBuffer();
    const data = new Float32Array(3 * p.width * p.height);
    writeResized(resized, warp, p, this.norm, data, 0);
    return { data, warp, width: image.width, height: image.height };
  }

  /** Detections in `image`, from its prepared input when given (see prepare). */
  async detect(image: RgbImage, prepared?: Promise<DetectorInput>): Promise<LabelledDetection[]> {
    const { width: W, height: H, layout } = this.config.preprocess;
    const { data, warp } = await (prepared ?? this.prepare(image));
    const dims = layout === "nchw" ? [1, 3, H, W] : [1, H, W, 3];
    const { Tensor } = await onnxRuntime();
    const result = await this.session.run({ [this.input]: new Tensor("float32", data, dims) }, [
      this.output,
    ]);
    const raw = result[this.output].data as Float32Array;
    const c = this.config;
    const candidates = decodeYolox(
      raw,
      {
        inputWidth: W,
        inputHeight: H,
        strides: c.strides,
        numClasses: c.labels.length,
        decoded: c.decoded,
        scoresActivated: c.scoresActivated,
      },
      c.scoreThreshold,
    );
    // Class-agnostic NMS runs the class-aware one with every box in one class.
    const agnostic = c.nms === "agnostic";
    const byBox = new Map(candidates.map((d) => [d.box, d]));
    const kept = nonMaxSuppression(
      agnostic ? candidates.map((d) => ({ ...d, classIndex: 0 })) : candidates,
      c.nmsThreshold,
      c.maxDetections,
    );
    return (agnostic ? kept.map((d) => byBox.get(d.box)!) : kept)
      .map((d) => ({
        box: clipBox(boxToImage(d.box, warp), image.width, image.height),
        label: c.labels[d.classIndex],
        score: d.score,
      }))
      .filter((d) => d.box.x2 - d.box.x1 >= 1 && d.box.y2 - d.box.y1 >= 1);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
