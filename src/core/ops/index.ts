/** Every differentiable op, forward and backward side by side in its own file. */
export { relu, sigmoid, tanh } from "./activations.js";
export { concatCols, concatRows, sliceCols, sliceRows } from "./concat.js";
export { dropout } from "./dropout.js";
export { add, addScalar, mul, scale, sub } from "./elementwise.js";
export { gather } from "./embedding.js";
export { hinge } from "./hinge.js";
export { affine, affineRelu, type MatmulOptions, matmul } from "./matmul.js";
export { maxOfProducts, maxOverRows } from "./max-over-regions.js";
export { type RecurrenceOptions, reluRecurrence } from "./recurrence.js";
export { mean, sum, sumSegments } from "./reduce.js";
export { diag, reshape, transpose } from "./reshape.js";
export { softmax } from "./softmax.js";
export { type CrossEntropyOptions, softmaxCrossEntropy } from "./softmax-cross-entropy.js";
