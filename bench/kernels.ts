/**
 * SGEMM throughput of the native and TypeScript kernels on the shapes the model runs: forward
 * products of the alignment model and the two backward products of a 512 x 2538 layer. Prints a
 * table of GFLOP/s (median of several timed runs) and, with --json, one JSON object on the last
 * line. Timings on a shared machine are noisy; compare medians from a quiet one.
 */

import type { Kernels } from "../src/core/kernels/kernels.js";
import { loadNativeKernels, type NativeKernels } from "../src/core/kernels/native-kernels.js";
import { TsKernels } from "../src/core/kernels/ts-kernels.js";

interface Shape {
  label: string;
  transA: boolean;
  transB: boolean;
  m: number;
  k: number;
  n: number;
}

const SHAPES: Shape[] = [
  { label: "100x512 . 512x512", transA: false, transB: false, m: 100, k: 512, n: 512 },
  { label: "100x512 . 512x2538", transA: false, transB: false, m: 100, k: 512, n: 2538 },
  { label: "2000x1000 . 1000x1200", transA: false, transB: false, m: 2000, k: 1000, n: 1200 },
  { label: "512x4096 . 4096x1000", transA: false, transB: false, m: 512, k: 4096, n: 1000 },
  { label: "X^T.dY (512x100x2538)", transA: true, transB: false, m: 512, k: 100, n: 2538 },
  { label: "dY.W^T (100x2538x512)", transA: false, transB: true, m: 100, k: 2538, n: 512 },
];

/** The TypeScript kernel runs below 1 GFLOP/s; shapes above this many flops are skipped for it. */
const TS_MAX_FLOPS = 3e8;

interface Row {
  kernel: string;
  threads: number;
  shape: string;
  m: number;
  k: number;
  n: number;
  gflops: number | null;
  note?: string;
}

function operands(s: Shape) {
  const fill = (len: number) => {
    const x = new Float32Array(len);
    for (let i = 0; i < len; i++) x[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    return x;
  };
  return {
    a: fill(s.m * s.k),
    lda: s.transA ? s.m : s.k,
    b: fill(s.k * s.n),
    ldb: s.transB ? s.k : s.n,
    c: new Float32Array(s.m * s.n),
  };
}

/** Median GFLOP/s over `runs` timed calls after one warm-up, with at least ~minMs of timing. */
function measure(k: Kernels, s: Shape, runs: number): number {
  const { a, lda, b, ldb, c } = operands(s);
  const call = () => k.sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n);
  call();
  const flops = 2 * s.m * s.n * s.k;
  // Repeat each timed sample enough to last ~5 ms so timer resolution does not matter.
  const t0 = performance.now();
  call();
  const once = Math.max(performance.now() - t0, 1e-3);
  const reps = Math.max(1, Math.round(5 / once));
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) call();
    samples.push((flops * reps) / ((performance.now() - start) * 1e6));
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)];
}

function bench(json: boolean): void {
  const rows: Row[] = [];
  const native = loadNativeKernels();
  const runs: Array<{ kernel: Kernels; label: string; setup?: () => void }> = [];
  if (native) {
    const backends = native.backends().filter((b) => b !== "avx2" && b !== "scalar");
    for (const backend of backends) {
      runs.push({
        kernel: native,
        label: `native (${backend})`,
        setup: () => native.useBackend(backend),
      });
    }
  } else {
    process.stderr.write("native kernels not built (run `node scripts/build-native.mjs`)\n");
  }
  runs.push({ kernel: new TsKernels(), label: "typescript" });
  const defaultBackend = native?.backend();

  for (const { kernel, label, setup } of runs) {
    setup?.();
    for (const threads of kernel === native ? [1, 2] : [1]) {
      if (kernel === native) (kernel as NativeKernels).setThreads(threads);
      for (const s of SHAPES) {
        const base = { kernel: label, threads, shape: s.label, m: s.m, k: s.k, n: s.n };
        if (kernel !== native && 2 * s.m * s.n * s.k > TS_MAX_FLOPS) {
          rows.push({ ...base, gflops: null, note: "skipped: too slow for the TS kernel" });
          continue;
        }
        rows.push({ ...base, gflops: measure(kernel, s, kernel === native ? 7 : 3) });
      }
    }
  }
  if (native && defaultBackend) {
    native.useBackend(defaultBackend);
    native.setThreads(2);
  }

  const header = ["kernel", "threads", ...SHAPES.map((s) => s.label)];
  const table = [header];
  for (let i = 0; i < rows.length; i += SHAPES.length) {
    const group = rows.slice(i, i + SHAPES.length);
    table.push([
      group[0].kernel,
      String(group[0].threads),
      ...group.map((r) => (r.gflops === null ? "skip" : r.gflops.toFixed(1))),
    ]);
  }
  const widths = header.map((_, j) => Math.max(...table.map((r) => r[j].length)));
  console.log("SGEMM GFLOP/s (median); M x K . K x N");
  for (const r of table) console.log(r.map((cell, j) => cell.padStart(widths[j])).join("  "));
  if (rows.some((r) => r.gflops === null)) {
    console.log(
      `skip: the TypeScript kernel is not timed above ${TS_MAX_FLOPS / 1e6} MFLOP per call`,
    );
  }
  if (json) console.log(JSON.stringify({ bench: "kernels", unit: "GFLOP/s", results: rows }));
}

bench(process.argv.includes("--json"));
