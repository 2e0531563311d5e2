import type { Rng } from "../core/rng.js";
import type { CaptionModel, CaptionModelConfig } from "./caption-model.js";
import { Lstm } from "./lstm.js";
import { MultimodalRnn } from "./multimodal-rnn.js";

/** A freshly initialised model; softmax biases start at the log word frequencies when given. */
export function createCaptionModel(
  config: CaptionModelConfig,
  rng: Rng,
  logFrequencies?: Float32Array,
): CaptionModel {
  const model = config.cell === "lstm" ? new Lstm(config, rng) : new MultimodalRnn(config, rng);
  if (logFrequencies) {
    const bo = model.params.get("bo");
    if (logFrequencies.length !== bo.size) {
      throw new RangeError(
        `log frequencies have ${logFrequencies.length} entries, the softmax has ${bo.size}`,
      );
    }
    bo.data.set(logFrequencies);
  }
  return model;
}
