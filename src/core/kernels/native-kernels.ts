import type { Kernels } from "./kernels.js";

/** The native addon's kernels, or undefined when the addon is not built. */
export function loadNativeKernels(): Kernels | undefined {
  return undefined;
}
