import type { Box, RgbImage } from "./image.js";

/**
 * Turns image regions into feature vectors (the paper's CNN(I_b)). Implemented by the ONNX CNN
 * encoder and by the weight-free pixel-statistics encoder of the demo world; everything
 * downstream sees only this interface.
 */
export interface RegionEncoder {
  /** Names the encoder and its configuration, stored with features so mismatches are caught. */
  readonly name: string;
  /** Length of one feature vector. */
  readonly dim: number;
  /** Encodes each box of `image`; returns boxes.length x dim, row-major. */
  encode(image: RgbImage, boxes: readonly Box[]): Promise<Float32Array>;
  /** Releases native resources (sessions); a no-op for pure encoders. */
  close(): Promise<void>;
}
