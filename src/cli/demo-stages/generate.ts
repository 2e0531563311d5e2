import { join } from "node:path";
import type { Dataset } from "../../data/dataset.js";
import { loadDataset } from "../../data/load.js";
import { buildVocabulary, type Vocabulary } from "../../data/vocabulary.js";
import {
  type CaptionSplit,
  loadCaptionData,
  normalizeCaptionData,
} from "../../generate/caption-data.js";
import type { CaptionModel } from "../../generate/caption-model.js";
import { beamSearch } from "../../generate/decoding.js";
import { decodeSplit, scoreSplit } from "../../generate/evaluate.js";
import { nearestNeighbourCaptions } from "../../generate/nearest-neighbour.js";
import { trainGenerator } from "../../generate/train.js";
import { readSnippets } from "../../mrf/snippets.js";
import type { FeatureStore } from "../../vision/feature-store.js";
import type { DemoStage } from "../commands/demo.js";
import { Progress } from "../progress.js";

/** A small generator trains in seconds on the world's few hundred words. */
const DEMO_MODEL = { cell: "rnn", hidden: 128, embed: 64, dropout: 0.2 } as const;
const DEMO_TRAINING = { epochs: 8, batchSize: 50, lr: 3e-3, warmup: 20, lrDecay: 0.9 } as const;

export const generateStage: DemoStage = {
  name: "generate",
  summary: "train the multimodal RNN on whole images (and on region snippets); caption test images",
  async run(state, log) {
    const world = state.world;
    const store = state.features;
    if (!world || !store) throw new Error("the generate stage needs the world and features stages");
    const dataset = loadDataset(world.datasetPath);
    const vocabulary = buildVocabulary(dataset);
    const { data, normalizer } = normalizeCaptionData(
      loadCaptionData(dataset, store, vocabulary, { mode: "fullframe" }),
    );
    const dir = join(state.options.out, "generator");
    const progress = new Progress({
      label: "training",
      total: data.splits.train.sentences.length * DEMO_TRAINING.epochs,
      unit: "sentences",
    });
    const result = trainGenerator({
      data,
      mode: "fullframe",
      vocabulary,
      normalizer,
      model: DEMO_MODEL,
      training: DEMO_TRAINING,
      out: join(dir, "fullframe"),
      onIteration: (n, status) => progress.tick(n, status),
    });
    progress.finish();
    const test = data.splits.test;
    const settings = { beam: 7, lengthNormalization: 0, maxLength: 20 };
    const captions = decodeSplit([result.model], vocabulary, test, settings).captions;
    const ours = scoreSplit(test, captions);
    const nn = scoreSplit(
      test,
      nearestNeighbourCaptions(data.splits.train, test, data.dim).captions,
    );
    const s = result.speed;
    log(
      `vocabulary ${vocabulary.wordCount} words; ${s.sentences} training sentences at ` +
        `${(s.sentences / s.seconds).toFixed(0)} sentences/s; best val CIDEr-D ${pct(result.best?.cider ?? 0)}`,
    );
    log(
      `test (${test.targets.length} images, beam 7): CIDEr-D ${pct(ours.ciderD)}, BLEU-4 ${pct(ours.bleu4)}, ` +
        `METEOR ${pct(ours.meteor)}; nearest neighbour CIDEr-D ${pct(nn.ciderD)}`,
    );
    for (let i = 0; i < Math.min(3, test.targets.length); i++) {
      log(`  ${test.targets[i].filename}: "${captions[i].join(" ")}"`);
      log(
        `  ${"".padEnd(test.targets[i].filename.length)}  (a reference: "${test.targets[i].references[0].join(" ")}")`,
      );
    }
    if (state.snippets) regionCaptions(state.snippets, dataset, store, vocabulary, dir, test, log);
    log(`generator checkpoints: ${dir}`);
  },
};

/** Region mode on the MRF stage's train snippets; a few regions of test images captioned. */
function regionCaptions(
  snippetFile: string,
  dataset: Dataset,
  store: FeatureStore,
  vocabulary: Vocabulary,
  dir: string,
  fullTest: CaptionSplit,
  log: (line: string) => void,
): void {
  const snippets = readSnippets(snippetFile);
  const raw = loadCaptionData(dataset, store, vocabulary, { mode: "region", snippets });
  if (raw.splits.train.sentences.length === 0) return;
  const { data, normalizer } = normalizeCaptionData(raw);
  const result = trainGenerator({
    data,
    mode: "region",
    vocabulary,
    normalizer,
    model: DEMO_MODEL,
    training: { ...DEMO_TRAINING, valCaptions: 1 },
    out: join(dir, "region"),
  });
  log(
    `region model: ${data.splits.train.sentences.length} train snippets; regions of the first test image:`,
  );
  const image = store.get(fullTest.targets[0].filename);
  if (!image) return;
  for (let r = 1; r <= 3; r++) {
    const feature = normalizer.apply(image.features.subarray(r * data.dim, (r + 1) * data.dim));
    log(
      `  region ${r} ${boxText(image.regions[r].box)}: "${caption(result.model, feature, vocabulary)}"`,
    );
  }
}

function caption(model: CaptionModel, feature: Float32Array, vocabulary: Vocabulary): string {
  const [best] = beamSearch(model.stepper(feature), { beam: 7, lengthNormalization: 0 });
  return vocabulary.decode(best.words).join(" ");
}

function boxText(b: { x1: number; y1: number; x2: number; y2: number }): string {
  return `[${[b.x1, b.y1, b.x2, b.y2].map((x) => Math.round(x)).join(", ")}]`;
}

const pct = (x: number) => (100 * x).toFixed(1);
