import type { AlignmentFusion } from "../align/score-fusion.js";
import type { Vocabulary } from "../data/vocabulary.js";
import { type CaptionMetrics, scoreCaptions } from "../eval/score.js";
import { rerankWithAlignment } from "./alignment-rerank.js";
import { type CaptionData, type CaptionSplit, hasFeatures } from "./caption-data.js";
import type { CaptionModel } from "./caption-model.js";
import { beamSearch } from "./decoding.js";
import { ensembleStepper } from "./ensemble-stepper.js";
import { nearestNeighbourCaptions } from "./nearest-neighbour.js";
import { perplexity, type TrainingSpeed } from "./train.js";

export interface DecodeSettings {
  readonly beam: number;
  readonly lengthNormalization: number;
  readonly maxLength: number;
  /**
   * When set, the beam's captions are reranked with the alignment model (alignment-rerank.ts)
   * at this weight and the best after reranking is kept.
   */
  readonly rerankWeight?: number;
}

/** The alignment scorer reranked settings use, with each target's raw region codes. */
export interface SplitRerank {
  readonly scorer: AlignmentFusion;
  /** targets x regions x featureDim raw CNN codes, in the split's target order. */
  readonly features: Float32Array;
  readonly regions: number;
}

/** Captions for every target of a split, with how long each took. */
export interface DecodedSplit {
  readonly settings: DecodeSettings;
  readonly captions: string[][];
  /** Mean wall time per caption, ms. */
  readonly latencyMs: number;
  /** Share of captions cut at maxLength without END (looping decodes end there). */
  readonly cappedShare: number;
}

/**
 * Decodes every target of a split with one generator (a list of one), or with several as an
 * ensemble (their word probabilities averaged at every step; they must share the vocabulary and
 * feature normaliser). A reranked setting needs `rerank`.
 */
export function decodeSplit(
  models: readonly CaptionModel[],
  vocabulary: Vocabulary,
  split: CaptionSplit,
  settings: DecodeSettings,
  onCaption?: () => void,
  rerank?: SplitRerank,
): DecodedSplit {
  const dim = models[0].config.featureDim;
  const weight = settings.rerankWeight;
  if (weight !== undefined && rerank === undefined) {
    throw new RangeError(`decodeSplit: ${settingName(settings)} needs an alignment scorer`);
  }
  const regionValues = (rerank?.regions ?? 0) * dim;
  const captions: string[][] = [];
  let capped = 0;
  const t0 = performance.now();
  for (let i = 0; i < split.targets.length; i++) {
    const feature = split.features.subarray(i * dim, (i + 1) * dim);
    const stepper = ensembleStepper(models.map((m) => m.stepper(feature)));
    let beam = beamSearch(stepper, settings);
    if (weight !== undefined && rerank !== undefined) {
      beam = rerankWithAlignment(
        beam,
        vocabulary,
        rerank.features.subarray(i * regionValues, (i + 1) * regionValues),
        { scorer: rerank.scorer, weight },
        settings.lengthNormalization,
      );
    }
    const best = beam[0];
    captions.push(vocabulary.decode(best.words));
    if (!best.finished) capped++;
    onCaption?.();
  }
  const n = Math.max(split.targets.length, 1);
  return {
    settings,
    captions,
    latencyMs: (performance.now() - t0) / n,
    cappedShare: capped / n,
  };
}

/** coco-caption metrics of one caption per target against the target's references. */
export function scoreSplit(split: CaptionSplit, captions: readonly string[][]): CaptionMetrics {
  const refs = new Map<number, string[]>();
  const cands = new Map<number, string>();
  split.targets.forEach((t, i) => {
    refs.set(
      i,
      t.references.map((r) => r.join(" ")),
    );
    cands.set(i, captions[i].join(" "));
  });
  return scoreCaptions(refs, cands).corpus;
}

/** Share of captions that occur word for word among the training sentences. */
export function verbatimShare(train: CaptionSplit, captions: readonly string[][]): number {
  const seen = new Set<string>();
  for (const t of train.targets) for (const r of t.references) seen.add(r.join(" "));
  if (captions.length === 0) return 0;
  return captions.filter((c) => seen.has(c.join(" "))).length / captions.length;
}

export interface EvaluationRow {
  readonly name: string;
  readonly metrics: CaptionMetrics;
}

export interface Sample {
  readonly key: string;
  readonly captions: Readonly<Record<string, string>>;
  readonly reference: string;
}

export interface Evaluation {
  readonly split: string;
  readonly targets: number;
  readonly perplexity: number;
  readonly rows: readonly EvaluationRow[];
  /** Per decode setting (keyed "beam N"): verbatim-in-train share, latency, capped share. */
  readonly decoding: readonly {
    readonly name: string;
    readonly settings: DecodeSettings;
    readonly verbatimShare: number;
    readonly latencyMs: number;
    readonly cappedShare: number;
  }[];
  /** null when the baseline was skipped (see `skipped`). */
  readonly nearestNeighbourVerbatim: number | null;
  /** Baselines left out, each with why (e.g. nearest neighbour without train codes). */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  readonly samples: readonly Sample[];
  readonly trainingSpeed: TrainingSpeed | null;
}

export interface EvaluateArgs {
  readonly model: CaptionModel;
  readonly vocabulary: Vocabulary;
  readonly data: CaptionData;
  readonly split: "val" | "test";
  readonly settings: readonly DecodeSettings[];
  /**
   * More generators (same vocabulary and normaliser as `model`): every setting is decoded again
   * with `model` and these as an ensemble, as extra rows.
   */
  readonly ensemble?: readonly CaptionModel[];
  /** The alignment scorer of the reranked settings (required when any setting is reranked). */
  readonly rerank?: SplitRerank;
  readonly samples?: number;
  readonly trainingSpeed?: TrainingSpeed | null;
  readonly onCaption?: () => void;
}

/**
 * The paper's Table 2 for one model: every decode setting and the nearest-neighbour baseline
 * scored with the same metrics on the same targets, plus perplexity, the verbatim-in-train share
 * and decoding latency.
 */
export function evaluateGenerator(args: EvaluateArgs): Evaluation {
  const { model, vocabulary, data } = args;
  const split = data.splits[args.split];
  const train = data.splits.train;
  const rows: EvaluationRow[] = [];
  const decoding: Evaluation["decoding"][number][] = [];
  const byName = new Map<string, string[][]>();
  const cell = model.config.cell.toUpperCase();
  const decoders: { prefix: string; models: readonly CaptionModel[] }[] = [
    { prefix: "", models: [model] },
  ];
  if (args.ensemble?.length) {
    decoders.push({
      prefix: `ensemble of ${args.ensemble.length + 1}, `,
      models: [model, ...args.ensemble],
    });
  }
  for (const decoder of decoders) {
    for (const settings of args.settings) {
      const name = `${decoder.prefix}${settingName(settings)}`;
      const decoded = decodeSplit(
        decoder.models,
        vocabulary,
        split,
        settings,
        args.onCaption,
        args.rerank,
      );
      byName.set(name, decoded.captions);
      rows.push({ name: `${cell}, ${name}`, metrics: scoreSplit(split, decoded.captions) });
      decoding.push({
        name,
        settings,
        verbatimShare: verbatimShare(train, decoded.captions),
        latencyMs: decoded.latencyMs,
        cappedShare: decoded.cappedShare,
      });
    }
  }
  // The baseline searches the train codes; a store of the evaluated split alone has none.
  const skipped: { name: string; reason: string }[] = [];
  let nn: string[][] | null = null;
  if (hasFeatures(data, "train") && train.targets.length > 0) {
    nn = nearestNeighbourCaptions(train, split, data.dim).captions;
    byName.set("nearest neighbour", nn);
    rows.push({ name: "nearest neighbour", metrics: scoreSplit(split, nn) });
  } else {
    const why = data.unread?.train ?? "the train split has no targets";
    skipped.push({ name: "nearest neighbour", reason: `needs the train codes: ${why}` });
  }
  const sampleCount = Math.min(args.samples ?? 6, split.targets.length);
  const stride = Math.max(1, Math.floor(split.targets.length / Math.max(sampleCount, 1)));
  const samples: Sample[] = [];
  for (let s = 0; s < sampleCount; s++) {
    const i = s * stride;
    samples.push({
      key: split.targets[i].key,
      captions: Object.fromEntries([...byName].map(([name, caps]) => [name, caps[i].join(" ")])),
      reference: split.targets[i].references[0].join(" "),
    });
  }
  return {
    split: args.split,
    targets: split.targets.length,
    perplexity: perplexity(model, split),
    rows,
    decoding,
    nearestNeighbourVerbatim: nn === null ? null : verbatimShare(train, nn),
    skipped,
    samples,
    trainingSpeed: args.trainingSpeed ?? null,
  };
}

export function settingName(s: DecodeSettings): string {
  const norm = s.lengthNormalization > 0 ? `, length norm ${s.lengthNormalization}` : "";
  const reranked = s.rerankWeight !== undefined ? `, reranked (weight ${s.rerankWeight})` : "";
  return `beam ${s.beam}${norm}${reranked}`;
}
