import { existsSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { loadSplitFeatures } from "../../align/image-features.js";
import { retrievalMetrics, splitSentences } from "../../align/retrieval.js";
import { type ReportRow, retrievalMarkdown } from "../../align/retrieval-report.js";
import { AlignmentFusion, isFusionPath } from "../../align/score-fusion.js";
import { formatRetrieval } from "../../align/train.js";
import { BUNDLE_FILE, BundleCache, loadBundle, type ModelBundle } from "../../app/model-bundle.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { SPLITS, type Split } from "../../data/dataset.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { JsonFields, readJsonFile } from "../../json-fields.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

const USAGE = renderHelp({
  usage: [
    "eval-retrieval --model CKPT|FUSION.json|BUNDLE [--model ...] --dataset D --features STORE [--split test] [--json] [--markdown FILE]",
  ],
  description: `Image-sentence retrieval by the protocol of the paper's Table 1: image annotation
    (each image ranks every sentence of the split) and image search (each sentence ranks every
    image), R@1/5/10 and median rank. Several models (say the 20-region one and the whole-image
    one) give one row each.`,
  flags: [
    {
      flag: "--model M",
      text: `an alignment model (train-align's best.ckpt), a fusion of models (fuse-align's
        FUSION.json), or a model bundle (its folder, or a name in the bundle cache or among the
        packaged bundles, e.g. flickr8k): scored as search scores with it, its searchFusion or its
        alignment model alone; repeat for more rows`,
    },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--features STORE",
      text: "the feature store of the dataset's images (only the --split images are read)",
    },
    { flag: "--split S", text: "train, val or test", default: "test" },
    { flag: "--json", text: "print the results as JSON" },
    {
      flag: "--markdown FILE",
      text: `write the table beside the paper's Flickr8K row, with each run's training time and
        speed (from summary.json beside the checkpoint)`,
    },
  ],
  examples: [
    "eval-retrieval --model flickr8k --dataset path/to/flickr8k --features features/flickr8k-mnv2",
    "eval-retrieval --model runs/flickr8k/align/best.ckpt --model runs/flickr8k/align-whole/best.ckpt --dataset path/to/flickr8k --features features/flickr8k-mnv2 --split val",
  ],
});

export const evalRetrievalCommand: Command = {
  name: "eval-retrieval",
  usage: USAGE,
  run(args) {
    const values = parseCommandArgs(
      args,
      {
        model: { type: "string", multiple: true },
        dataset: { type: "string" },
        features: { type: "string" },
        split: { type: "string" },
        json: { type: "boolean" },
        markdown: { type: "string" },
      },
      USAGE,
      { positionals: false },
    ).values as {
      model?: string[];
      dataset?: string;
      features?: string;
      split?: string;
      json?: boolean;
      markdown?: string;
    };
    if (!values.model?.length || !values.dataset || !values.features) {
      throw new InputError(`--model, --dataset and --features are required\n\n${USAGE}`);
    }
    const split = (values.split ?? "test") as Split;
    if (!SPLITS.includes(split))
      throw new InputError(`--split: expected one of ${SPLITS.join(", ")}, got '${split}'`);
    const dataset = loadDataset(values.dataset);
    const store = FeatureStore.open(values.features);
    const rows: (ReportRow & { model: string })[] = [];
    for (const path of values.model) {
      const bundleDir = bundleFolder(path);
      const bundle = bundleDir === null ? null : loadBundle(bundleDir);
      const fused = bundle === null && isFusionPath(path);
      const scorer =
        bundle?.search ?? (fused ? AlignmentFusion.load(path) : AlignmentFusion.ofCheckpoint(path));
      checkStoreFits(store, scorer, values.features, bundle);
      const data = loadSplitFeatures(store, dataset, [split], scorer.regions).get(split)!;
      if (data.missing.length > 0) {
        throw new InputError(
          `${values.features}: lacks ${data.missing.length} ${split} images (e.g. ${data.missing[0]}); ` +
            "the protocol needs all of them",
        );
      }
      if (data.images.length < 2)
        throw new InputError(`${values.dataset}: the ${split} split has fewer than 2 images`);
      const { sentences, imageOf } = splitSentences(data.images);
      const scores = scorer.scores(data.features, data.images.length, sentences);
      const result = retrievalMetrics(scores, data.images.length, imageOf);
      const encoder = store.meta.encoder.split(":")[1] ?? store.meta.encoder;
      if (bundle) {
        rows.push({ model: path, label: bundleLabel(bundle, encoder), result });
      } else if (fused) {
        const parts = scorer.members.map((m, i) => {
          const w = scorer.tuning?.relativeWeights[i];
          const what = describeRun(m.checkpoint, m.model.config.regions);
          return w === undefined || w === 1 ? what : `${w} x ${what}`;
        });
        const minutes = lineageSeconds(scorer.members.map((m) => m.checkpoint)) / 60;
        rows.push({
          model: path,
          label: `ours, fused: ${parts.join(" + ")} (${encoder}; weights tuned on ${scorer.tuning?.split ?? "?"})`,
          result,
          note:
            `the fused models, with the runs they were fine-tuned from, trained for ` +
            `${minutes.toFixed(0)} min of wall time in all`,
        });
      } else {
        const summary = readSummary(join(dirname(path), "summary.json"));
        rows.push({
          model: path,
          label: `ours, ${describeRun(path, scorer.regions)} (${encoder})`,
          result,
          ...(summary ? { training: summary.training } : {}),
        });
      }
      if (!values.json) console.log(`${path}: ${formatRetrieval(result)}`);
    }
    if (values.json) {
      console.log(JSON.stringify({ split, rows }, null, 2));
    }
    if (values.markdown) {
      mkdirSync(dirname(values.markdown), { recursive: true });
      writeFileAtomic(values.markdown, retrievalMarkdown(rows, split, dataset.name));
      if (!values.json) console.log(`wrote ${values.markdown}`);
    }
    return 0;
  },
};

/**
 * The bundle folder a --model value names, or null when it names a checkpoint or fusion file: a
 * folder is a bundle; so is a bare name (no path separator, not a file, not ending in .ckpt or
 * .json), looked up in the bundle cache and among the packaged bundles (BundleCache.resolve,
 * whose error lists them).
 */
export function bundleFolder(value: string, cache = new BundleCache()): string | null {
  if (existsSync(value)) {
    if (!statSync(value).isDirectory()) return null;
    if (!existsSync(join(value, BUNDLE_FILE))) {
      throw new InputError(`${value}: a folder, but not a model bundle (no ${BUNDLE_FILE})`);
    }
    return resolve(value);
  }
  if (value.includes("/") || value.includes("\\") || /\.(ckpt|json)$/.test(value)) return null;
  return cache.resolve(value);
}

/**
 * Refuses a store whose codes the scorer cannot read (another size, too few regions); a bundle
 * whose vision setup names another encoder than the store's gets a warning, since same-sized
 * codes of another encoder score without error and mean nothing.
 */
export function checkStoreFits(
  store: FeatureStore,
  scorer: AlignmentFusion,
  where: string,
  bundle: ModelBundle | null,
): void {
  const dim = scorer.members[0].model.config.featureDim;
  if (store.meta.dim !== dim) {
    throw new InputError(
      `${where}: ${store.meta.dim}-d features, ${scorer.members[0].checkpoint} takes ${dim}-d`,
    );
  }
  const encoder = bundle?.manifest.vision.encoder;
  if (typeof encoder === "string" && !store.meta.encoder.includes(encoder)) {
    console.error(
      `warning: ${where} was made with ${store.meta.encoder}, the bundle ${bundle!.dir} with ${encoder}`,
    );
  }
}

/** A bundle's row: its name and what search scores with (the fusion's weights, as stored). */
function bundleLabel(bundle: ModelBundle, encoder: string): string {
  const { members } = bundle.search;
  const what = (m: (typeof members)[number]) => describeRun(m.checkpoint, m.model.config.regions);
  const scorer =
    members.length === 1
      ? what(members[0])
      : `fused: ${members.map((m) => `${Number(m.weight.toPrecision(3))} x ${what(m)}`).join(" + ")}`;
  return `bundle ${basename(bundle.dir)}: ${scorer} (${encoder}; as search scores)`;
}

/**
 * A run's short description: its regions, the seed its first run started from when not 1 (a
 * fine-tuned run follows its init back), the hardest-negative loss.
 */
function describeRun(checkpoint: string, regions: number): string {
  const summary = readSummary(join(dirname(checkpoint), "summary.json"));
  let root = summary;
  for (let hops = 0; root?.init && hops < 10; hops++) {
    const parent = readSummary(join(dirname(root.init), "summary.json"));
    if (!parent) break;
    root = parent;
  }
  const what = regions === 1 ? "whole image only" : `${regions} regions`;
  const seed = root && root.seed !== 1 ? `, seed ${root.seed}` : "";
  const hard = summary?.loss === "hardest" ? ", hardest negatives" : "";
  return `${what}${seed}${hard}`;
}

/**
 * Wall time of the runs that made these checkpoints and of the runs they were fine-tuned from
 * (summary.json's init), each run counted once; runs without a summary count 0.
 */
function lineageSeconds(checkpoints: readonly string[]): number {
  const seen = new Set<string>();
  let total = 0;
  const visit = (checkpoint: string) => {
    const dir = resolve(dirname(checkpoint));
    if (seen.has(dir)) return;
    seen.add(dir);
    const summary = readSummary(join(dir, "summary.json"));
    if (!summary) return;
    total += summary.training.wallSeconds;
    if (summary.init) visit(summary.init);
  };
  for (const c of checkpoints) visit(c);
  return total;
}

/** The training record train-align writes beside its checkpoints, if there is one. */
function readSummary(path: string): {
  loss: string;
  seed: number;
  init: string | null;
  training: NonNullable<ReportRow["training"]>;
} | null {
  if (!existsSync(path)) return null;
  const s = JsonFields.of(readJsonFile(path), path);
  const train = s.child("train");
  const model = s.child("model");
  // Runs from before --loss and --init lack those fields: the paper's loss, from scratch.
  const loss = train.string("loss", { fallback: "sum" });
  const count = { integer: true, min: 0 };
  return {
    loss,
    seed: train.number("seed", { integer: true }, 1),
    init: s.get("init") == null ? null : s.string("init"),
    training: {
      wallSeconds: s.number("wallSeconds", { min: 0 }),
      trainSeconds: s.number("trainSeconds", { min: 0 }),
      sentencesPerSecond: s.number("sentencesPerSecond", { min: 0 }),
      epochs: s.number("epochs", count),
      bestEpoch: s.get("best") === null ? null : s.child("best").number("epoch", count),
      settings:
        `h ${model.number("embed", count)}, hidden ${model.number("hidden", count)}, ` +
        `lr ${train.number("lr")} (x${train.number("lrDecay")}/epoch), ` +
        `wd ${train.number("weightDecay")}, dropout ${train.number("dropout")}, ${loss} loss`,
    },
  };
}
