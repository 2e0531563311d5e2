/** imagesent/vision: decoding, detectors, CNN encoders (onnxruntime), region selection and the feature store. */

export { boxArea, clipBox, iou, wholeImageBox } from "./boxes.js";
export { COLOUR_HSL, COLOURS, type ColourName } from "./colour-words.js";
export { decodeImage } from "./decode.js";
export { Detector } from "./detector.js";
export {
  type ExtractOptions,
  type ExtractResult,
  extractFeatures,
  type ImageJob,
  imageRegions,
} from "./extract.js";
export { FALLBACK_FRACTIONS, fallbackBoxes } from "./fallback-boxes.js";
export {
  FeatureStore,
  STORE_FORMAT,
  STORE_VERSION,
  type StoredImage,
  type StoreMeta,
} from "./feature-store.js";
export type { Box, Region, RegionSource, RgbImage } from "./image.js";
export {
  DEFAULT_PREPROCESS,
  DETECTOR_PRESETS,
  type DetectorConfig,
  ENCODER_PRESETS,
  type EncoderConfig,
  loadModelConfig,
  type ModelConfig,
  type PreprocessConfig,
  parseModelConfig,
} from "./model-config.js";
export { ModelRegistry, modelCacheDir } from "./model-registry.js";
export { type Detection, nonMaxSuppression } from "./nms.js";
export { OnnxEncoder } from "./onnx-encoder.js";
export { addGraphOutputs, readOnnxGraph } from "./onnx-proto.js";
export {
  DEFAULT_PIXEL_STATS_OPTIONS,
  PixelStatsEncoder,
  type PixelStatsOptions,
} from "./pixel-stats-encoder.js";
export type { RegionEncoder } from "./region-encoder.js";
export { type LabelledDetection, selectRegions } from "./regions.js";
export {
  detectShapes,
  MIN_OBJECT_PIXELS,
  OBJECT_CHROMA,
  ShapeDetector,
} from "./shape-detector.js";
export { decodeYolox, type YoloxLayout } from "./yolox.js";
