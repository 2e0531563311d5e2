/**
 * Alignment-model speed at the Flickr8k setting of `imagesent train-align` (20 regions of
 * 1280-d codes, embedding 1000, BRNN hidden 500, batches of 100 pairs): training sentences/s,
 * the seconds of one validation pass (1,000 images x 5,000 sentences), and from the two the
 * projected wall time of a 10-epoch run over Flickr8k's 30,000 training sentences. Sentences are
 * Flickr8k's training captions when $IMAGESENT_SHARED (default ../shared)/data/flickr8k is there,
 * else synthetic ones with Flickr8k's length profile; CNN codes are random (speed does not depend
 * on them). Prints a table and, with --json, one JSON object on the last line.
 */

import { DEFAULT_ALIGNMENT_CONFIG, DEFAULT_TRAIN_CONFIG } from "../src/align/config.js";
import { AlignmentModel } from "../src/align/model.js";
import { scoreSplit } from "../src/align/retrieval.js";
import { alignmentStep, makeOptimizer } from "../src/align/train.js";
import { kernels } from "../src/core/kernels/index.js";
import { Rng } from "../src/core/rng.js";
import { FeatureNormalizer } from "../src/vision/feature-normalizer.js";
import { benchCaptions } from "./support/captions.js";

const FEATURE_DIM = 1280;
const REGIONS = DEFAULT_ALIGNMENT_CONFIG.regions;
const TRAIN_SENTENCES = 30000;
const VAL_IMAGES = 1000;
const EPOCHS = DEFAULT_TRAIN_CONFIG.epochs;

function main(): void {
  const json = process.argv.includes("--json");
  const rng = new Rng(1);
  const data = benchCaptions(rng);
  const features = new Float32Array(VAL_IMAGES * REGIONS * FEATURE_DIM);
  for (let i = 0; i < features.length; i++) features[i] = rng.normal();
  const normalizer = FeatureNormalizer.fit([features], FEATURE_DIM);
  const model = new AlignmentModel(
    {
      ...DEFAULT_ALIGNMENT_CONFIG,
      featureDim: FEATURE_DIM,
      vocabSize: data.vocabulary.size,
    },
    data.vocabulary,
    normalizer,
  );
  const cfg = DEFAULT_TRAIN_CONFIG;
  const optimizer = makeOptimizer(cfg);
  const batchSize = cfg.batchSize;
  const block = REGIONS * FEATURE_DIM;

  const iteration = (start: number) => {
    const batch = Array.from({ length: batchSize }, (_, i) => ({
      image: (start + i) % VAL_IMAGES,
      sentence: data.words[(start + i) % data.words.length],
    }));
    alignmentStep(model, batch, features, block, null, cfg, optimizer);
  };
  for (let i = 0; i < 3; i++) iteration(i * batchSize);
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 20000 || done < 10 * batchSize) {
    iteration(done + 3 * batchSize);
    done += batchSize;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const sentencesPerSecond = done / trainSeconds;

  const valSentences = data.words.slice(0, 5 * VAL_IMAGES);
  const t1 = performance.now();
  scoreSplit(model, features, VAL_IMAGES, valSentences);
  const validationSeconds = (performance.now() - t1) / 1000;
  const epochSeconds = TRAIN_SENTENCES / sentencesPerSecond + validationSeconds;

  const result = {
    bench: "alignment",
    kernels: kernels().name,
    threads: kernels().threads(),
    regions: REGIONS,
    embed: model.config.embed,
    hidden: model.config.hidden,
    vocabSize: data.vocabulary.size,
    source: data.source,
    batch: batchSize,
    sentencesPerSecond,
    validationSeconds,
    projectedRunMinutes: (EPOCHS * epochSeconds) / 60,
  };
  console.log(
    `alignment (${REGIONS} regions of ${FEATURE_DIM}-d codes, embedding ${result.embed}, hidden ${result.hidden}, vocabulary ${result.vocabSize}, ${data.source})`,
  );
  console.log(`kernels ${result.kernels}, ${result.threads} threads, batch ${batchSize}`);
  console.log(`training:   ${sentencesPerSecond.toFixed(0)} sentences/s`);
  console.log(
    `validation: ${validationSeconds.toFixed(1)} s for ${VAL_IMAGES} images x ${valSentences.length} sentences`,
  );
  console.log(
    `projected:  ${result.projectedRunMinutes.toFixed(1)} min for ${EPOCHS} epochs of ${TRAIN_SENTENCES} sentences with validation after each (checkpoints not counted)`,
  );
  if (json) console.log(JSON.stringify(result));
}

main();
