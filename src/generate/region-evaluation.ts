import { type CaptionMetrics, scoreCaptions } from "../eval/score.js";
import type { AlignmentRerank } from "./alignment-rerank.js";
import type { CaptionSplit } from "./caption-data.js";
import { batchedBeamSearch } from "./decoding.js";
import type { EncodedRegions } from "./entity-regions.js";
import type { LoadedGenerator } from "./load-generator.js";
import { nearestNeighbourCaptions } from "./nearest-neighbour.js";
import { decodeRegionPhrases } from "./region-phrases.js";
import type { ConsensusRerank } from "./snippet-consensus.js";

/**
 * Region-level evaluation, the paper's Table 3: every annotated region is described and the
 * phrase scored against the phrases people wrote for that entity, by the region generator, by
 * the full-frame generator on the same crops, by a nearest-neighbour baseline and, for scale, by
 * one human phrase against the others.
 */

/** How a generator decodes the regions (batched beam search, generate/decoding.ts). */
export interface RegionDecoding {
  readonly beam: number;
  readonly lengthNormalization: number;
  readonly maxLength: number;
  /** The region generator's beam reranked by the alignment model(s), as describe does. */
  readonly rerank?: AlignmentRerank;
  /** ... and by its snippet consensus, as describe does. */
  readonly consensus?: ConsensusRerank;
}

export type RegionRowKind = "region" | "fullframe" | "nearest" | "human";

export interface RegionRow {
  readonly kind: RegionRowKind;
  readonly name: string;
  /** Regions scored in this row (the human row scores those with two phrases or more). */
  readonly regions: number;
  readonly metrics: CaptionMetrics;
}

/** One region's references and what each row said of it. */
export interface RegionSample {
  readonly filename: string;
  readonly chain: string;
  readonly references: readonly string[];
  readonly phrases: Readonly<Partial<Record<RegionRowKind, string>>>;
}

export interface RegionEvaluation {
  readonly regions: number;
  /** Train regions the nearest neighbour chose from (0: no nearest-neighbour row). */
  readonly poolRegions: number;
  readonly rows: readonly RegionRow[];
  readonly samples: readonly RegionSample[];
}

export interface RegionEvaluationArgs {
  readonly regionGenerator: LoadedGenerator;
  /** The full-frame generator, run on the same crops. */
  readonly generator: LoadedGenerator;
  readonly regionDecoding: RegionDecoding;
  readonly fullFrameDecoding: RegionDecoding;
  /** The regions to describe, with their references (at least one). */
  readonly query: EncodedRegions;
  /** Train regions for the nearest-neighbour row; without any the row is left out. */
  readonly pool?: EncodedRegions;
  /** Regions shown as samples, spread evenly over the query (default 8). */
  readonly samples?: number;
  /** Called after each batch of regions a generator decoded, with its size. */
  readonly onDecoded?: (regions: number) => void;
}

/** Regions decoded together: one batched beam search (its hypotheses share each RNN step). */
const DECODE_BATCH = 64;

/** Every row of the table over `query`: phrases decoded, looked up or taken from the references, then scored. */
export function evaluateRegions(args: RegionEvaluationArgs): RegionEvaluation {
  const { query, regionGenerator } = args;
  const n = query.regions.length;
  if (n === 0) throw new RangeError("evaluateRegions: no regions");
  const references = new Map(query.regions.map((r, i) => [i, r.phrases.map((p) => p.join(" "))]));
  const score = (phrases: readonly string[]) =>
    scoreCaptions(references, new Map(phrases.map((p, i) => [i, p]))).corpus;
  const said: Partial<Record<RegionRowKind, string[]>> = {};
  const rows: RegionRow[] = [];

  said.region = describeWithPhrases(
    regionGenerator,
    query.features,
    args.regionDecoding,
    args.onDecoded,
  );
  rows.push({
    kind: "region",
    name: `region generator (${decodingName(args.regionDecoding)})`,
    regions: n,
    metrics: score(said.region),
  });
  said.fullframe = describeRegions(
    args.generator,
    query.features,
    args.fullFrameDecoding,
    args.onDecoded,
  );
  rows.push({
    kind: "fullframe",
    name: `full-frame generator on the same crops (${decodingName(args.fullFrameDecoding)})`,
    regions: n,
    metrics: score(said.fullframe),
  });

  const poolRegions = args.pool?.regions.length ?? 0;
  if (args.pool && poolRegions > 0) {
    // Cosine of the codes standardised with the region generator's (train) statistics.
    const split = (set: EncodedRegions): CaptionSplit => ({
      targets: set.regions.map((r, i) => ({
        key: `${r.filename}#${r.chain}`,
        filename: r.filename,
        region: i,
        references: r.phrases,
      })),
      features: regionGenerator.normalizer.apply(set.features),
      sentences: [],
    });
    const dim = regionGenerator.normalizer.dim;
    said.nearest = nearestNeighbourCaptions(split(args.pool), split(query), dim).captions.map((c) =>
      c.join(" "),
    );
    rows.push({
      kind: "nearest",
      name: `nearest neighbour among ${poolRegions.toLocaleString("en-US")} train entity regions (CNN-code cosine)`,
      regions: n,
      metrics: score(said.nearest),
    });
  }

  const several = query.regions.flatMap((r, i) => (r.phrases.length >= 2 ? [i] : []));
  if (several.length > 0) {
    const metrics = scoreCaptions(
      new Map(several.map((i) => [i, references.get(i)!.slice(1)])),
      new Map(several.map((i) => [i, references.get(i)![0]])),
    ).corpus;
    rows.push({
      kind: "human",
      name: "human, an entity's first phrase against its others",
      regions: several.length,
      metrics,
    });
  }

  const count = Math.min(args.samples ?? 8, n);
  const samples = Array.from({ length: count }, (_, k) => {
    const i = Math.floor((k * n) / count);
    const r = query.regions[i];
    const phrases = Object.fromEntries(
      Object.entries(said).map(([kind, list]) => [kind, list[i]]),
    ) as Partial<Record<RegionRowKind, string>>;
    return { filename: r.filename, chain: r.chain, references: references.get(i)!, phrases };
  });
  return { regions: n, poolRegions, rows, samples };
}

/**
 * The region generator's phrase of each region as describe decodes it (decodeRegionPhrases: never
 * empty, never ending on a function word), whether or not describe would show it: Table 3 scores
 * every region.
 */
function describeWithPhrases(
  g: LoadedGenerator,
  features: Float32Array,
  decoding: RegionDecoding,
  onDecoded?: (regions: number) => void,
): string[] {
  return inBatches(g, features, onDecoded, (batch) =>
    decodeRegionPhrases(g, batch, decoding).map((p) => (p ? p.words.join(" ") : "")),
  );
}

/** One caption per region (rows of raw `features`) from generator `g`, best of its beam. */
function describeRegions(
  g: LoadedGenerator,
  features: Float32Array,
  decoding: RegionDecoding,
  onDecoded?: (regions: number) => void,
): string[] {
  const dim = g.model.config.featureDim;
  return inBatches(g, features, onDecoded, (batch) => {
    const normalized = g.normalizer.apply(batch);
    const steppers = Array.from({ length: batch.length / dim }, (_, i) =>
      g.model.stepper(normalized.subarray(i * dim, (i + 1) * dim)),
    );
    return batchedBeamSearch(steppers, decoding).map((beam) =>
      g.vocabulary.decode(beam[0].words).join(" "),
    );
  });
}

/** `decode` over the rows of `features` DECODE_BATCH regions at a time, in order. */
function inBatches(
  g: LoadedGenerator,
  features: Float32Array,
  onDecoded: ((regions: number) => void) | undefined,
  decode: (batch: Float32Array) => string[],
): string[] {
  const dim = g.model.config.featureDim;
  const n = features.length / dim;
  const out: string[] = [];
  for (let start = 0; start < n; start += DECODE_BATCH) {
    const end = Math.min(n, start + DECODE_BATCH);
    out.push(...decode(features.subarray(start * dim, end * dim)));
    onDecoded?.(end - start);
  }
  return out;
}

function decodingName(d: RegionDecoding): string {
  const parts = [`beam ${d.beam}`];
  if (d.lengthNormalization > 0) parts.push(`length norm ${d.lengthNormalization}`);
  if (d.rerank) parts.push(`reranked by the alignment models at ${d.rerank.weight}`);
  if (d.consensus) {
    parts.push(
      `consensus with the ${d.consensus.neighbours} nearest train regions at ${d.consensus.weight}`,
    );
  }
  return parts.join(", ");
}
