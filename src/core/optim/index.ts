export { Adam, type AdamOptions } from "./adam.js";
export { Optimizer, type OptimizerState } from "./optimizer.js";
export { Rmsprop, type RmspropOptions } from "./rmsprop.js";
export { Sgd, type SgdOptions } from "./sgd.js";
