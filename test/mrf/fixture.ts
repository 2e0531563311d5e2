import { join } from "node:path";
import { AlignmentModel } from "../../src/align/model.js";
import { Vocabulary } from "../../src/data/vocabulary.js";
import { decodeImage } from "../../src/vision/decode.js";
import { FeatureNormalizer } from "../../src/vision/feature-normalizer.js";
import { FeatureStore, type StoredImage } from "../../src/vision/feature-store.js";
import { PixelStatsEncoder } from "../../src/vision/pixel-stats-encoder.js";
import { type GeneratedWorld, generateWorld } from "../../src/world/generate.js";

export interface MrfFixture {
  readonly world: GeneratedWorld;
  readonly storeDir: string;
  readonly modelPath: string;
}

/**
 * A small synthetic world in `dir`, its world regions encoded by the pixel-statistics encoder
 * into a feature store, and an untrained (randomly initialised) alignment model saved beside it:
 * enough to run the phrase-alignment commands end to end.
 */
export async function makeFixture(dir: string, images = 10): Promise<MrfFixture> {
  const world = await generateWorld(join(dir, "world"), { images, seed: 3 });
  const encoder = new PixelStatsEncoder({ dim: 32 });
  const storeDir = join(dir, "features");
  const store = FeatureStore.openForWriting(storeDir, {
    encoder: encoder.name,
    dim: encoder.dim,
    regionsPerImage: 20,
    detector: null,
  });
  const stored: StoredImage[] = [];
  for (const image of world.world.images) {
    const rgb = await decodeImage(join(world.imagesDir, image.filename));
    const features = encoder.encodeSync(
      rgb,
      image.regions.map((r) => r.box),
    );
    stored.push({ ...image, width: rgb.width, height: rgb.height, features });
  }
  store.append(stored);
  const vocabulary = Vocabulary.fromSentences(
    world.world.images.flatMap((im) => im.sentences.map((s) => s.tokens)),
    { minCount: 1 },
  );
  const normalizer = FeatureNormalizer.fit(
    stored.map((s) => s.features),
    encoder.dim,
  );
  const model = new AlignmentModel(
    {
      featureDim: encoder.dim,
      regions: 20,
      embed: 16,
      hidden: 8,
      wordDim: 8,
      vocabSize: vocabulary.size,
      trainWordVectors: true,
    },
    vocabulary,
    normalizer,
  );
  const modelPath = join(dir, "model.ckpt");
  model.save(modelPath);
  return { world, storeDir, modelPath };
}
