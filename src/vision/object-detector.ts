import type { RgbImage } from "./image.js";
import type { LabelledDetection } from "./regions.js";

/**
 * Finds objects in an image: boxes in image pixels with labels and scores. Implemented by the
 * ONNX detector (detector.ts) and by the synthetic world's colour-blob detector; region
 * selection sees only this interface.
 */
export interface ObjectDetector {
  /** Names the detector and its configuration, stored with features. */
  readonly name: string;
  detect(image: RgbImage): Promise<LabelledDetection[]>;
  /** Releases native resources (sessions); a no-op for pure detectors. */
  close(): Promise<void>;
}
