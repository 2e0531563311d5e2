/** The compute core: tensors, autodiff, ops, optimisers, initialisers and checkpoints. */
export {
  type BackwardFn,
  backward,
  clearTape,
  isRecording,
  needsGrad,
  noGrad,
  result,
  tapeLength,
} from "./autodiff.js";
export { give, take, takeZeroed } from "./buffer-pool.js";
export {
  Checkpoint,
  type CheckpointContents,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  type SaveOptions,
  type StorageDtype,
  type StoredTensor,
  saveCheckpoint,
} from "./checkpoint.js";
export {
  formatGradcheck,
  type GradcheckEntry,
  type GradcheckOptions,
  type GradcheckResult,
  gradcheck,
} from "./gradcheck.js";
export * as init from "./init.js";
export { type Kernels, kernels, useKernels } from "./kernels/index.js";
export { largest } from "./largest.js";
export * from "./ops/index.js";
export * from "./optim/index.js";
export { type Param, type ParamOptions, Params } from "./params.js";
export { PrincipalProjection } from "./principal-projection.js";
export { Rng } from "./rng.js";
export { sameShape, shapeSize, Tensor } from "./tensor.js";
