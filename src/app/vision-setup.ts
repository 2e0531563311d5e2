import { checkContainedName, containedPath } from "../core/contained-path.js";
import { InputError } from "../errors.js";
import { JsonFields } from "../json-fields.js";
import { Detector } from "../vision/detector.js";
import {
  type DetectorConfig,
  type EncoderConfig,
  loadModelConfig,
  parseModelConfig,
} from "../vision/model-config.js";
import { ModelRegistry } from "../vision/model-registry.js";
import type { ObjectDetector } from "../vision/object-detector.js";
import { OnnxEncoder } from "../vision/onnx-encoder.js";
import { PixelStatsEncoder, type PixelStatsOptions } from "../vision/pixel-stats-encoder.js";
import type { RegionEncoder } from "../vision/region-encoder.js";
import { ShapeDetector } from "../vision/shape-detector.js";

/** The weight-free encoder of the synthetic world, with its options (defaults when omitted). */
export interface PixelStatsSpec extends Partial<PixelStatsOptions> {
  readonly kind: "pixel-stats";
}

/**
 * How a bundle's features were made, as `imagesent features` takes it: the encoder and detector
 * are preset names or whole config objects (the JSON of `--encoder FILE` / `--detector FILE`),
 * or the pixel-statistics encoder; `encoderModel` / `detectorModel` override the config's model
 * (a model-cache name, or an .onnx path relative to the bundle folder), like `--encoder-model`.
 */
export interface VisionSetup {
  readonly encoder: string | EncoderConfig | PixelStatsSpec;
  readonly encoderModel?: string;
  /**
   * A preset name or config of an ONNX detector; "world-shapes" for the synthetic world's
   * colour-blob detector; null for none (whole image plus fallback boxes).
   */
  readonly detector: string | DetectorConfig | null;
  readonly detectorModel?: string;
  /** Regions per image, whole image first (1..20). */
  readonly regions: number;
}

/** The detector name of the synthetic world's weight-free colour-blob detector. */
export const WORLD_SHAPES = "world-shapes";

/** The demo world's setup: pixel statistics over the whole image and 19 detected or fallback boxes. */
export const PIXEL_STATS_SETUP: VisionSetup = {
  encoder: { kind: "pixel-stats" },
  detector: WORLD_SHAPES,
  regions: 20,
};

/**
 * Checks a setup read from JSON; errors name `where` (the file) and the field's path, which starts
 * at `path` ("vision" in a bundle.json).
 */
export function parseVisionSetup(value: unknown, where: string, path = ""): VisionSetup {
  const r = JsonFields.of(value, where, { path });
  r.only(["encoder", "encoderModel", "detector", "detectorModel", "regions"]);
  const regions = r.number("regions", { integer: true, min: 1, max: 20 });
  const modelName = { want: "a model name or .onnx path" };
  const encoderModel = r.optionalString("encoderModel", modelName);
  const detectorModel = r.optionalString("detectorModel", modelName);
  return {
    encoder: readEncoder(r),
    ...(encoderModel ? { encoderModel } : {}),
    detector: readDetector(r),
    ...(detectorModel ? { detectorModel } : {}),
    regions,
  };
}

function readEncoder(setup: JsonFields): VisionSetup["encoder"] {
  const value = setup.get("encoder");
  if (value === "pixel-stats") return { kind: "pixel-stats" };
  if (typeof value === "string" && value !== "") return value;
  const o = setup.child("encoder", { want: 'a preset name, "pixel-stats" or a config object' });
  if (o.get("kind") === "pixel-stats") {
    for (const key of ["dim", "grid", "seed"]) o.optionalNumber(key, { integer: true, min: 0 });
    return o.fields as unknown as PixelStatsSpec;
  }
  o.oneOf("kind", ["encoder", "pixel-stats"], "encoder");
  return parseModelConfig({ ...o.fields, kind: "encoder" }, o.where, o.path) as EncoderConfig;
}

function readDetector(setup: JsonFields): VisionSetup["detector"] {
  const value = setup.get("detector");
  if (value === null || value === undefined || value === "none") return null;
  if (typeof value === "string" && value !== "") return value;
  const o = setup.child("detector", { want: "a preset name, null or a config object" });
  o.oneOf("kind", ["detector"], "detector");
  return parseModelConfig({ ...o.fields, kind: "detector" }, o.where, o.path) as DetectorConfig;
}

/** The encoder and detector of a setup, loaded; `baseDir` anchors relative model paths. */
export interface VisionModels {
  readonly encoder: RegionEncoder;
  readonly detector: ObjectDetector | undefined;
  readonly regions: number;
}

export interface OpenVisionOptions {
  /**
   * Folder relative .onnx paths are taken from (the bundle's); a path there must stay inside it
   * (core/contained-path.ts), so a bundle from elsewhere cannot load a model from outside.
   */
  readonly baseDir?: string;
  readonly registry?: ModelRegistry;
  /** onnxruntime threads per model run (default 2). */
  readonly threads?: number;
}

/** Loads the encoder and (when the setup has one and regions > 1) the detector. */
export async function openVisionModels(
  setup: VisionSetup,
  options: OpenVisionOptions = {},
): Promise<VisionModels> {
  const registry = options.registry ?? new ModelRegistry();
  const threads = options.threads ?? 2;
  const baseDir = options.baseDir;
  const model = (name: string, field: string) =>
    baseDir && isPath(name)
      ? containedPath(
          baseDir,
          checkContainedName(name, `${baseDir}: vision.${field}`),
          `${baseDir}: vision.${field}`,
        )
      : name;
  const presetName = (name: string, field: string) => {
    if (baseDir && (isPath(name) || name.endsWith(".json"))) {
      throw new InputError(
        `${baseDir}: vision.${field}: a bundle names a preset or embeds the config object, got the file ${JSON.stringify(name)}`,
      );
    }
    return name;
  };
  // Every config and model file is resolved (and checked) before any model is loaded.
  const encoderConfig =
    typeof setup.encoder === "object" && setup.encoder.kind === "pixel-stats"
      ? undefined
      : typeof setup.encoder === "string"
        ? loadModelConfig(presetName(setup.encoder, "encoder"), "encoder")
        : (setup.encoder as EncoderConfig);
  const encoderFile =
    encoderConfig && model(setup.encoderModel ?? encoderConfig.model, "encoderModel");
  const detectorConfig =
    setup.detector === WORLD_SHAPES || setup.detector === null || setup.regions <= 1
      ? undefined
      : typeof setup.detector === "string"
        ? loadModelConfig(presetName(setup.detector, "detector"), "detector")
        : setup.detector;
  const detectorFile =
    detectorConfig && model(setup.detectorModel ?? detectorConfig.model, "detectorModel");
  let encoder: RegionEncoder;
  if (encoderConfig && encoderFile) {
    encoder = await OnnxEncoder.load({ ...encoderConfig, model: encoderFile }, registry, {
      threads,
    });
  } else {
    const { kind: _, ...pixelOptions } = setup.encoder as PixelStatsSpec;
    encoder = new PixelStatsEncoder(pixelOptions);
  }
  let detector: ObjectDetector | undefined;
  if (setup.detector === WORLD_SHAPES && setup.regions > 1) {
    detector = new ShapeDetector();
  } else if (detectorConfig && detectorFile) {
    try {
      detector = await Detector.load({ ...detectorConfig, model: detectorFile }, registry, {
        threads,
      });
    } catch (err) {
      await encoder.close();
      throw err;
    }
  }
  return { encoder, detector, regions: setup.regions };
}

function isPath(name: string): boolean {
  return name.includes("/") || name.includes("\\") || name.endsWith(".onnx");
}
