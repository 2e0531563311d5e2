import { Detector } from "./detector.js";
import type { DetectorConfig, EncoderConfig } from "./model-config.js";
import type { ModelRegistry } from "./model-registry.js";
import { OnnxEncoder } from "./onnx-encoder.js";
import { PixelStatsEncoder } from "./pixel-stats-encoder.js";
import type { RegionEncoder } from "./region-encoder.js";

/**
 * The models `imagesent features` runs, as plain data (so that a queue can hand it to workers on
 * other machines): the configs with any --encoder-model / --detector-model already put in.
 */
export interface FeatureModelSpec {
  /** The ONNX encoder's config, or undefined for the weight-free pixel-statistics encoder. */
  readonly encoder: EncoderConfig | undefined;
  /** The detector's config, or undefined when none runs (--regions 1, --detector none). */
  readonly detector: DetectorConfig | undefined;
}

export interface FeatureModels {
  readonly encoder: RegionEncoder;
  readonly detector: Detector | undefined;
  close(): Promise<void>;
}

/** Loads the spec's models (each ONNX model file resolved through `registry`). */
export async function loadFeatureModels(
  spec: FeatureModelSpec,
  registry: ModelRegistry,
  threads: number,
): Promise<FeatureModels> {
  const encoder: RegionEncoder = spec.encoder
    ? await OnnxEncoder.load(spec.encoder, registry, { threads })
    : new PixelStatsEncoder();
  let detector: Detector | undefined;
  try {
    if (spec.detector) detector = await Detector.load(spec.detector, registry, { threads });
  } catch (err) {
    await encoder.close();
    throw err;
  }
  let closed = false;
  return {
    encoder,
    detector,
    async close() {
      if (closed) return;
      closed = true;
      await encoder.close();
      await detector?.close();
    },
  };
}
