export { Adam, type AdamOptions } from "./adam.js";
export { clipGradients, gradNorm } from "./clip.js";
export { Optimizer, type OptimizerState } from "./optimizer.js";
export { Rmsprop, type RmspropOptions } from "./rmsprop.js";
export { Sgd, type SgdOptions } from "./sgd.js";
