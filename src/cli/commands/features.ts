import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SPLITS, type Split } from "../../data/dataset.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { connectQueue, type QueueConnection } from "../../queue/connection.js";
import { JOB_ATTEMPTS, runQueuedFeatures } from "../../queue/feature-queue-run.js";
import { parseQueueUrl } from "../../queue/queue-url.js";
import { extractFeatures, type ImageJob } from "../../vision/extract.js";
import {
  type FeatureModelSpec,
  type FeatureModels,
  loadFeatureModels,
} from "../../vision/feature-models.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { DEFAULT_DETECTOR, loadModelConfig } from "../../vision/model-config.js";
import { ModelRegistry } from "../../vision/model-registry.js";
import { MAX_THREADS } from "../app-flags.js";
import type { Command } from "../command.js";
import { boundedInt, parseCommandArgs, positiveInt } from "../flags.js";
import { renderHelp } from "../help.js";
import { Progress } from "../progress.js";

/** Most images per shard: a shard is held in memory (100 KiB per image of 20 x 1280 floats). */
const MAX_SHARD = 4096;

const USAGE = renderHelp({
  usage: ["features --images DIR --out STORE [options]"],
  description: `Encodes every image as region feature vectors (the paper's 20 regions: the whole
    image and 19 chosen from the detections, boxes for the parts of people and fallback boxes, as
    the detector's config says) into a feature store (docs/feature-store.md). The store is written
    in shards as it goes; rerunning the same command resumes where a killed run stopped.
    Unreadable images are listed at the end and skipped.`,
  flags: [
    { flag: "--images DIR", text: "folder of image files" },
    {
      flag: "--dataset D",
      text: "dataset.json or Flickr8k folder: encode its images",
      default: "every image file in DIR",
    },
    {
      flag: "--split S",
      text: "only images of these splits (comma-separated: train,val,test,restval)",
    },
    { flag: "--out STORE", text: "feature store folder (created, or resumed if it exists)" },
    {
      flag: "--regions N",
      text: "regions per image, 1 to 20; 1 = whole image only, no detector",
      default: 20,
    },
    {
      flag: "--encoder E",
      text: "encoder preset, JSON config file, or pixel-stats (weight-free, for the demo)",
      default: "mobilenetv2-12-int8",
    },
    {
      flag: "--encoder-model FILE",
      text: "use this .onnx file for the encoder instead of the config's model",
    },
    {
      flag: "--detector D",
      text: `detector preset (yolox-nano-proposals: low-score boxes, person parts and wide
        fallbacks ranked by value; yolox-nano: the paper's top 19 boxes and grid fallbacks, as
        stores made before), JSON config file, or none`,
      default: DEFAULT_DETECTOR,
    },
    {
      flag: "--detector-model FILE",
      text: "use this .onnx file for the detector instead of the config's model",
    },
    {
      flag: "--threads N",
      text: `onnxruntime threads per model run, 1 to ${MAX_THREADS}`,
      default: 2,
    },
    {
      flag: "--shard N",
      text: `images per shard, the most a kill can lose, 1 to ${MAX_SHARD}`,
      default: 16,
    },
    { flag: "--limit N", text: "only the first N images", default: "all" },
    {
      flag: "--queue URL",
      text: `redis://HOST:PORT/NAME: enqueue a job per shard for 'imagesent worker' processes on
        any number of machines instead of encoding here, show their progress, and add their
        shards to the store as they finish (docs/queue.md)`,
    },
  ],
  notes: [
    "One run at a time writes a store: it holds STORE/LOCK, and a second is refused while the first lives.",
    `Models named in configs resolve through the model cache ($IMAGESENT_HOME/models, default
      ~/.cache/imagesent/models; see 'imagesent models').`,
  ],
  examples: [
    "features --dataset path/to/flickr8k --images path/to/flickr8k/images --out features/flickr8k-mnv2",
    "features --images photos --out features/photos --regions 1",
    "features --images /shared/photos --out /shared/features/photos --queue redis://10.0.0.5:6379/photos",
  ],
});

const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|gif|avif|heic)$/i;

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
  usage: USAGE,
  async run(args) {
    const values = parseCommandArgs(
      args,
      Object.fromEntries(
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
          "queue",
        ].map((k) => [k, { type: "string" as const }]),
      ),
      USAGE,
      { positionals: false },
    ).values as Record<string, string | undefined>;
    if (!values.images || !values.out)
      throw new InputError(`--images and --out are required\n\n${USAGE}`);
    // Every flag is checked before anything is loaded or written.
    const out = values.out;
    const regions = intFlag(values.regions, "--regions", 20, 20);
    const threads = intFlag(values.threads, "--threads", 2, MAX_THREADS);
    const imagesPerShard = intFlag(values.shard, "--shard", 16, MAX_SHARD);
    const limit = intFlag(values.limit, "--limit", Number.POSITIVE_INFINITY);
    const splits = parseSplits(values.split);
    const address = values.queue === undefined ? undefined : parseQueueUrl(values.queue);
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
    const spec: FeatureModelSpec = {
      encoder: encoderConfig && {
        ...encoderConfig,
        model: values["encoder-model"] ?? encoderConfig.model,
      },
      detector: detectorConfig && {
        ...detectorConfig,
        model: values["detector-model"] ?? detectorConfig.model,
      },
    };
    // Redis is reached before anything is loaded or written, so a wrong address costs nothing.
    const connection = address && (await connectQueue(address));
    let models: FeatureModels | undefined;
    let store: FeatureStore | undefined;
    try {
      models = await loadFeatureModels(spec, registry, threads);
      const { encoder, detector } = models;
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
      if (connection) {
        // The workers run the models; this process only plans, waits and adds their shards.
        await models.close();
        return await runOnQueue(connection, opened, jobs, {
          imagesPerShard,
          regions,
          models: withAbsoluteModelPaths(spec),
        });
      }
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
      await models?.close();
      await connection?.close();
    }
  },
};

/**
 * A model config's file path made absolute, so that workers started in other folders find the
 * same file (a model-cache name is left as it is: each worker resolves it in its own cache).
 */
function withAbsoluteModelPaths(spec: FeatureModelSpec): FeatureModelSpec {
  const absolute = <T extends { readonly model: string }>(c: T | undefined): T | undefined =>
    c && existsSync(c.model) && statSync(c.model).isFile() ? { ...c, model: resolve(c.model) } : c;
  return { encoder: absolute(spec.encoder), detector: absolute(spec.detector) };
}

/**
 * features --queue: enqueues a job per shard, shows the workers' progress, adds their shards to
 * the store as they finish and reports what failed (exit 1 when anything did).
 */
async function runOnQueue(
  connection: QueueConnection,
  store: FeatureStore,
  jobs: readonly ImageJob[],
  options: { imagesPerShard: number; regions: number; models: FeatureModelSpec },
): Promise<number> {
  let progress: Progress | undefined;
  const result = await runQueuedFeatures({
    connection,
    store,
    images: jobs,
    ...options,
    onPlanned: (total) => {
      progress = new Progress({ label: "features", total, unit: "images" });
    },
    onImages: (n) => progress?.tick(n),
    log: (line) => console.error(line),
  });
  progress?.finish();
  const failedImages = result.failedJobs.reduce((n, j) => n + j.images.length, 0);
  console.error(
    `features: wrote ${result.written}, kept ${result.kept} already stored, ${result.failures.length + failedImages} failed; store has ${store.size} images`,
  );
  for (const f of result.failures) console.error(`  failed: ${f.error}`);
  for (const job of result.failedJobs) {
    console.error(
      `  failed: job ${job.id} (${job.images.length} images) failed ${JOB_ATTEMPTS} times: ${job.error}`,
    );
    for (const filename of job.images) console.error(`    ${filename}`);
  }
  return result.failures.length + result.failedJobs.length > 0 ? 1 : 0;
}
