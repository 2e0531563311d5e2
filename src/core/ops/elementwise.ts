import { result } from "../autodiff.js";
import type { Tensor } from "../tensor.js";
import { shapeMismatch } from "./shape.js";

/**
 * Elementwise a + b, a - b and a * b with 2-D broadcasting: operands are read as matrices (a 1-D
 * [n] as one row [1, n], a scalar as [1, 1]) and a dimension of size 1 stretches to the other's.
 * So `add(x, bias)` adds a bias to every row, `sub(s, column)` subtracts a [n, 1] column from
 * every column. Where an operand was stretched, its gradient sums over the stretched dimension.
 */
export function add(a: Tensor, b: Tensor): Tensor {
  return binary("add", a, b, 1, 1);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return binary("sub", a, b, 1, -1);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const bc = broadcast("mul", a, b);
  const { rows, cols, aRow, aCol, bRow, bCol } = bc;
  const ad = a.data;
  const bd = b.data;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      out[r * cols + c] = ad[r * aRow + c * aCol] * bd[r * bRow + c * bCol];
  }
  return result(out, bc.shape, [a, b], (g) => {
    if (a.requiresGrad) {
      const ga = a.gradBuffer();
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++)
          ga[r * aRow + c * aCol] += g[r * cols + c] * bd[r * bRow + c * bCol];
      }
    }
    if (b.requiresGrad) {
      const gb = b.gradBuffer();
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++)
          gb[r * bRow + c * bCol] += g[r * cols + c] * ad[r * aRow + c * aCol];
      }
    }
  });
}

/** s * x for a constant s. */
export function scale(x: Tensor, s: number): Tensor {
  const out = new Float32Array(x.size);
  const xd = x.data;
  for (let i = 0; i < out.length; i++) out[i] = s * xd[i];
  return result(out, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += s * g[i];
  });
}

/** x + s for a constant s. */
export function addScalar(x: Tensor, s: number): Tensor {
  const out = new Float32Array(x.size);
  const xd = x.data;
  for (let i = 0; i < out.length; i++) out[i] = xd[i] + s;
  return result(out, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += g[i];
  });
}

interface Broadcast {
  shape: number[];
  rows: number;
  cols: number;
  /** Strides into a's and b's data per output row and column (0 where the operand is stretched). */
  aRow: number;
  aCol: number;
  bRow: number;
  bCol: number;
}

function broadcast(op: string, a: Tensor, b: Tensor): Broadcast {
  if (a.shape.length > 2 || b.shape.length > 2) {
    throw shapeMismatch(op, a, b, "are not both at most 2-D");
  }
  const [ar, ac, br, bc] = [a.rows, a.cols, b.rows, b.cols];
  if ((ar !== br && ar !== 1 && br !== 1) || (ac !== bc && ac !== 1 && bc !== 1)) {
    throw shapeMismatch(op, a, b, "do not broadcast (each dimension must match or be 1)");
  }
  const rows = Math.max(ar, br);
  const cols = Math.max(ac, bc);
  const rank = Math.max(a.shape.length, b.shape.length);
  const shape = rank === 2 ? [rows, cols] : rank === 1 ? [cols] : [];
  return {
    shape,
    rows,
    cols,
    aRow: ar === 1 ? 0 : ac,
    aCol: ac === 1 ? 0 : 1,
    bRow: br === 1 ? 0 : bc,
    bCol: bc === 1 ? 0 : 1,
  };
}

/** out = sa * a + sb * b, broadcast. */
function binary(op: string, a: Tensor, b: Tensor, sa: number, sb: number): Tensor {
  const bc = broadcast(op, a, b);
  const { rows, cols, aRow, aCol, bRow, bCol } = bc;
  const ad = a.data;
  const bd = b.data;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = sa * ad[r * aRow + c * aCol] + sb * bd[r * bRow + c * bCol];
    }
  }
  return result(out, bc.shape, [a, b], (g) => {
    if (a.requiresGrad) accumulate(g, rows, cols, sa, a.gradBuffer(), aRow, aCol);
    if (b.requiresGrad) accumulate(g, rows, cols, sb, b.gradBuffer(), bRow, bCol);
  });
}

function accumulate(
  g: Float32Array,
  rows: number,
  cols: number,
  s: number,
  acc: Float32Array,
  rowStride: number,
  colStride: number,
): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) acc[r * rowStride + c * colStride] += s * g[r * cols + c];
  }
}
