import type { RgbImage } from "./image.js";
import type { LabelledDetection, RegionSelection } from "./regions.js";

/**
 * Finds objects in an image: boxes in image pixels with labels and scores. Implemented by the
 * ONNX detector (detector.ts) and by the synthetic world's colour-blob detector; region
 * selection sees only this interface.
 */
export interface ObjectDetector {
  /** Names the detector and its configuration, stored with features. */
  readonly name: string;
  detect(image: RgbImage): Promise<LabelledDetection[]>;
  /** How the regions are chosen among its detections (its config's); absent: the default. */
  readonly selection?: RegionSelection;
  /** Releases native resources (sessions); a no-op for pure detectors. */
  close(): Promise<void>;
}
