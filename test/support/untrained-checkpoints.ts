import { join } from "node:path";
import { saveCheckpoint } from "../../src/core/checkpoint.js";
import { Rng } from "../../src/core/rng.js";
import { createCaptionModel } from "../../src/generate/create-model.js";
import { tinyAlignmentModel } from "./tiny-alignment-model.js";

/**
 * Writes an untrained 20-region alignment model and a tiny full-frame generator over
 * `featureDim`-d codes into `dir` (alignment.ckpt, generator.ckpt), enough for a bundle whose
 * describe runs end to end. Returns their paths.
 */
export function writeUntrainedCheckpoints(
  dir: string,
  featureDim: number,
): { alignment: string; generator: string } {
  const alignment = tinyAlignmentModel(1, { featureDim, regions: 20 });
  const paths = { alignment: join(dir, "alignment.ckpt"), generator: join(dir, "generator.ckpt") };
  alignment.save(paths.alignment);
  const model = {
    cell: "rnn",
    featureDim,
    vocabSize: alignment.vocabulary.size,
    hidden: 4,
    embed: 3,
    dropout: 0,
  } as const;
  saveCheckpoint(paths.generator, {
    params: createCaptionModel(model, new Rng(2)).params,
    config: { kind: "imagesent-generator", mode: "fullframe", model, training: {} },
    vocabulary: alignment.vocabulary.toJSON(),
    meta: { normalizer: alignment.normalizer.toJSON() },
  });
  return paths;
}
