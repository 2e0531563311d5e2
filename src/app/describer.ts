import { performance } from "node:perf_hooks";
import type { AlignmentFusion } from "../align/score-fusion.js";
import { InputError } from "../errors.js";
import { DEFAULT_RERANK_BEAM, rerankWithAlignment } from "../generate/alignment-rerank.js";
import {
  batchedBeamSearch,
  beamSearch,
  DEFAULT_BEAM,
  DEFAULT_LENGTH_NORMALIZATION,
  DEFAULT_MAX_LENGTH,
} from "../generate/decoding.js";
import { ensembleStepper } from "../generate/ensemble-stepper.js";
import type { LoadedGenerator } from "../generate/load-generator.js";
import type { Box, Region, RegionSource } from "../vision/image.js";
import type { ModelRegistry } from "../vision/model-registry.js";
import {
  type BundleCache,
  type CaptionRerankSetting,
  loadBundle,
  type ModelBundle,
} from "./model-bundle.js";
import { type ImageInput, regionFeatures } from "./region-features.js";
import { openVisionModels, type VisionModels } from "./vision-setup.js";

/**
 * Region captions are short phrases ("red circle"), decoded for all of an image's regions in one
 * batched beam search (generate/decoding.ts); a narrower beam than the whole-image caption's keeps
 * 19 of them within the latency budget (bench:describe times beams 1, 3 and 7).
 */
export const DEFAULT_REGION_BEAM = 3;

export interface DescribeOptions {
  /**
   * Beam width for the whole-image caption (default 7, the paper's; when the caption is
   * reranked, the bundle's captionRerank.beam, or DEFAULT_RERANK_BEAM).
   */
  readonly beam?: number;
  /**
   * Weight of the alignment model's score when reranking the caption's beam
   * (generate/alignment-rerank.ts). Default: the bundle's captionRerank.weight, or no reranking;
   * 0 turns reranking off.
   */
  readonly rerankWeight?: number;
  /**
   * Length normalisation of the whole-image caption's beam (default
   * DEFAULT_LENGTH_NORMALIZATION, the setting eval-gen reports).
   */
  readonly lengthNormalization?: number;
  /** Beam width for each region's caption (default DEFAULT_REGION_BEAM; ranked by logProb). */
  readonly regionBeam?: number;
  /** Longest caption in words (default 20). */
  readonly maxLength?: number;
}

/** One region of a described image. */
export interface RegionDescription {
  /** [x1, y1, x2, y2] in pixels of the decoded image (EXIF orientation applied). */
  readonly box: Box;
  readonly source: RegionSource;
  /** The detector's label and score (detections only). */
  readonly label?: string;
  readonly score?: number;
  /** The region generator's phrase; absent when the bundle has no region generator. */
  readonly caption?: string;
}

export interface ImageDescription {
  readonly width: number;
  readonly height: number;
  /** The whole-image caption. */
  readonly caption: string;
  /** Every region but the whole image, detections first (best score first), then fallback boxes. */
  readonly regions: RegionDescription[];
  /** Milliseconds per step. */
  readonly millis: {
    readonly decode: number;
    readonly detect: number;
    readonly encode: number;
    readonly caption: number;
    readonly regionCaptions: number;
    readonly total: number;
  };
}

/** What a Describer runs: the vision models and the generators. */
export interface DescriberParts {
  readonly vision: VisionModels;
  readonly generator: LoadedGenerator;
  /** Generators that caption together with `generator`, as an ensemble (none by default). */
  readonly generatorEnsemble?: readonly LoadedGenerator[];
  readonly regionGenerator?: LoadedGenerator;
  /** The alignment model (or fusion) that reranks the caption's beam when a weight is set. */
  readonly alignment?: AlignmentFusion;
  /** The bundle's reranking of the caption (bundle.json captionRerank). */
  readonly captionRerank?: CaptionRerankSetting;
}

export interface LoadOptions {
  /** onnxruntime threads per model run (default 2). */
  readonly threads?: number;
  readonly registry?: ModelRegistry;
  readonly bundles?: BundleCache;
}

/**
 * Describes images: a caption of the whole image and, when the bundle has a region generator, a
 * phrase for each region. Load once, describe many; `close` releases the ONNX sessions.
 */
export class Describer {
  private readonly beam: number;
  private readonly rerankWeight: number;
  private readonly lengthNormalization: number;
  private readonly regionBeam: number;
  private readonly maxLength: number;

  constructor(
    private readonly parts: DescriberParts,
    options: DescribeOptions = {},
  ) {
    const dim = parts.vision.encoder.dim;
    for (const g of [parts.generator, ...(parts.generatorEnsemble ?? []), parts.regionGenerator]) {
      if (g && g.model.config.featureDim !== dim) {
        throw new InputError(
          `${g.path}: takes ${g.model.config.featureDim}-d features, the encoder ${parts.vision.encoder.name} gives ${dim}-d`,
        );
      }
    }
    this.rerankWeight = options.rerankWeight ?? parts.captionRerank?.weight ?? 0;
    if (!(this.rerankWeight >= 0)) throw new InputError("rerankWeight: expected a number >= 0");
    if (this.rerankWeight > 0 && !parts.alignment) {
      throw new InputError("rerankWeight: there is no alignment model to rerank captions with");
    }
    const reranking = this.rerankWeight > 0;
    const beam = reranking ? (parts.captionRerank?.beam ?? DEFAULT_RERANK_BEAM) : DEFAULT_BEAM;
    this.beam = positive(options.beam ?? beam, "beam");
    this.lengthNormalization = options.lengthNormalization ?? DEFAULT_LENGTH_NORMALIZATION;
    if (!(this.lengthNormalization >= 0)) {
      throw new InputError(`lengthNormalization: expected a number >= 0`);
    }
    this.regionBeam = positive(options.regionBeam ?? DEFAULT_REGION_BEAM, "regionBeam");
    this.maxLength = positive(options.maxLength ?? DEFAULT_MAX_LENGTH, "maxLength");
  }

  /** A Describer over a bundle (a loaded one, or its folder or cached name). */
  static async load(
    bundle: string | ModelBundle,
    options: DescribeOptions & LoadOptions = {},
  ): Promise<Describer> {
    const b = typeof bundle === "string" ? loadBundle(bundle, options.bundles) : bundle;
    const vision = await openVisionModels(b.manifest.vision, { ...options, baseDir: b.dir });
    try {
      return new Describer(
        {
          vision,
          generator: b.generator,
          generatorEnsemble: b.generatorEnsemble,
          regionGenerator: b.regionGenerator,
          alignment: b.search,
          captionRerank: b.manifest.captionRerank,
        },
        options,
      );
    } catch (err) {
      await closeVision(vision);
      throw err;
    }
  }

  /** Whether regions get their own captions. */
  get describesRegions(): boolean {
    return this.parts.regionGenerator !== undefined;
  }

  /**
   * A description of one image (a path or a file's bytes). `name` labels bytes in errors;
   * `regions` (the whole image first) replace the detector's, to describe boxes of one's own.
   */
  async describe(
    image: ImageInput,
    options: { name?: string; regions?: readonly Region[] } = {},
  ): Promise<ImageDescription> {
    const start = performance.now();
    const r = await regionFeatures(this.parts.vision, image, options.name, options.regions);
    const dim = this.parts.vision.encoder.dim;
    const t0 = performance.now();
    const caption = this.caption(r.features);
    const t1 = performance.now();
    const phrases = this.regionPhrases(r.features.subarray(dim));
    const regions: RegionDescription[] = r.regions.slice(1).map((region, i) => ({
      box: region.box,
      source: region.source,
      ...(region.label !== undefined ? { label: region.label } : {}),
      ...(region.score !== undefined ? { score: region.score } : {}),
      ...(phrases ? { caption: phrases[i] } : {}),
    }));
    const t2 = performance.now();
    return {
      width: r.width,
      height: r.height,
      caption,
      regions,
      millis: {
        ...r.millis,
        caption: t1 - t0,
        regionCaptions: t2 - t1,
        total: t2 - start,
      },
    };
  }

  /**
   * The whole-image caption, by the generator alone or by the ensemble, its beam reranked with
   * the alignment model on every region when a rerank weight is set. `features` are the raw
   * codes of all regions, the whole image first.
   */
  private caption(features: Float32Array): string {
    const { generator, alignment } = this.parts;
    const feature = features.subarray(0, this.parts.vision.encoder.dim);
    const generators = [generator, ...(this.parts.generatorEnsemble ?? [])];
    const stepper = ensembleStepper(
      generators.map((g) => g.model.stepper(g.normalizer.apply(feature))),
    );
    let beam = beamSearch(stepper, {
      beam: this.beam,
      maxLength: this.maxLength,
      lengthNormalization: this.lengthNormalization,
    });
    if (this.rerankWeight > 0 && alignment) {
      beam = rerankWithAlignment(
        beam,
        generator.vocabulary,
        features,
        { scorer: alignment, weight: this.rerankWeight },
        this.lengthNormalization,
      );
    }
    return generator.vocabulary.decode(beam[0].words).join(" ");
  }

  /** Every region's phrase from the region generator, in one batched beam search; or undefined. */
  private regionPhrases(features: Float32Array): string[] | undefined {
    const g = this.parts.regionGenerator;
    if (!g) return undefined;
    const dim = g.model.config.featureDim;
    const normalized = g.normalizer.apply(features);
    const steppers = Array.from({ length: features.length / dim }, (_, i) =>
      g.model.stepper(normalized.subarray(i * dim, (i + 1) * dim)),
    );
    // Region phrases are short: ranked by logProb, as eval-regions scores them.
    const decoding = { beam: this.regionBeam, lengthNormalization: 0, maxLength: this.maxLength };
    return batchedBeamSearch(steppers, decoding).map((captions) =>
      g.vocabulary.decode(captions[0].words).join(" "),
    );
  }

  async close(): Promise<void> {
    await closeVision(this.parts.vision);
  }
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${what}: expected an integer >= 1`);
  return n;
}

async function closeVision(vision: VisionModels): Promise<void> {
  await vision.encoder.close();
  await vision.detector?.close();
}
