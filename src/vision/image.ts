/** A decoded image: 8-bit RGB, interleaved, row-major (data.length = width * height * 3). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** An axis-aligned box in pixel coordinates of its image: [x1, x2) x [y1, y2). */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** Where a region came from: the whole image, a detection, or the fallback boxes. */
export type RegionSource = "whole" | "detection" | "fallback";

/** A region of an image: its box and, for detections, the detector's label and score. */
export interface Region {
  readonly box: Box;
  readonly source: RegionSource;
  readonly label?: string;
  readonly score?: number;
}
