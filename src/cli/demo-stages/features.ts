import { join } from "node:path";
import { decodeImage } from "../../vision/decode.js";
import { FeatureStore, type StoredImage } from "../../vision/feature-store.js";
import { PixelStatsEncoder } from "../../vision/pixel-stats-encoder.js";
import type { GeneratedWorld } from "../../world/generate.js";
import type { DemoStage } from "../commands/demo.js";
import { Progress } from "../progress.js";

/**
 * Encodes the 20 regions world.json lists for every image of a synthetic world with the
 * weight-free PixelStatsEncoder into a feature store at `dir` (resumable like any store: images
 * already there are skipped). Returns the store.
 */
export async function encodeWorldFeatures(
  world: GeneratedWorld,
  dir: string,
  onImage: () => void = () => {},
): Promise<FeatureStore> {
  const encoder = new PixelStatsEncoder();
  const { images } = world.world;
  const store = FeatureStore.openForWriting(dir, {
    encoder: encoder.name,
    dim: encoder.dim,
    regionsPerImage: images[0]?.regions.length ?? 20,
    detector: null,
  });
  let shard: StoredImage[] = [];
  for (const image of images) {
    if (store.has(image.filename)) {
      onImage();
      continue;
    }
    const rgb = await decodeImage(join(world.imagesDir, image.filename));
    const features = encoder.encodeSync(
      rgb,
      image.regions.map((r) => r.box),
    );
    shard.push({
      filename: image.filename,
      id: image.id,
      width: rgb.width,
      height: rgb.height,
      regions: image.regions,
      features,
    });
    if (shard.length === 64) {
      store.append(shard);
      shard = [];
    }
    onImage();
  }
  store.append(shard);
  return store;
}

export const featuresStage: DemoStage = {
  name: "features",
  summary: "encode each image's 20 regions with the weight-free pixel-statistics encoder",
  async run(state, log) {
    const world = state.world;
    if (!world) throw new Error("the features stage needs the world stage first");
    const dir = join(state.options.out, "features");
    const progress = new Progress({
      label: "encoding",
      total: world.world.images.length,
      unit: "images",
    });
    const store = await encodeWorldFeatures(world, dir, () => progress.tick());
    progress.finish();
    state.features = store;
    log(
      `${store.size} images x ${store.meta.regionsPerImage} regions x ${store.meta.dim}-d (${store.meta.encoder})`,
    );
    log(`feature store: ${dir}`);
  },
};
