import type { Detection } from "./nms.js";

/** How a YOLOX-style head's output rows are laid out. */
export interface YoloxLayout {
  /** Network input size in pixels (the grid is width/stride x height/stride per stride). */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Strides of the feature maps, in the order their rows appear (YOLOX: 8, 16, 32). */
  readonly strides: readonly number[];
  readonly numClasses: number;
  /** True when the export already turned offsets into boxes (decode_in_inference). */
  readonly decoded: boolean;
  /** True when objectness and class scores already went through a sigmoid (YOLOX exports do). */
  readonly scoresActivated: boolean;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Decodes a YOLOX head output (rows of [dx, dy, dw, dh, objectness, class scores...], one row per
 * grid cell of each stride) into boxes in network-input pixels, keeping those whose score,
 * objectness x best class score, reaches `scoreThreshold`:
 *   x, y = (d_xy + cell) * stride,   w, h = exp(d_wh) * stride.
 */
export function decodeYolox(
  output: Float32Array,
  layout: YoloxLayout,
  scoreThreshold: number,
): Detection[] {
  const rowLen = 5 + layout.numClasses;
  const rows = output.length / rowLen;
  const cells = layout.strides.reduce(
    (n, s) => n + Math.floor(layout.inputWidth / s) * Math.floor(layout.inputHeight / s),
    0,
  );
  if (!Number.isInteger(rows) || rows !== cells) {
    throw new Error(
      `YOLOX output has ${output.length} values; expected ${cells} rows of ${rowLen} for input ${layout.inputWidth}x${layout.inputHeight}, strides ${layout.strides.join("/")}`,
    );
  }
  const act = layout.scoresActivated ? (x: number) => x : sigmoid;
  const out: Detection[] = [];
  let row = 0;
  for (const stride of layout.strides) {
    const gw = Math.floor(layout.inputWidth / stride);
    const gh = Math.floor(layout.inputHeight / stride);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const o = row * rowLen;
        const obj = act(output[o + 4]);
        if (obj < scoreThreshold) continue;
        let best = 0;
        let bestScore = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < layout.numClasses; c++) {
          const s = output[o + 5 + c];
          if (s > bestScore) {
            bestScore = s;
            best = c;
          }
        }
        const score = obj * act(bestScore);
        if (score < scoreThreshold) continue;
        let cx = output[o];
        let cy = output[o + 1];
        let w = output[o + 2];
        let h = output[o + 3];
        if (!layout.decoded) {
          cx = (cx + gx) * stride;
          cy = (cy + gy) * stride;
          w = Math.exp(w) * stride;
          h = Math.exp(h) * stride;
        }
        out.push({
          box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 },
          classIndex: best,
          score,
        });
      }
    }
  }
  return out;
}
