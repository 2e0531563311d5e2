import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SPLITS, type Split } from "../../data/dataset.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { Detector } from "../../vision/detector.js";
import { extractFeatures, type ImageJob } from "../../vision/extract.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { DEFAULT_DETECTOR, loadModelConfig } from "../../vision/model-config.js";
import { ModelRegistry } from "../../vision/model-registry.js";
import { OnnxEncoder } from "../../vision/onnx-encoder.js";
import { PixelStatsEncoder } from "../../vision/pixel-stats-encoder.js";
import type { RegionEncoder } from "../../vision/region-encoder.js";
import { MAX_THREADS } from "../app-flags.js";
import type { Command } from "../command.js";
import { boundedInt, positiveInt } from "../flags.js";
import { Progress } from "../progress.js";

const USAGE = `usage: imagesent features --images DIR --out STORE [options]

Encodes every image as region feature vectors (the paper's 20 regions: the whole image and 19
chosen from the detections, boxes for the parts of people and fallback boxes, as the detector's
config says) into a feature store (docs/feature-store.md).
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
  --detector D          detector preset (yolox-nano-proposals, default: low-score boxes, person
                        parts and wide fallbacks ranked by value; yolox-nano: the paper's top 19
                        boxes and grid fallbacks, as stores made before), JSON config file, or none
  --detector-model FILE use this .onnx file for the detector instead of the config's model
  --threads N           onnxruntime threads per model run, 1 to 64 (default 2)
  --shard N             images per shard, the most a kill can lose, 1 to 4096 (default 16)
  --limit N             only the first N images

One run at a time writes a store: it holds STORE/LOCK, and a second is refused while the first
lives.

Models named in configs resolve through the model cache ($IMAGESENT_HOME/models, default
~/.cache/imagesent/models; see 'imagesent models').`;

const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|gif|avif|heic)$/i;

/** Most images per shard: a shard is held in memory (100 KiB per image of 20 x 1280 floats). */
const MAX_SHARD = 4096;

/** A flag's value as an integer in 1..max (digits only), or `fallback` when absent. */
function intFlag(value: string | undefined, flag: string, fallback: number, max?: number): number {
  if (value === undefined) return fallback;
  return max === undefined ? positiveInt(value, flag) : boundedInt(value, flag, max);
}

/** --split's comma-separated names, each one of SPLITS. */
function parseSplits(value: string | undefined): Split[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(",").map((s) => s.trim());
  for (const name of names) {
    if (!(SPLITS as readonly string[]).includes(name))
      throw new InputError(`--split: unknown split '${name}' (splits: ${SPLITS.join(", ")})`);
  }
  return names as Split[];
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
      // parseArgs explains over several lines; the error is one.
      throw new InputError(`${(err as Error).message.replace(/\n/g, " ")}\n\n${USAGE}`);
    }
    if (!values.images || !values.out)
      throw new InputError(`--images and --out are required\n\n${USAGE}`);
    // Every flag is checked before anything is loaded or written.
    const out = values.out;
    const regions = intFlag(values.regions, "--regions", 20, 20);
    const threads = intFlag(values.threads, "--threads", 2, MAX_THREADS);
    const imagesPerShard = intFlag(values.shard, "--shard", 16, MAX_SHARD);
    const limit = intFlag(values.limit, "--limit", Number.POSITIVE_INFINITY);
    const splits = parseSplits(values.split);
    if (existsSync(out) && !statSync(out).isDirectory())
      throw new InputError(
        `--out ${out}: exists and is not a folder (a feature store is a folder)`,
      );
    const jobs = listJobs(values.images, values.dataset, splits).slice(0, limit);

    const registry = new ModelRegistry();
    const encoderName = values.encoder ?? "mobilenetv2-12-int8";
    const detectorName = values.detector ?? DEFAULT_DETECTOR;
    const encoderConfig =
      encoderName === "pixel-stats" ? undefined : loadModelConfig(encoderName, "encoder");
    const detectorConfig =
      regions > 1 && detectorName !== "none"
        ? loadModelConfig(detectorName, "detector")
        : undefined;
    if (!encoderConfig && values["encoder-model"] !== undefined)
      throw new InputError("--encoder-model does not apply to --encoder pixel-stats");
    if (!detectorConfig && values["detector-model"] !== undefined)
      throw new InputError(
        "--detector-model does not apply: no detector runs (--detector none or --regions 1)",
      );
    const encoder: RegionEncoder = encoderConfig
      ? await OnnxEncoder.load(
          { ...encoderConfig, model: values["encoder-model"] ?? encoderConfig.model },
          registry,
          { threads },
        )
      : new PixelStatsEncoder();
    let detector: Detector | undefined;
    let store: FeatureStore | undefined;
    try {
      if (detectorConfig) {
        detector = await Detector.load(
          { ...detectorConfig, model: values["detector-model"] ?? detectorConfig.model },
          registry,
          { threads },
        );
      }
      const opened = FeatureStore.openForWriting(out, {
        encoder: encoder.name,
        dim: encoder.dim,
        regionsPerImage: regions,
        detector: detector?.name ?? null,
      });
      store = opened;
      const left = jobs.filter((j) => !opened.has(j.filename)).length;
      console.error(
        `features: ${jobs.length} images, ${jobs.length - left} already in ${values.out}; encoder ${encoder.name} (${encoder.dim}-d), ${regions} regions${detector ? `, detector ${detector.name}` : ""}`,
      );
      const progress = new Progress({ label: "features", total: left, unit: "images" });
      const result = await extractFeatures(jobs, opened, {
        encoder,
        detector,
        regions,
        imagesPerShard,
        onImage: () => progress.tick(),
      });
      progress.finish();
      console.error(
        `features: wrote ${result.written}, kept ${result.skipped} already stored, ${result.failures.length} failed; store has ${opened.size} images`,
      );
      for (const f of result.failures) console.error(`  failed: ${f.error}`);
      return result.failures.length > 0 ? 1 : 0;
    } finally {
      store?.close();
      await encoder.close();
      await detector?.close();
    }
  },
};
