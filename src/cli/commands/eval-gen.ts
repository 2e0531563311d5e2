import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { AlignmentFusion, isFusionPath } from "../../align/score-fusion.js";
import { loadBundle, type ModelBundle } from "../../app/model-bundle.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import {
  DEFAULT_RERANK_BEAM,
  DEFAULT_RERANK_WEIGHT,
  loadSplitRerank,
} from "../../generate/alignment-rerank.js";
import { loadCaptionData, normalizeCaptionData } from "../../generate/caption-data.js";
import {
  DEFAULT_BEAM,
  DEFAULT_LENGTH_NORMALIZATION,
  DEFAULT_MAX_LENGTH,
} from "../../generate/decoding.js";
import {
  type DecodeSettings,
  evaluateGenerator,
  type SplitRerank,
  settingName,
} from "../../generate/evaluate.js";
import {
  ensembleMember,
  type LoadedGenerator,
  loadGenerator,
} from "../../generate/load-generator.js";
import { formatEvaluationMarkdown } from "../../generate/report.js";
import { readSnippets } from "../../mrf/snippets.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberFlag, numberListFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";
import { Progress } from "../progress.js";
import { bundleFolder, checkStoreFits } from "./eval-retrieval.js";

/** Sample captions printed when --samples is not given. */
const DEFAULT_SAMPLES = 6;

const USAGE = renderHelp({
  usage: ["eval-gen --model CKPT|BUNDLE --dataset D --features STORE [options]"],
  description: `Captions every target of a split with a trained generator and scores it as the
    paper's Table 2: BLEU-1..4, METEOR, ROUGE-L and CIDEr-D at beam 1 and at --beam, with the
    nearest-neighbour baseline (the caption of the closest training image by CNN-code distance) in
    the same table, plus perplexity, the share of captions found verbatim in train, and latency
    per caption. Tune decoding on val; run test once per final model. Only the --split images'
    codes are needed; without the train images' codes the nearest-neighbour baseline is skipped
    (said so).`,
  flags: [
    { flag: "--model CKPT", text: "generator checkpoint (train-gen's best.ckpt)" },
    {
      flag: "--model BUNDLE",
      text: `or a model bundle (its folder, or a cached or packaged name such as flickr8k): its
        full-frame generator and generatorEnsemble, decoded as describe decodes them (beam
        ${DEFAULT_BEAM}, length norm ${DEFAULT_LENGTH_NORMALIZATION}; with the bundle's
        captionRerank, its beam and weight with the bundle's search models); the row describe
        gives is named (--length-norm and --max-length leave it at describe's defaults); --beam
        and --rerank... add rows`,
    },
    {
      flag: "--ensemble CKPT",
      text: `another generator trained on the same data (repeatable): every setting is decoded
        again with --model and these averaging their word probabilities, as extra rows`,
    },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    { flag: "--features STORE", text: "feature store of the dataset's images" },
    { flag: "--snippets FILE", text: "region-snippet JSONL (region models)" },
    { flag: "--split S", text: "val or test", default: "test" },
    { flag: "--beam N[,N...]", text: "beam widths beside beam 1", default: DEFAULT_BEAM },
    {
      flag: "--length-norm A",
      text: "rank beams by logProb / length^A (as describe; 0 ranks by logProb)",
      default: DEFAULT_LENGTH_NORMALIZATION,
    },
    { flag: "--max-length N", text: "longest caption in words", default: DEFAULT_MAX_LENGTH },
    {
      flag: "--rerank MODEL",
      text: `an alignment model (train-align's best.ckpt) or fusion (fuse-align's JSON) that
        reranks a beam's captions by how well they match the image's regions (full-frame models):
        adds rows decoded at --rerank-beam`,
    },
    {
      flag: "--rerank-weight W[,W...]",
      text: "weight of the alignment score against the generator's",
      default: DEFAULT_RERANK_WEIGHT,
    },
    {
      flag: "--rerank-beam N[,N...]",
      text: "beam widths of the reranked rows, at least 2",
      default: DEFAULT_RERANK_BEAM,
    },
    { flag: "--limit N", text: "only the first N targets", default: "all" },
    { flag: "--samples N", text: "sample captions shown", default: DEFAULT_SAMPLES },
    { flag: "--json", text: "print the evaluation as JSON" },
    {
      flag: "--markdown FILE",
      text: "also write the results as Markdown (e.g. docs/results/captions.md)",
    },
  ],
  examples: [
    "eval-gen --model flickr8k --dataset path/to/flickr8k --features features/flickr8k-mnv2 --split val",
    "eval-gen --model runs/flickr8k/gen/best.ckpt --dataset path/to/flickr8k --features features/flickr8k-mnv2 --beam 7 --rerank runs/flickr8k/align/best.ckpt",
  ],
});

/**
 * The decoding describe uses for a bundle's whole-image caption (app/describer.ts): with the
 * bundle's captionRerank, its beam reranked at its weight; else the default beam. Both at the
 * default length normalisation (here --length-norm, whose default it is).
 */
export function describeSetting(bundle: ModelBundle): DecodeSettings {
  const r = bundle.manifest.captionRerank;
  const base = { lengthNormalization: DEFAULT_LENGTH_NORMALIZATION, maxLength: DEFAULT_MAX_LENGTH };
  return r && r.weight > 0
    ? { ...base, beam: r.beam, rerankWeight: r.weight }
    : { ...base, beam: DEFAULT_BEAM };
}

function sameSetting(a: DecodeSettings, b: DecodeSettings): boolean {
  return (
    a.beam === b.beam &&
    a.lengthNormalization === b.lengthNormalization &&
    a.maxLength === b.maxLength &&
    a.rerankWeight === b.rerankWeight
  );
}

const STRING_FLAGS = [
  "model",
  "dataset",
  "features",
  "snippets",
  "split",
  "beam",
  "length-norm",
  "max-length",
  "limit",
  "samples",
  "markdown",
  "rerank",
  "rerank-weight",
  "rerank-beam",
] as const;

export const evalGenCommand: Command = {
  name: "eval-gen",
  usage: USAGE,
  run(args) {
    const { values } = parseCommandArgs(
      args,
      {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: "string" as const }])),
        ensemble: { type: "string", multiple: true },
        json: { type: "boolean" },
      },
      USAGE,
      { positionals: false },
    );
    const str = (k: string) => values[k] as string | undefined;
    if (!str("model") || !str("dataset") || !str("features")) {
      throw new InputError(`--model, --dataset and --features are required\n\n${USAGE}`);
    }
    const split = str("split") ?? "test";
    if (split !== "val" && split !== "test") {
      throw new InputError(`--split: expected val or test, got '${split}'`);
    }
    const beams = numberListFlag(str("beam"), "--beam", { integer: true, min: 1 }) ?? [
      DEFAULT_BEAM,
    ];
    const rerankWeights = numberListFlag(str("rerank-weight"), "--rerank-weight", { min: 0 }) ?? [
      DEFAULT_RERANK_WEIGHT,
    ];
    const rerankBeams = numberListFlag(str("rerank-beam"), "--rerank-beam", {
      integer: true,
      min: 2,
    }) ?? [DEFAULT_RERANK_BEAM];
    const bundleRerank = bundleFolder(str("model")!) !== null;
    if (!str("rerank") && !bundleRerank && (str("rerank-weight") || str("rerank-beam"))) {
      throw new InputError("--rerank-weight and --rerank-beam need --rerank MODEL (or a bundle)");
    }
    const lengthNormalization =
      numberFlag(str("length-norm"), "--length-norm", { min: 0 }) ?? DEFAULT_LENGTH_NORMALIZATION;
    const maxLength =
      numberFlag(str("max-length"), "--max-length", { integer: true, min: 1 }) ??
      DEFAULT_MAX_LENGTH;
    const limit = numberFlag(str("limit"), "--limit", { integer: true, min: 1 });
    const samples =
      numberFlag(str("samples"), "--samples", { integer: true, min: 0 }) ?? DEFAULT_SAMPLES;

    const bundleDir = bundleFolder(str("model")!);
    const bundle = bundleDir === null ? null : loadBundle(bundleDir);
    const gen = bundle?.generator ?? loadGenerator(str("model")!);
    const dataset = loadDataset(str("dataset")!);
    const store = FeatureStore.open(str("features")!);
    if (store.meta.dim !== gen.config.model.featureDim) {
      throw new InputError(
        `${str("features")}: ${store.meta.dim}-d features, the model was trained on ${gen.config.model.featureDim}-d`,
      );
    }
    if (bundle && values.ensemble !== undefined) {
      throw new InputError(
        "--ensemble: a bundle captions with its own generatorEnsemble, as describe does",
      );
    }
    const ensemble: LoadedGenerator[] = [
      ...(bundle?.generatorEnsemble ?? []),
      ...((values.ensemble as string[] | undefined) ?? []).map((path) =>
        ensembleMember(loadGenerator(path), gen),
      ),
    ];
    const mode = gen.config.mode;
    if (mode === "region" && !str("snippets")) {
      throw new InputError(`${str("model")} is a region model: give --snippets`);
    }
    const raw = loadCaptionData(dataset, store, gen.vocabulary, {
      mode,
      snippets: mode === "region" ? readSnippets(str("snippets")!) : undefined,
      limit: limit === undefined ? undefined : { [split]: limit },
      // The split scored must be in the store; train's codes only feed nearest neighbour.
      featureSplits: [split],
      optionalFeatureSplits: ["train"],
    });
    const { data } = normalizeCaptionData(raw, gen.normalizer);
    const settings: DecodeSettings[] = [{ beam: 1, lengthNormalization: 0, maxLength }];
    for (const beam of beams) {
      if (beam > 1) settings.push({ beam, lengthNormalization, maxLength });
    }
    const target = data.splits[split];
    const described = bundle ? describeSetting(bundle) : null;
    if (described && !settings.some((x) => sameSetting(x, described))) settings.push(described);
    let rerank: SplitRerank | undefined;
    const rerankPath = str("rerank");
    const wantsRerank =
      rerankPath !== undefined ||
      described?.rerankWeight !== undefined ||
      (bundle !== null && (str("rerank-weight") !== undefined || str("rerank-beam") !== undefined));
    if (wantsRerank) {
      if (mode === "region") {
        throw new InputError(
          `--rerank: ${str("model")} is a region model; reranking scores captions of whole images`,
        );
      }
      // A bundle reranks with its search models, as describe does; --rerank names others.
      const scorer =
        rerankPath === undefined
          ? bundle!.search
          : isFusionPath(rerankPath)
            ? AlignmentFusion.load(rerankPath)
            : AlignmentFusion.ofCheckpoint(rerankPath);
      if (bundle && rerankPath === undefined)
        checkStoreFits(store, scorer, str("features")!, bundle);
      rerank = loadSplitRerank(scorer, store, dataset, split, target.targets);
      const flagged =
        rerankPath !== undefined ||
        str("rerank-weight") !== undefined ||
        str("rerank-beam") !== undefined;
      if (flagged) {
        for (const beam of rerankBeams) {
          for (const rerankWeight of rerankWeights) {
            const x = { beam, lengthNormalization, maxLength, rerankWeight };
            if (!settings.some((y) => sameSetting(x, y))) settings.push(x);
          }
        }
      }
    }
    const describeRow = described
      ? `${ensemble.length > 0 ? `ensemble of ${ensemble.length + 1}, ` : ""}${settingName(described)}`
      : null;
    const progress = new Progress({
      label: "eval-gen",
      total: target.targets.length * settings.length * (ensemble.length > 0 ? 2 : 1),
      unit: "captions",
    });
    const evaluation = evaluateGenerator({
      model: gen.model,
      vocabulary: gen.vocabulary,
      data,
      split,
      settings,
      ensemble: ensemble.map((g) => g.model),
      rerank,
      samples,
      trainingSpeed: gen.speed,
      onCaption: () => progress.tick(),
    });
    progress.finish();
    if (str("markdown")) {
      const file = str("markdown")!;
      mkdirSync(dirname(file), { recursive: true });
      const command = `imagesent eval-gen ${args.filter((a) => a !== "--json").join(" ")}`;
      writeFileAtomic(
        file,
        formatEvaluationMarkdown(
          evaluation,
          gen,
          {
            dataset: str("dataset")!,
            features: str("features")!,
            command,
            rerank:
              str("rerank") ??
              (rerank && bundle ? `${bundle.dir} (the bundle's search models)` : undefined),
          },
          ensemble,
        ),
      );
      console.error(`eval-gen: wrote ${file}`);
    }
    const bundleNote = bundle
      ? { dir: bundle.dir, describeRow: `${gen.config.model.cell.toUpperCase()}, ${describeRow}` }
      : null;
    if (values.json) {
      console.log(
        JSON.stringify(bundleNote ? { ...evaluation, bundle: bundleNote } : evaluation, null, 2),
      );
      return 0;
    }
    for (const s of evaluation.skipped) console.log(`skipped ${s.name}: ${s.reason}`);
    if (bundleNote) {
      console.log(`${bundleNote.dir}: describe captions as the row '${bundleNote.describeRow}'`);
    }
    const pct = (x: number) => (100 * x).toFixed(1).padStart(6);
    console.log(
      `${split}: ${evaluation.targets} targets, perplexity ${evaluation.perplexity.toFixed(2)}`,
    );
    const width = Math.max(34, ...evaluation.rows.map((r) => r.name.length + 1));
    console.log(`${"".padEnd(width)}  B-1    B-2    B-3    B-4 METEOR ROUGE-L CIDEr-D`);
    for (const r of evaluation.rows) {
      const x = r.metrics;
      console.log(
        `${r.name.padEnd(width)}${pct(x.bleu1)} ${pct(x.bleu2)} ${pct(x.bleu3)} ${pct(x.bleu4)} ${pct(x.meteor)} ${pct(x.rougeL)}  ${pct(x.ciderD)}`,
      );
    }
    console.log(
      `${"paper Flickr8K (beam 7)".padEnd(width)}  57.9   38.3   24.5   16.0   16.7       -    31.8`,
    );
    for (const d of evaluation.decoding) {
      console.log(
        `${d.name}: ${(100 * d.verbatimShare).toFixed(1)}% verbatim in train (paper: 25% at beam 1, 60% at beam 7), ` +
          `${(100 * d.cappedShare).toFixed(1)}% cut at max length, ${d.latencyMs.toFixed(1)} ms per caption`,
      );
    }
    for (const s of evaluation.samples) {
      console.log(`\n${s.key}  (reference: ${s.reference})`);
      for (const [name, c] of Object.entries(s.captions)) console.log(`  ${name}: ${c}`);
    }
    return 0;
  },
};
