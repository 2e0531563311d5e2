import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { Detector } from "../../vision/detector.js";
import { extractFeatures, type ImageJob } from "../../vision/extract.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { loadModelConfig } from "../../vision/model-config.js";
import { ModelRegistry } from "../../vision/model-registry.js";
import { OnnxEncoder } from "../../vision/onnx-encoder.js";
import { PixelStatsEncoder } from "../../vision/pixel-stats-encoder.js";
import type { RegionEncoder } from "../../vision/region-encoder.js";
import type { Command } from "../command.js";
import { Progress } from "../progress.js";

const USAGE = `usage: imagesent features --images DIR --out STORE [options]

Encodes every image as region feature vectors (the paper's 20 regions: the whole image, the top
19 detections, fallback boxes when there are fewer) into a feature store (docs/feature-store.md).
The store is written in shards as it goes; rerunning the same command resumes where a killed run
stopped. Unreadable images are listed at the end and skipped.

  --images DIR          folder of image files
  --dataset D           dataset.json or Flickr8k folder: encode its images (default: every image
                        file in DIR)
  --split S             only images of these splits (comma-separated: train,val,test,restval)
  --out STORE           feature store folder (created, or resumed if it exists)
  --regions N           regions per image: 20 (default) or fewer; 1 = whole image only, no detector
  --encoder E           encoder preset (mobilenetv2-12-int8, default), JSON config file, or
                        pixel-stats (weight-free, for the demo)
  --encoder-model FILE  use this .onnx file for the encoder instead of the config's model
  --detector D          detector preset (yolox-nano, default), JSON config file, or none
  --detector-model FILE use this .onnx file for the detector instead of the config's model
  --threads N           onnxruntime threads per model run (default 2)
  --shard N             images per shard, the most a kill can lose (default 16)
  --limit N             only the first N images

Models named in configs resolve through the model cache ($IMAGESENT_HOME/models, default
~/.cache/imagesent/models; see 'imagesent models').`;

const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|gif|avif|heic)$/i;

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

/** The images to encode: those of the dataset (or every image file of the folder). */
function listJobs(
  images: string,
  dataset: string | undefined,
  splits: string[] | undefined,
): ImageJob[] {
  if (!existsSync(images) || !statSync(images).isDirectory())
    throw new InputError(`${images}: not a folder`);
  if (!dataset) {
    if (splits) throw new InputError("--split needs --dataset");
    return readdirSync(images)
      .filter((f) => IMAGE_EXT.test(f))
      .sort()
      .map((filename) => ({ filename, id: -1, path: join(images, filename) }));
  }
  const ds = loadDataset(dataset);
  return ds.images
    .filter((im) => !splits || splits.includes(im.split))
    .map((im) => ({ filename: im.filename, id: im.id, path: join(images, im.filename) }));
}

export const featuresCommand: Command = {
  name: "features",
  summary: "encode images as 20 region feature vectors (detector + CNN) into a feature store",
  usage: USAGE,
  async run(args) {
    let values: Record<string, string | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: Object.fromEntries(
          [
            "images",
            "dataset",
            "split",
            "out",
            "regions",
            "encoder",
            "encoder-model",
            "detector",
            "detector-model",
            "threads",
            "shard",
            "limit",
          ].map((k) => [k, { type: "string" as const }]),
        ),
        strict: true,
        allowPositionals: false,
      }) as { values: Record<string, string | undefined> });
    } catch (err) {
      throw new InputError(`${(err as Error).message}\n\n${USAGE}`);
    }
    if (!values.images || !values.out)
      throw new InputError(`--images and --out are required\n\n${USAGE}`);
    const regions = positiveInt(values.regions, "--regions", 20);
    if (regions > 20) throw new InputError(`--regions must be at most 20, got ${regions}`);
    const threads = positiveInt(values.threads, "--threads", 2);
    const splits = values.split?.split(",").map((s) => s.trim());
    let jobs = listJobs(values.images, values.dataset, splits);
    if (values.limit !== undefined) jobs = jobs.slice(0, positiveInt(values.limit, "--limit", 0));

    const registry = new ModelRegistry();
    const encoderName = values.encoder ?? "mobilenetv2-12-int8";
    let encoder: RegionEncoder;
    if (encoderName === "pixel-stats") encoder = new PixelStatsEncoder();
    else {
      const config = loadModelConfig(encoderName, "encoder");
      const model = values["encoder-model"] ?? config.model;
      encoder = await OnnxEncoder.load({ ...config, model }, registry, { threads });
    }
    const detectorName = values.detector ?? "yolox-nano";
    let detector: Detector | undefined;
    if (regions > 1 && detectorName !== "none") {
      const config = loadModelConfig(detectorName, "detector");
      const model = values["detector-model"] ?? config.model;
      detector = await Detector.load({ ...config, model }, registry, { threads });
    }
    try {
      const store = FeatureStore.openForWriting(values.out, {
        encoder: encoder.name,
        dim: encoder.dim,
        regionsPerImage: regions,
        detector: detector?.name ?? null,
      });
      const left = jobs.filter((j) => !store.has(j.filename)).length;
      console.error(
        `features: ${jobs.length} images, ${jobs.length - left} already in ${values.out}; encoder ${encoder.name} (${encoder.dim}-d), ${regions} regions${detector ? `, detector ${detector.name}` : ""}`,
      );
      const progress = new Progress({ label: "features", total: left, unit: "images" });
      const result = await extractFeatures(jobs, store, {
        encoder,
        detector,
        regions,
        imagesPerShard: positiveInt(values.shard, "--shard", 16),
        onImage: () => progress.tick(),
      });
      progress.finish();
      console.error(
        `features: wrote ${result.written}, kept ${result.skipped} already stored, ${result.failures.length} failed; store has ${store.size} images`,
      );
      for (const f of result.failures) console.error(`  failed: ${f.error}`);
      return result.failures.length > 0 ? 1 : 0;
    } finally {
      await encoder.close();
      await detector?.close();
    }
  },
};
