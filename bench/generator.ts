/**
 * Generator speed: training sentences/s and tokens/s of the multimodal RNN at the paper's size
 * (hidden 512) and caption latency per image at beam 1 and beam 7. Sentences are Flickr8k's
 * training captions when $IMAGESENT_SHARED (default ../shared)/data/flickr8k is there, else
 * synthetic ones with Flickr8k's length profile; CNN codes are random (speed does not depend on
 * them). Prints a table and, with --json, one JSON object on the last line.
 */

import { backward } from "../src/core/autodiff.js";
import { kernels } from "../src/core/kernels/index.js";
import { Rmsprop } from "../src/core/optim/rmsprop.js";
import { Rng } from "../src/core/rng.js";
import { packSentences } from "../src/generate/batch.js";
import type { CellKind } from "../src/generate/caption-model.js";
import { createCaptionModel } from "../src/generate/create-model.js";
import { beamSearch } from "../src/generate/decoding.js";
import { benchCaptions } from "./support/captions.js";

const FEATURE_DIM = 1280;
const BATCH = 100;

function main(): void {
  const json = process.argv.includes("--json");
  const cell = (process.argv.includes("--lstm") ? "lstm" : "rnn") as CellKind;
  const rng = new Rng(1);
  const data = benchCaptions(rng);
  const model = createCaptionModel(
    {
      cell,
      featureDim: FEATURE_DIM,
      vocabSize: data.vocabulary.size,
      hidden: 512,
      embed: 512,
      dropout: 0.5,
    },
    rng,
  );
  const optimizer = new Rmsprop({ lr: 1e-3, clip: 5 });
  const features = new Float32Array(BATCH * FEATURE_DIM);
  for (let i = 0; i < features.length; i++) features[i] = rng.normal();

  const iteration = (start: number) => {
    const picked = data.words.slice(start % (data.words.length - BATCH)).slice(0, BATCH);
    const batch = packSentences(picked);
    model.params.zeroGrad();
    const loss = model.loss(features, batch, { training: true, rng });
    backward(loss);
    optimizer.step(model.params);
    return batch.tokens;
  };
  for (let i = 0; i < 3; i++) iteration(i * BATCH);
  let sentencesDone = 0;
  let tokens = 0;
  const t0 = performance.now();
  let it = 3;
  while (performance.now() - t0 < 15000 || it < 13) {
    tokens += iteration(it++ * BATCH);
    sentencesDone += BATCH;
  }
  const trainSeconds = (performance.now() - t0) / 1000;

  const latency = (beam: number) => {
    const images = 20;
    const t = performance.now();
    for (let i = 0; i < images; i++) {
      const stepper = model.stepper(features.subarray(i * FEATURE_DIM, (i + 1) * FEATURE_DIM));
      beamSearch(stepper, { beam, lengthNormalization: 0, maxLength: 20 });
    }
    return (performance.now() - t) / images;
  };
  const result = {
    bench: "generator",
    kernels: kernels().name,
    threads: kernels().threads(),
    cell,
    hidden: 512,
    vocabSize: data.vocabulary.size,
    source: data.source,
    batch: BATCH,
    sentencesPerSecond: sentencesDone / trainSeconds,
    tokensPerSecond: tokens / trainSeconds,
    latencyMsBeam1: latency(1),
    latencyMsBeam7: latency(7),
  };
  console.log(
    `generator (${cell}, hidden 512, vocabulary ${data.vocabulary.size}, ${data.source})`,
  );
  console.log(`kernels ${result.kernels}, ${result.threads} threads, batch ${BATCH}`);
  console.log(
    `training:  ${result.sentencesPerSecond.toFixed(0)} sentences/s, ${result.tokensPerSecond.toFixed(0)} tokens/s`,
  );
  console.log(
    `captions:  ${result.latencyMsBeam1.toFixed(1)} ms/image at beam 1, ${result.latencyMsBeam7.toFixed(1)} ms/image at beam 7 (untrained model, up to 20 words)`,
  );
  if (json) console.log(JSON.stringify(result));
}

main();
