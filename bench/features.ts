/**
 * Feature extraction speed on real photos (../shared/data/flickr8k/originals), for full-frame
 * features (1 region, no detector) and the paper's 20 regions (YOLOX-Nano + MobileNetV2 int8),
 * next to the bare onnxruntime time for the same model runs on ready-made tensors: the limit the
 * pipeline (decoding, detection decoding, cropping, storing) can approach.
 *
 *   npm run bench:features [-- --limit N] [-- --threads N] [-- --json]
 *
 * With --json the last line is one JSON object with every number.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageRoot } from "../src/package-root.js";
import { Detector } from "../src/vision/detector.js";
import { extractFeatures, type ImageJob } from "../src/vision/extract.js";
import { FeatureStore } from "../src/vision/feature-store.js";
import { DETECTOR_PRESETS, ENCODER_PRESETS } from "../src/vision/model-config.js";
import { ModelRegistry } from "../src/vision/model-registry.js";
import { OnnxEncoder } from "../src/vision/onnx-encoder.js";
import { addGraphOutputs, readOnnxGraph } from "../src/vision/onnx-proto.js";
import { onnxRuntime, openSession, readModelFile } from "../src/vision/onnx-session.js";
import { findQuantization } from "../src/vision/quantization.js";

const { values } = parseArgs({
  options: {
    limit: { type: "string", default: "100" },
    threads: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
  },
});
const limit = Number(values.limit);
const threads = Number(values.threads);

const shared = process.env.IMAGESENT_SHARED ?? join(packageRoot, "..", "shared");
const originals = join(shared, "data/flickr8k/originals");
const encoderModel = join(shared, "models/mobilenetv2-12-int8.onnx");
const detectorModel = join(shared, "models/yolox_nano.onnx");
for (const p of [originals, encoderModel, detectorModel]) {
  if (!existsSync(p)) {
    console.error(`bench:features: ${p} not found (set IMAGESENT_SHARED); skipping`);
    process.exit(0);
  }
}

const encoderConfig = { ...ENCODER_PRESETS["mobilenetv2-12-int8"], model: encoderModel };
const detectorConfig = { ...DETECTOR_PRESETS["yolox-nano"], model: detectorModel };
const registry = new ModelRegistry(join(tmpdir(), "imagesent-bench-no-cache"));

const jobs: ImageJob[] = readdirSync(originals)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort()
  .slice(0, limit)
  .map((filename) => ({ filename, id: -1, path: join(originals, filename) }));

interface Timing {
  /** Seconds for all jobs through the pipeline, and for the same model runs alone. */
  readonly pipeline: number;
  readonly bare: number;
  /** Median over chunks of pipeline / bare time, measured back to back. */
  readonly medianRatio: number;
}

/**
 * Times the pipeline and the bare model runs in alternating chunks of images, so that load from
 * other processes (the machine is shared) falls on both alike.
 */
async function measure(regions: number, chunk = 20): Promise<Timing> {
  const encoder = await OnnxEncoder.load(encoderConfig, registry, { threads });
  const detector =
    regions > 1 ? await Detector.load(detectorConfig, registry, { threads }) : undefined;
  const bareRun = await bareModels(regions);
  const dir = mkdtempSync(join(tmpdir(), "imagesent-bench-"));
  try {
    const store = FeatureStore.openForWriting(join(dir, "store"), {
      encoder: encoder.name,
      dim: encoder.dim,
      regionsPerImage: regions,
      detector: detector?.name ?? null,
    });
    const options = { encoder, detector, regions, imagesPerShard: 16 };
    // Warm-up: the first runs of a session allocate its buffers.
    await extractFeatures(jobs.slice(0, 2), store, options);
    await bareRun.once();
    let pipeline = 0;
    let bare = 0;
    const ratios: number[] = [];
    for (let start = 0; start < jobs.length; start += chunk) {
      const part = jobs
        .slice(start, start + chunk)
        .map((j) => ({ ...j, filename: `bench-${j.filename}` }));
      let t = performance.now();
      await extractFeatures(part, store, options);
      const p = performance.now() - t;
      t = performance.now();
      for (let i = 0; i < part.length; i++) await bareRun.once();
      const b = performance.now() - t;
      pipeline += p / 1000;
      bare += b / 1000;
      ratios.push(p / b);
    }
    ratios.sort((x, y) => x - y);
    return { pipeline, bare, medianRatio: ratios[ratios.length >> 1] };
  } finally {
    await encoder.close();
    await detector?.close();
    await bareRun.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same model runs as the pipeline makes for one image, on ready-made tensors. */
async function bareModels(regions: number) {
  const bytes = readModelFile(encoderModel);
  const graph = readOnnxGraph(bytes);
  const q = findQuantization(graph, encoderConfig.feature);
  const types = new Map(graph.elemTypes);
  if (q) types.set(encoderConfig.feature, q.elemType);
  const enc = await openSession(
    addGraphOutputs(bytes, [encoderConfig.feature], types),
    encoderModel,
    {
      threads,
    },
  );
  const det =
    regions > 1
      ? await openSession(readModelFile(detectorModel), detectorModel, { threads })
      : undefined;
  const e = encoderConfig.preprocess;
  const d = detectorConfig.preprocess;
  const ort = await onnxRuntime();
  const encInput = new ort.Tensor(
    "float32",
    new Float32Array(regions * 3 * e.width * e.height).fill(0.1),
    [regions, 3, e.height, e.width],
  );
  const detInput = new ort.Tensor("float32", new Float32Array(3 * d.width * d.height).fill(114), [
    1,
    3,
    d.height,
    d.width,
  ]);
  return {
    async once() {
      if (det) await det.run({ [det.inputNames[0]]: detInput });
      await enc.run({ [enc.inputNames[0]]: encInput }, [encoderConfig.feature]);
    },
    async close() {
      await enc.release();
      await det?.release();
    },
  };
}

const results: Record<string, number> = { images: jobs.length, threads };
for (const [name, regions] of [
  ["fullFrame", 1],
  ["regions20", 20],
] as const) {
  const t = await measure(regions);
  results[`${name}ImagesPerSecond`] = jobs.length / t.pipeline;
  results[`${name}BareImagesPerSecond`] = jobs.length / t.bare;
  results[`${name}OverBare`] = t.medianRatio;
  console.log(
    `${name === "fullFrame" ? "full frame (1 region)" : "20 regions           "} ${(jobs.length / t.pipeline).toFixed(1).padStart(6)} images/s   bare onnxruntime ${(jobs.length / t.bare).toFixed(1).padStart(6)} images/s   pipeline/bare ${t.medianRatio.toFixed(2)}x (median over chunks of 20)`,
  );
}
const flickr8k = 8091 / results.regions20ImagesPerSecond;
console.log(
  `${jobs.length} images of ${originals}, ${threads} onnxruntime threads; all 8091 Flickr8k images with 20 regions: ${(flickr8k / 60).toFixed(1)} min`,
);
if (values.json)
  console.log(JSON.stringify({ bench: "features", ...results, flickr8kMinutes: flickr8k / 60 }));
