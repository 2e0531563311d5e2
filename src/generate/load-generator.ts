import { loadCheckpoint } from "../core/checkpoint.js";
import { Rng } from "../core/rng.js";
import { Vocabulary } from "../data/vocabulary.js";
import { CorruptFileError, InputError } from "../errors.js";
import { FeatureNormalizer } from "../vision/feature-normalizer.js";
import type { CaptionModel } from "./caption-model.js";
import { parseModelConfig } from "./caption-model.js";
import { createCaptionModel } from "./create-model.js";
import type { GeneratorConfig, TrainingSpeed, Validation } from "./train.js";

/** A trained generator with everything needed to caption with it. */
export interface LoadedGenerator {
  readonly path: string;
  readonly config: GeneratorConfig;
  readonly model: CaptionModel;
  readonly vocabulary: Vocabulary;
  readonly normalizer: FeatureNormalizer;
  readonly step: number;
  readonly best: Validation | null;
  readonly speed: TrainingSpeed | null;
}

/** Reads a generator checkpoint (best.ckpt or last.ckpt of train-gen). */
export function loadGenerator(path: string): LoadedGenerator {
  const ckpt = loadCheckpoint(path);
  const config = ckpt.config as GeneratorConfig | null;
  if (config?.kind !== "imagesent-generator") {
    throw new InputError(`${path}: not a generator checkpoint (made by imagesent train-gen)`);
  }
  const error = CorruptFileError;
  const modelConfig = parseModelConfig(config.model, path, { path: "config.model", error });
  const vocabulary = Vocabulary.fromJSON(ckpt.vocabulary, path, { path: "vocabulary", error });
  const normalizer = FeatureNormalizer.fromJSON(ckpt.meta.normalizer, path, {
    path: "meta.normalizer",
    error,
  });
  if (vocabulary.size !== modelConfig.vocabSize || normalizer.dim !== modelConfig.featureDim) {
    throw new InputError(`${path}: vocabulary or normaliser does not fit the model's shapes`);
  }
  const model = createCaptionModel(modelConfig, new Rng(1));
  ckpt.restoreParams(model.params);
  return {
    path,
    config: { ...config, model: modelConfig },
    model,
    vocabulary,
    normalizer,
    step: ckpt.step,
    best: (ckpt.meta.best as Validation | null) ?? null,
    speed: (ckpt.meta.speed as TrainingSpeed | null) ?? null,
  };
}

/**
 * Checks that `member` can decode in an ensemble with `lead` (ensembleStepper): it must read the
 * same features the same way and predict over the same words, as models trained on the same data
 * with another seed do. Returns it.
 */
export function ensembleMember(member: LoadedGenerator, lead: LoadedGenerator): LoadedGenerator {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (member.config.mode !== lead.config.mode) {
    throw new InputError(
      `${member.path}: a ${member.config.mode} model, ${lead.path} is ${lead.config.mode}`,
    );
  }
  if (!same(member.vocabulary.toJSON(), lead.vocabulary.toJSON())) {
    throw new InputError(
      `${member.path}: its vocabulary differs from ${lead.path}'s; an ensemble needs one`,
    );
  }
  if (!same(member.normalizer.toJSON(), lead.normalizer.toJSON())) {
    throw new InputError(
      `${member.path}: its feature normaliser differs from ${lead.path}'s (trained on other data?)`,
    );
  }
  return member;
}
