/**
 * Describe latency: one image end to end (decode, detect, 20 region features, the whole-image
 * caption at beam 7, 19 region captions) through a Describer over a bundle, on the full-size
 * photos of $IMAGESENT_SHARED (default ../shared)/data/flickr8k/originals with MobileNetV2 int8
 * and YOLOX-Nano from $IMAGESENT_SHARED/models. The bundle's models have the paper's sizes
 * (generator hidden 512, Flickr8k's vocabulary, 1280-d codes) and untrained weights: latency
 * does not depend on the weights, only on the shapes and on how long the captions are. The
 * untrained generator never predicts END, so every caption and region phrase is decoded to a
 * fixed length: Flickr8k's mean caption length (--words N to choose). A second bundle of the
 * packaged one's shape reranks the caption's beam of DEFAULT_RERANK_BEAM and each region's beam
 * of DEFAULT_REGION_RERANK with three alignment models (20 regions, whole image, 20 regions), as
 * the Flickr8k bundle does; its caption and region steps are timed too. `--bundle B` times a
 * trained bundle as well (its own decoding; models from the user's cache), whose phrases are as
 * long as its generator makes them. Prints medians per step and, with --json, one JSON object on the last line.
 */

import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_ALIGNMENT_CONFIG } from "../src/align/config.js";
import { AlignmentModel } from "../src/align/model.js";
import { AlignmentFusion } from "../src/align/score-fusion.js";
import { DEFAULT_REGION_BEAM, Describer, type ImageDescription } from "../src/app/describer.js";
import { type WriteBundleOptions, writeBundle } from "../src/app/model-bundle.js";
import { openVisionModels, type VisionSetup } from "../src/app/vision-setup.js";
import { saveCheckpoint } from "../src/core/checkpoint.js";
import { kernels } from "../src/core/kernels/index.js";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/load.js";
import { BOUNDARY, buildVocabulary, Vocabulary } from "../src/data/vocabulary.js";
import { DEFAULT_RERANK_BEAM, DEFAULT_RERANK_WEIGHT } from "../src/generate/alignment-rerank.js";
import { createCaptionModel } from "../src/generate/create-model.js";
import { DEFAULT_BEAM } from "../src/generate/decoding.js";
import { DEFAULT_REGION_RERANK } from "../src/generate/region-phrases.js";
import { DEFAULT_TRAINING, type GeneratorConfig } from "../src/generate/train.js";
import { packageRoot } from "../src/package-root.js";
import { decodeImage } from "../src/vision/decode.js";
import { FeatureNormalizer } from "../src/vision/feature-normalizer.js";
import { ModelRegistry } from "../src/vision/model-registry.js";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "30" },
    words: { type: "string" },
    threads: { type: "string", default: "2" },
    bundle: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const imageCount = Number(values.images);
const threads = Number(values.threads);

const shared = process.env.IMAGESENT_SHARED ?? join(packageRoot, "..", "shared");
const originals = join(shared, "data/flickr8k/originals");
const flickr8k = join(shared, "data/flickr8k");
const encoderModel = join(shared, "models/mobilenetv2-12-int8.onnx");
const detectorModel = join(shared, "models/yolox_nano.onnx");
for (const p of [originals, encoderModel, detectorModel]) {
  if (!existsSync(p)) {
    console.error(`bench:describe: ${p} not found (set IMAGESENT_SHARED); skipping`);
    process.exit(0);
  }
}

const VISION: VisionSetup = {
  encoder: "mobilenetv2-12-int8",
  encoderModel,
  detector: "yolox-nano",
  detectorModel,
  regions: 20,
};
/** A bundle names its model files inside its folder (they are copied there). */
const BUNDLE_VISION: VisionSetup = {
  ...VISION,
  encoderModel: basename(encoderModel),
  detectorModel: basename(detectorModel),
};
const FEATURE_DIM = 1280;
/** Flickr8k's mean train caption length, used when its captions are absent. */
const STAND_IN_CAPTION_WORDS = 11.8;
/** Beams the region captions are timed at, besides the Describer's default. */
const REGION_BEAMS = [1, 3, 7];

const paths = readdirSync(originals)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort()
  .slice(0, imageCount + 3)
  .map((f) => join(originals, f));

/** Flickr8k's train vocabulary and mean caption length, or stand-ins when the captions are absent. */
function vocabulary(): { vocabulary: Vocabulary; source: string; meanWords: number } {
  if (
    existsSync(join(flickr8k, "Flickr8k.token.txt")) ||
    existsSync(join(flickr8k, "dataset_flickr8k.json"))
  ) {
    const dataset = loadDataset(flickr8k);
    const train = dataset.images
      .filter((im) => im.split === "train")
      .flatMap((im) => im.sentences.map((s) => s.tokens.length));
    return {
      vocabulary: buildVocabulary(dataset),
      source: "flickr8k train vocabulary",
      meanWords: mean(train),
    };
  }
  const words = Array.from({ length: 2535 }, (_, i) => `w${i}`);
  return {
    vocabulary: Vocabulary.fromSentences([words], { minCount: 1 }),
    source: "2535 stand-in words",
    meanWords: STAND_IN_CAPTION_WORDS,
  };
}

/** A bundle of untrained models of the paper's sizes, its normaliser fitted on real codes. */
async function untrainedBundle(
  dir: string,
): Promise<{ source: string; vocabSize: number; meanWords: number }> {
  const vision = await openVisionModels(VISION, {
    registry: new ModelRegistry(join(dir, "no-cache")),
    threads,
  });
  const codes: Float32Array[] = [];
  for (const path of paths.slice(0, 4)) {
    const image = await decodeImage(path);
    codes.push(
      await vision.encoder.encode(image, [{ x1: 0, y1: 0, x2: image.width, y2: image.height }]),
    );
  }
  await vision.encoder.close();
  await vision.detector?.close();
  const normalizer = FeatureNormalizer.fit(codes, FEATURE_DIM);
  const { vocabulary: vocab, source, meanWords } = vocabulary();
  const rng = new Rng(1);
  const alignmentModel = (regions: number, seed: number) =>
    new AlignmentModel(
      { ...DEFAULT_ALIGNMENT_CONFIG, featureDim: FEATURE_DIM, vocabSize: vocab.size, regions },
      vocab,
      normalizer,
      seed,
    );
  const fusion = new AlignmentFusion(
    [20, 1, 20].map((regions, i) => {
      const checkpoint = join(dir, `alignment-${i + 1}.ckpt`);
      const model = alignmentModel(regions, i + 1);
      model.save(checkpoint);
      return { model, checkpoint, weight: 0.5 };
    }),
  );
  fusion.save(join(dir, "fusion.json"));
  const config: GeneratorConfig = {
    kind: "imagesent-generator",
    mode: "fullframe",
    model: {
      cell: "rnn",
      featureDim: FEATURE_DIM,
      vocabSize: vocab.size,
      hidden: 512,
      embed: 512,
      dropout: 0.5,
    },
    training: DEFAULT_TRAINING,
  };
  // END never wins, so every caption runs to the Describer's maxLength: a chosen, fixed length.
  const biases = vocab.logFrequencies();
  biases[BOUNDARY] = -1e4;
  const generator = createCaptionModel(config.model, rng, biases);
  saveCheckpoint(join(dir, "generator.ckpt"), {
    params: generator.params,
    config,
    vocabulary: vocab.toJSON(),
    meta: { normalizer: normalizer.toJSON() },
  });
  const bundle = (name: string, options: Omit<WriteBundleOptions, "vision">) => {
    const out = join(dir, name);
    writeBundle(out, { ...options, vision: BUNDLE_VISION });
    for (const model of [encoderModel, detectorModel])
      copyFileSync(model, join(out, basename(model)));
  };
  bundle("bundle", {
    alignment: join(dir, "alignment-1.ckpt"),
    generator: join(dir, "generator.ckpt"),
    regionGenerator: join(dir, "generator.ckpt"),
  });
  bundle("bundle-rerank", {
    alignment: join(dir, "fusion.json"),
    generator: join(dir, "generator.ckpt"),
    regionGenerator: join(dir, "generator.ckpt"),
    captionRerank: { weight: DEFAULT_RERANK_WEIGHT, beam: DEFAULT_RERANK_BEAM },
    regionRerank: DEFAULT_REGION_RERANK,
  });
  return { source, vocabSize: vocab.size, meanWords };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * `regionBeam` and `maxLength` undefined: the bundle's and the Describer's; `userCache`: models from
 * the user's model cache (for a real bundle that names its models by preset).
 */
async function timeDescriber(
  bundle: string,
  regionBeam: number | undefined,
  maxLength: number | undefined,
  images: readonly string[],
  userCache = false,
): Promise<ImageDescription[]> {
  const describer = await Describer.load(bundle, {
    ...(regionBeam === undefined ? {} : { regionBeam }),
    ...(maxLength === undefined ? {} : { maxLength }),
    threads,
    ...(userCache ? {} : { registry: new ModelRegistry(join(bundle, "no-cache")) }),
  });
  try {
    for (const path of paths.slice(0, 3)) await describer.describe(path); // warm-up
    const out: ImageDescription[] = [];
    for (const path of images) out.push(await describer.describe(path));
    return out;
  } finally {
    await describer.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-bench-describe-"));
  try {
    const { source, vocabSize, meanWords } = await untrainedBundle(dir);
    const length = values.words === undefined ? Math.round(meanWords) : Number(values.words);
    const bundle = join(dir, "bundle");
    const measured = paths.slice(3);
    const byBeam = new Map<number, ImageDescription["millis"][]>();
    const words = (caption: string | undefined) =>
      (caption ?? "").split(" ").filter(Boolean).length;
    let captionWords = 0;
    let regionWords = 0;
    for (const beam of REGION_BEAMS) {
      const described = await timeDescriber(bundle, beam, length, measured);
      byBeam.set(
        beam,
        described.map((d) => d.millis),
      );
      if (beam !== DEFAULT_REGION_BEAM) continue;
      captionWords = mean(described.map((d) => words(d.caption)));
      regionWords = mean(described.flatMap((d) => d.regions.map((r) => words(r.caption))));
    }
    const reranked = await timeDescriber(join(dir, "bundle-rerank"), undefined, length, measured);
    // A trained bundle's phrases end where its generator ends them: its real latency.
    const trained = values.bundle
      ? await timeDescriber(values.bundle, undefined, undefined, measured, true)
      : undefined;
    const runs = byBeam.get(DEFAULT_REGION_BEAM)!;
    const part = (key: keyof ImageDescription["millis"]) => median(runs.map((m) => m[key]));
    const result = {
      bench: "describe",
      kernels: kernels().name,
      threads,
      images: measured.length,
      vocabSize,
      vocabularySource: source,
      captionBeam: DEFAULT_BEAM,
      regionBeam: DEFAULT_REGION_BEAM,
      regionCaptionDecoding: "one batched beam search over the 19 regions",
      wordsPerCaption: length,
      meanCaptionWords: captionWords,
      meanRegionCaptionWords: regionWords,
      medianMs: {
        decode: part("decode"),
        detect: part("detect"),
        encode20Regions: part("encode"),
        caption: part("caption"),
        regionCaptions19: part("regionCaptions"),
        total: part("total"),
      },
      rerankedCaptionBeam: DEFAULT_RERANK_BEAM,
      rerankedRegionBeam: DEFAULT_REGION_RERANK.beam,
      rerankedMedianMs: {
        caption: median(reranked.map((d) => d.millis.caption)),
        regionCaptions19: median(reranked.map((d) => d.millis.regionCaptions)),
        total: median(reranked.map((d) => d.millis.total)),
      },
      ...(trained
        ? {
            bundle: values.bundle,
            bundleMedianMs: {
              caption: median(trained.map((d) => d.millis.caption)),
              regionCaptions19: median(trained.map((d) => d.millis.regionCaptions)),
              total: median(trained.map((d) => d.millis.total)),
            },
            bundleMeanRegionPhraseWords: mean(
              trained.flatMap((d) => d.regions.map((r) => words(r.phrase?.text))),
            ),
          }
        : {}),
      regionCaptionsMsByBeam: Object.fromEntries(
        REGION_BEAMS.map((b) => [b, median(byBeam.get(b)!.map((m) => m.regionCaptions))]),
      ),
      totalMsByRegionBeam: Object.fromEntries(
        REGION_BEAMS.map((b) => [b, median(byBeam.get(b)!.map((m) => m.total))]),
      ),
    };
    const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(9);
    console.log(
      `describe: median over ${measured.length} photos of ${originals}; untrained models of the paper's sizes (hidden 512, vocabulary ${vocabSize}: ${source}, ${FEATURE_DIM}-d codes)`,
    );
    console.log(
      `kernels ${result.kernels}, ${threads} onnxruntime threads; every caption and region phrase decoded to ${captionWords.toFixed(0)} and ${regionWords.toFixed(0)} words (Flickr8k's mean caption length; region phrases are shorter in practice, so their figure is an upper bound)`,
    );
    console.log(`  decode                       ${ms(result.medianMs.decode)}`);
    console.log(`  detect (YOLOX-Nano)          ${ms(result.medianMs.detect)}`);
    console.log(`  20 region features           ${ms(result.medianMs.encode20Regions)}`);
    console.log(`  caption (beam ${DEFAULT_BEAM})             ${ms(result.medianMs.caption)}`);
    console.log(
      `  19 region captions (beam ${DEFAULT_REGION_BEAM}) ${ms(result.medianMs.regionCaptions19)}  (one batched beam search)`,
    );
    console.log(`  total                        ${ms(result.medianMs.total)}  (target < 300 ms)`);
    console.log(
      `  caption (beam ${DEFAULT_RERANK_BEAM}) and 19 region phrases (beam ${DEFAULT_REGION_RERANK.beam}), each beam reranked by 3 alignment models: ${ms(result.rerankedMedianMs.caption)} and ${ms(result.rerankedMedianMs.regionCaptions19)}, total ${ms(result.rerankedMedianMs.total)}  (the Flickr8k bundle's setting)`,
    );
    if (result.bundleMedianMs) {
      console.log(
        `  ${values.bundle} (trained; its phrases ${result.bundleMeanRegionPhraseWords?.toFixed(1)} words): caption ${ms(result.bundleMedianMs.caption)}, 19 region phrases ${ms(result.bundleMedianMs.regionCaptions19)}, total ${ms(result.bundleMedianMs.total)}`,
      );
    }
    for (const b of REGION_BEAMS) {
      console.log(
        `  region beam ${b}: 19 region captions ${ms(result.regionCaptionsMsByBeam[b])}, total ${ms(result.totalMsByRegionBeam[b])}`,
      );
    }
    if (values.json) console.log(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
