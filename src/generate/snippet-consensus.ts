import { loadCheckpoint, saveCheckpoint } from "../core/checkpoint.js";
import { kernels, Params, PrincipalProjection, Tensor } from "../core/index.js";
import { CorruptFileError, InputError } from "../errors.js";
import { ciderDAgainst, type DocumentFrequency, documentFrequencies } from "../eval/cider.js";
import { JsonFields } from "../json-fields.js";
import { FeatureNormalizer } from "../vision/feature-normalizer.js";
import type { CaptionSplit } from "./caption-data.js";

/**
 * Consensus reranking of region phrases, after Devlin et al. (2015)'s nearest-neighbour
 * consensus for whole images: a phrase for region r is credited by how well it agrees with what
 * was said of the training regions that look most like r,
 *
 *   C(r, p) = CIDEr-D(p; the snippets of N_K(r))
 *
 * N_K(r) the K train snippet regions nearest r by cosine of their standardised CNN codes in those
 * codes' top principal directions (core/principal-projection.ts). The document frequencies are
 * the train regions' own (each region's snippets one document), so a phrase scores the same
 * however many regions are decoded beside it. The snippets are the chain MRF's phrases on the
 * regions it grounded them to in train captions (mrf/snippets.ts): no region annotation is used.
 *
 * A consensus file is a checkpoint (core/checkpoint.ts: checksummed, float16): tensors `mean` and
 * `basis` (the projection) and `keys` (regions x dims, unit rows); config {kind, featureDim,
 * dims}; meta {normalizer, snippets: each region's snippets as strings}.
 */

/** The principal directions the regions are compared in, unless told otherwise. */
export const DEFAULT_CONSENSUS_DIMS = 64;

/**
 * The consensus weight and neighbours chosen on Flickr30k Entities val (Table 3, eval-regions,
 * bundles/flickr8k, on top of DEFAULT_REGION_RERANK; docs/generator.md).
 */
export const DEFAULT_REGION_CONSENSUS = { weight: 0.6, neighbours: 10 } as const;

export const CONSENSUS_KIND = "imagesent-snippet-consensus";

/** The consensus and how much it counts when ranking a region's beam. */
export interface ConsensusRerank {
  readonly consensus: SnippetConsensus;
  readonly weight: number;
  /** K, the nearest train regions whose snippets a phrase is scored against. */
  readonly neighbours: number;
}

export class SnippetConsensus {
  private readonly documentFrequency: DocumentFrequency;

  private constructor(
    /** Standardises raw CNN codes as the train regions' were. */
    readonly normalizer: FeatureNormalizer,
    readonly projection: PrincipalProjection,
    /** regions x projection.dims, each row of unit length. */
    readonly keys: Float32Array,
    /** Each train region's snippets, tokenised. */
    readonly snippets: readonly (readonly (readonly string[])[])[],
  ) {
    this.documentFrequency = documentFrequencies(snippets);
  }

  get regions(): number {
    return this.snippets.length;
  }

  /**
   * Fitted to a region-mode split (caption-data.ts: each target a train region with its
   * snippets): the normaliser and the `dims` principal directions from its codes, then its keys.
   */
  static fit(split: CaptionSplit, dim: number, dims = DEFAULT_CONSENSUS_DIMS): SnippetConsensus {
    const regions = split.targets.length;
    if (regions === 0 || split.features.length !== regions * dim) {
      throw new InputError(
        `snippet consensus: ${regions} regions with ${split.features.length} feature values (${dim}-d codes needed for each)`,
      );
    }
    const normalizer = FeatureNormalizer.fit([split.features], dim);
    const unit = unitRows(normalizer.apply(split.features), dim);
    const projection = PrincipalProjection.fit(unit, regions, dim, Math.min(dims, dim));
    return new SnippetConsensus(
      normalizer,
      projection,
      unitRows(projection.apply(unit, regions, true), projection.dims),
      split.targets.map((t) => t.references),
    );
  }

  /** Where each row of raw `features` (rows x featureDim) is in the keys' space, unit rows. */
  private query(features: Float32Array): Float32Array {
    const dim = this.normalizer.dim;
    const rows = features.length / dim;
    const unit = unitRows(this.normalizer.apply(features), dim);
    return unitRows(this.projection.apply(unit, rows, true), this.projection.dims);
  }

  /**
   * The `k` nearest train regions of each row of raw `features`, nearest first; none for a row
   * that is not finite.
   */
  neighbours(features: Float32Array, k: number): Int32Array[] {
    const d = this.projection.dims;
    const q = this.query(features);
    const rows = q.length / d;
    const n = this.regions;
    const sims = new Float32Array(rows * n);
    kernels().sgemm(false, true, rows, n, d, 1, q, d, this.keys, d, 0, sims, n);
    return Array.from({ length: rows }, (_, r) =>
      topIndices(sims.subarray(r * n, (r + 1) * n), Math.min(k, n)),
    );
  }

  /**
   * C(r, p) for each region r (rows of raw `features`) and each of its candidate phrases
   * `phrases[r]`, against the snippets of its `k` nearest train regions.
   */
  scores(
    features: Float32Array,
    phrases: readonly (readonly (readonly string[])[])[],
    k: number,
  ): number[][] {
    const rows = features.length / this.normalizer.dim;
    if (phrases.length !== rows) {
      throw new RangeError(
        `SnippetConsensus.scores: ${phrases.length} phrase lists for ${rows} regions`,
      );
    }
    const near = this.neighbours(features, k);
    return phrases.map((candidates, r) =>
      ciderDAgainst(
        candidates,
        Array.from(near[r]).flatMap((t) => this.snippets[t]),
        this.documentFrequency,
      ),
    );
  }

  save(path: string): void {
    const params = new Params();
    params.add("mean", new Tensor(this.projection.mean, [this.projection.full]));
    params.add(
      "basis",
      new Tensor(this.projection.basis, [this.projection.full, this.projection.dims]),
    );
    params.add("keys", new Tensor(this.keys, [this.regions, this.projection.dims]));
    saveCheckpoint(
      path,
      {
        params,
        config: {
          kind: CONSENSUS_KIND,
          featureDim: this.normalizer.dim,
          dims: this.projection.dims,
        },
        meta: {
          normalizer: this.normalizer.toJSON(),
          snippets: this.snippets.map((s) => s.map((words) => words.join(" "))),
        },
      },
      { dtype: "f16" },
    );
  }

  /** Reads a consensus file; a wrong or damaged one fails naming the file and the field. */
  static load(path: string): SnippetConsensus {
    const ckpt = loadCheckpoint(path);
    const error = CorruptFileError;
    const config = JsonFields.of(ckpt.config, path, { path: "config", error });
    if (config.get("kind") !== CONSENSUS_KIND) {
      throw new InputError(
        `${path}: not a snippet consensus file (made by imagesent fit-consensus)`,
      );
    }
    const featureDim = config.number("featureDim", { integer: true, min: 1 });
    const dims = config.number("dims", { integer: true, min: 1, max: featureDim });
    const normalizer = FeatureNormalizer.fromJSON(ckpt.meta.normalizer, path, {
      path: "meta.normalizer",
      error,
    });
    const meta = JsonFields.of(ckpt.meta, path, { path: "meta", error });
    const snippets = meta.list("snippets", { minLength: 1 }).map((phrases, i) => {
      if (
        !Array.isArray(phrases) ||
        phrases.length === 0 ||
        !phrases.every((p) => typeof p === "string" && p !== "")
      ) {
        return meta.fail(`snippets[${i}]`, "a non-empty list of non-empty phrases", phrases);
      }
      return phrases.map((words: string) => words.split(" "));
    });
    const tensor = (name: string, shape: number[]) => {
      const t = ckpt.tensors.get(name);
      if (!t || t.shape.join() !== shape.join()) {
        throw new CorruptFileError(`${path}: tensor ${name} should have shape [${shape}]`);
      }
      return t.data;
    };
    if (normalizer.dim !== featureDim) {
      throw new CorruptFileError(
        `${path}: meta.normalizer is ${normalizer.dim}-d, config.featureDim ${featureDim}`,
      );
    }
    return new SnippetConsensus(
      normalizer,
      new PrincipalProjection(
        featureDim,
        dims,
        tensor("mean", [featureDim]),
        tensor("basis", [featureDim, dims]),
      ),
      tensor("keys", [snippets.length, dims]),
      snippets,
    );
  }
}

/** The rows of a rows x dim matrix scaled to unit length (zero rows stay zero), in place. */
function unitRows(m: Float32Array, dim: number): Float32Array {
  for (let off = 0; off < m.length; off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += m[off + j] * m[off + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) m[off + j] *= inv;
  }
  return m;
}

/**
 * The indices of the `k` largest values, largest first (ties: the lower index first); values
 * that are not numbers are never among them.
 */
function topIndices(values: Float32Array, k: number): Int32Array {
  const top: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    if (top.length === k && !(values[i] > values[top[k - 1]])) continue;
    let at = top.length;
    while (at > 0 && values[i] > values[top[at - 1]]) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return Int32Array.from(top);
}
