import { result } from "../autodiff.js";
import type { Tensor } from "../tensor.js";
import { matrix } from "./shape.js";

/**
 * Stacking and cutting matrices along rows or columns. Outputs are copies (tensors never share
 * storage), and each backward copies the gradient slice back to where the values came from.
 */

/** [a; b; ...]: matrices with equal column counts stacked top to bottom. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError("concatRows: no tensors given");
  const cols = matrix("concatRows", "part 0", parts[0])[1];
  let rows = 0;
  parts.forEach((p, i) => {
    const [r, c] = matrix("concatRows", `part ${i}`, p);
    if (c !== cols) {
      throw new RangeError(
        `concatRows: part ${i} ${p.describe()} has ${c} columns, part 0 ${parts[0].describe()} has ${cols}`,
      );
    }
    rows += r;
  });
  const out = new Float32Array(rows * cols);
  let off = 0;
  for (const p of parts) {
    out.set(p.data, off);
    off += p.size;
  }
  return result(out, [rows, cols], parts, (g) => {
    let from = 0;
    for (const p of parts) {
      if (p.requiresGrad) {
        const gp = p.gradBuffer();
        for (let i = 0; i < gp.length; i++) gp[i] += g[from + i];
      }
      from += p.size;
    }
  });
}

/** [a, b, ...]: matrices with equal row counts placed side by side. */
export function concatCols(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError("concatCols: no tensors given");
  const rows = matrix("concatCols", "part 0", parts[0])[0];
  let cols = 0;
  parts.forEach((p, i) => {
    const [r, c] = matrix("concatCols", `part ${i}`, p);
    if (r !== rows) {
      throw new RangeError(
        `concatCols: part ${i} ${p.describe()} has ${r} rows, part 0 ${parts[0].describe()} has ${rows}`,
      );
    }
    cols += c;
  });
  const out = new Float32Array(rows * cols);
  let c0 = 0;
  for (const p of parts) {
    copyBlock(p.data, p.cols, 0, out, cols, c0, rows, p.cols);
    c0 += p.cols;
  }
  return result(out, [rows, cols], parts, (g) => {
    let from = 0;
    for (const p of parts) {
      if (p.requiresGrad) addBlock(g, cols, from, p.gradBuffer(), p.cols, 0, rows, p.cols);
      from += p.cols;
    }
  });
}

/** Rows start..end-1 of a matrix. */
export function sliceRows(x: Tensor, start: number, end: number): Tensor {
  const [rows, cols] = matrix("sliceRows", "x", x);
  checkRange("sliceRows", x, start, end, rows, "rows");
  const out = x.data.slice(start * cols, end * cols);
  return result(out, [end - start, cols], [x], (g) => {
    const gx = x.gradBuffer();
    const off = start * cols;
    for (let i = 0; i < g.length; i++) gx[off + i] += g[i];
  });
}

/** Columns start..end-1 of a matrix (an LSTM's gates from one fused product, say). */
export function sliceCols(x: Tensor, start: number, end: number): Tensor {
  const [rows, cols] = matrix("sliceCols", "x", x);
  checkRange("sliceCols", x, start, end, cols, "columns");
  const width = end - start;
  const out = new Float32Array(rows * width);
  copyBlock(x.data, cols, start, out, width, 0, rows, width);
  return result(out, [rows, width], [x], (g) => {
    addBlock(g, width, 0, x.gradBuffer(), cols, start, rows, width);
  });
}

function checkRange(op: string, x: Tensor, start: number, end: number, n: number, what: string) {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new RangeError(
      `${op}: range ${start}..${end} is outside the ${n} ${what} of ${x.describe()}`,
    );
  }
}

/** dst[r, dc0 + j] = src[r, sc0 + j] for a rows x width block. */
function copyBlock(
  src: Float32Array,
  srcCols: number,
  sc0: number,
  dst: Float32Array,
  dstCols: number,
  dc0: number,
  rows: number,
  width: number,
): void {
  for (let r = 0; r < rows; r++) {
    const s = r * srcCols + sc0;
    dst.set(src.subarray(s, s + width), r * dstCols + dc0);
  }
}

/** dst[r, dc0 + j] += src[r, sc0 + j] for a rows x width block. */
function addBlock(
  src: Float32Array,
  srcCols: number,
  sc0: number,
  dst: Float32Array,
  dstCols: number,
  dc0: number,
  rows: number,
  width: number,
): void {
  for (let r = 0; r < rows; r++) {
    const s = r * srcCols + sc0;
    const d = r * dstCols + dc0;
    for (let j = 0; j < width; j++) dst[d + j] += src[s + j];
  }
}
