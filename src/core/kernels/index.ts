import type { Kernels } from "./kernels.js";
import { loadNativeKernels } from "./native-kernels.js";
import { TsKernels } from "./ts-kernels.js";

export type { Kernels } from "./kernels.js";
export { TsKernels } from "./ts-kernels.js";

let active: Kernels | undefined;

/**
 * The kernels all tensor ops run on: the native addon when it is built (unless
 * IMAGESENT_KERNELS=typescript), else the TypeScript reference, announced once on stderr.
 * IMAGESENT_THREADS sets the thread count of the native kernels.
 */
export function kernels(): Kernels {
  if (active) return active;
  const wanted = process.env.IMAGESENT_KERNELS;
  const native = wanted === "typescript" ? undefined : loadNativeKernels();
  if (native) {
    active = native;
  } else {
    if (wanted !== "typescript") {
      process.stderr.write(
        "imagesent: native kernels not built; using the pure-TypeScript kernels (much slower). " +
          "Run `npm rebuild imagesent` with python3, make and g++ installed to build them.\n",
      );
    }
    active = new TsKernels();
  }
  const threads = Number(process.env.IMAGESENT_THREADS);
  if (threads > 0) active.setThreads(threads);
  return active;
}

/** Replaces the active kernels (tests and benchmarks compare implementations this way). */
export function useKernels(k: Kernels): void {
  active = k;
}
