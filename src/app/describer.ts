import { performance } from "node:perf_hooks";
import type { AlignmentModel } from "../align/model.js";
import type { AlignmentFusion } from "../align/score-fusion.js";
import { InputError } from "../errors.js";
import { DEFAULT_RERANK_BEAM, rerankWithAlignment } from "../generate/alignment-rerank.js";
import {
  beamSearch,
  DEFAULT_BEAM,
  DEFAULT_LENGTH_NORMALIZATION,
  DEFAULT_MAX_LENGTH,
} from "../generate/decoding.js";
import { ensembleStepper } from "../generate/ensemble-stepper.js";
import type { LoadedGenerator } from "../generate/load-generator.js";
import { DEFAULT_REGION_RERANK, decodeRegionPhrases } from "../generate/region-phrases.js";
import type { SnippetConsensus } from "../generate/snippet-consensus.js";
import type { GroundingKnowledge } from "../mrf/grounding-knowledge.js";
import { groundSentence, MIN_GROUNDING_CONFIDENCE } from "../mrf/phrase-grounding.js";
import type { Box, Region, RegionSource } from "../vision/image.js";
import type { ModelRegistry } from "../vision/model-registry.js";
import {
  type BundleCache,
  type CaptionRerankSetting,
  loadBundle,
  type ModelBundle,
  type RegionConsensusSetting,
} from "./model-bundle.js";
import { type ImageInput, regionFeatures } from "./region-features.js";
import {
  DEFAULT_REGION_PHRASES,
  type HiddenBecause,
  hiddenBecause,
  type RegionPhraseSetting,
} from "./region-phrase-filter.js";
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
  /**
   * Beam width for each region's phrase (default: the bundle's regionRerank.beam when its phrases
   * are reranked, else DEFAULT_REGION_BEAM).
   */
  readonly regionBeam?: number;
  /**
   * Weight of the alignment model's score of a region's phrases on that region when reranking
   * their beam (generate/region-phrases.ts). Default: the bundle's regionRerank.weight, or no
   * reranking; 0 turns reranking off.
   */
  readonly regionRerankWeight?: number;
  /**
   * Weight of a region phrase's consensus with the snippets of the nearest train regions when
   * ranking its beam (generate/snippet-consensus.ts). Default: the bundle's regionConsensus.weight,
   * or none; 0 turns it off.
   */
  readonly regionConsensusWeight?: number;
  /**
   * Region phrases less confident than this are not shown (default: the bundle's
   * regionPhrases.minConfidence, else none: DEFAULT_MIN_CONFIDENCE, -Infinity).
   */
  readonly minPhraseConfidence?: number;
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
  /** The region's phrase when it is shown (phrase.shown); absent otherwise. */
  readonly caption?: string;
  /** What the region generator said of the region; absent when the bundle has no region generator. */
  readonly phrase?: RegionPhrase;
}

/** A region generator's phrase for one region, shown or not. */
export interface RegionPhrase {
  /** One or more words, the last not a function word (generate/region-phrases.ts). */
  readonly text: string;
  /** Its log-probability per predicted token (words and END): 0 is certain. */
  readonly confidence: number;
  /** Whether it is the region's caption. */
  readonly shown: boolean;
  /**
   * Why it is not: its confidence is below the threshold, or it names another class than the
   * region's confident detection (app/region-phrase-filter.ts).
   */
  readonly hidden?: HiddenBecause;
}

/** A noun phrase of the caption on the region it names (mrf/phrase-grounding.ts). */
export interface CaptionPhrase {
  readonly text: string;
  /** Words [start, end) of the caption. */
  readonly start: number;
  readonly end: number;
  /** Its region's index in `regions`, or -1 for the whole image. */
  readonly region: number;
  /** The region's box. */
  readonly box: Box;
  /** How clearly the phrase names its region over the runner-up (0: a tie). */
  readonly confidence: number;
  /** Whether it is confident enough to show (MIN_GROUNDING_CONFIDENCE). */
  readonly shown: boolean;
}

export interface ImageDescription {
  readonly width: number;
  readonly height: number;
  /** The whole-image caption. */
  readonly caption: string;
  /**
   * The caption's noun phrases, each on its region; empty when the bundle has no grounding
   * (bundle.json grounding).
   */
  readonly phrases: CaptionPhrase[];
  /**
   * Every region but the whole image: those carrying a shown phrase (their own, or one of the
   * caption's) first, then the others, each group in the regions' own order (detections first,
   * best score first, then fallback boxes).
   */
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
  /** What grounds the caption's phrases: the MRF's alignment model and the bundle's grounding. */
  readonly grounding?: { readonly model: AlignmentModel; readonly knowledge: GroundingKnowledge };
  /** The bundle's reranking of the caption (bundle.json captionRerank). */
  readonly captionRerank?: CaptionRerankSetting;
  /** The bundle's reranking of the region phrases (bundle.json regionRerank). */
  readonly regionRerank?: CaptionRerankSetting;
  /** The bundle's snippet consensus for the region phrases (bundle.json regionConsensus). */
  readonly regionConsensus?: {
    readonly consensus: SnippetConsensus;
    readonly setting: RegionConsensusSetting;
  };
  /** Which region phrases are shown (bundle.json regionPhrases; default DEFAULT_REGION_PHRASES). */
  readonly regionPhrases?: RegionPhraseSetting;
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
  private readonly regionRerankWeight: number;
  private readonly regionConsensusWeight: number;
  private readonly maxLength: number;
  private readonly phraseSetting: RegionPhraseSetting;

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
    this.regionRerankWeight = options.regionRerankWeight ?? parts.regionRerank?.weight ?? 0;
    if (!(this.regionRerankWeight >= 0)) {
      throw new InputError("regionRerankWeight: expected a number >= 0");
    }
    if (this.regionRerankWeight > 0 && !parts.alignment) {
      throw new InputError(
        "regionRerankWeight: there is no alignment model to rerank phrases with",
      );
    }
    this.regionConsensusWeight =
      options.regionConsensusWeight ?? parts.regionConsensus?.setting.weight ?? 0;
    if (!(this.regionConsensusWeight >= 0)) {
      throw new InputError("regionConsensusWeight: expected a number >= 0");
    }
    if (this.regionConsensusWeight > 0 && !parts.regionConsensus) {
      throw new InputError("regionConsensusWeight: the bundle has no snippet consensus");
    }
    const regionBeam =
      this.regionRerankWeight > 0
        ? (parts.regionRerank?.beam ?? DEFAULT_REGION_RERANK.beam)
        : DEFAULT_REGION_BEAM;
    this.regionBeam = positive(options.regionBeam ?? regionBeam, "regionBeam");
    this.maxLength = positive(options.maxLength ?? DEFAULT_MAX_LENGTH, "maxLength");
    const setting = parts.regionPhrases ?? DEFAULT_REGION_PHRASES;
    const minConfidence = options.minPhraseConfidence ?? setting.minConfidence;
    if (Number.isNaN(minConfidence)) {
      throw new InputError("minPhraseConfidence: expected a number");
    }
    this.phraseSetting = { ...setting, minConfidence };
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
          ...(b.grounding ? { grounding: { model: b.alignment, knowledge: b.grounding } } : {}),
          captionRerank: b.manifest.captionRerank,
          regionRerank: b.manifest.regionRerank,
          ...(b.regionConsensus && b.manifest.regionConsensus
            ? {
                regionConsensus: {
                  consensus: b.regionConsensus,
                  setting: b.manifest.regionConsensus,
                },
              }
            : {}),
          regionPhrases: b.manifest.regionPhrases,
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
    const regionPhrases = this.regionPhrases(r.features.subarray(dim), r.regions.slice(1));
    const described: RegionDescription[] = r.regions.slice(1).map((region, i) => {
      const phrase = regionPhrases?.[i];
      return {
        box: region.box,
        source: region.source,
        ...(region.label !== undefined ? { label: region.label } : {}),
        ...(region.score !== undefined ? { score: region.score } : {}),
        ...(phrase?.shown ? { caption: phrase.text } : {}),
        ...(phrase ? { phrase } : {}),
      };
    });
    const grounded = this.groundCaption(caption, r.features, r.regions);
    const carries = (i: number) =>
      described[i].caption !== undefined || grounded.some((g) => g.shown && g.region === i + 1);
    const order = [
      ...described.flatMap((_, i) => (carries(i) ? [i] : [])),
      ...described.flatMap((_, i) => (carries(i) ? [] : [i])),
    ];
    const regions = order.map((i) => described[i]);
    const phrases = grounded.map((g) => ({
      ...g,
      region: g.region === 0 ? -1 : order.indexOf(g.region - 1),
    }));
    const t2 = performance.now();
    return {
      width: r.width,
      height: r.height,
      caption,
      phrases,
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
   * The caption's noun phrases on the regions they name, `region` indexing `regions` (0 the whole
   * image); none without grounding.
   */
  private groundCaption(
    caption: string,
    features: Float32Array,
    regions: readonly Region[],
  ): CaptionPhrase[] {
    const grounding = this.parts.grounding;
    if (!grounding || caption === "") return [];
    const tokens = caption.split(" ");
    return groundSentence(grounding.model, grounding.knowledge, features, regions, tokens).map(
      (g) => ({
        text: tokens.slice(g.start, g.end).join(" "),
        start: g.start,
        end: g.end,
        region: g.region,
        box: regions[g.region].box,
        confidence: g.confidence,
        shown: g.confidence >= MIN_GROUNDING_CONFIDENCE,
      }),
    );
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

  /**
   * Every region's phrase from the region generator, in one batched beam search, each judged by
   * the phrase filter; undefined without a region generator (an entry is undefined when its
   * beam found no allowed phrase).
   */
  private regionPhrases(
    features: Float32Array,
    regions: readonly Region[],
  ): (RegionPhrase | undefined)[] | undefined {
    const g = this.parts.regionGenerator;
    if (!g) return undefined;
    const { alignment, regionConsensus } = this.parts;
    const decoded = decodeRegionPhrases(g, features, {
      beam: this.regionBeam,
      maxLength: this.maxLength,
      ...(this.regionRerankWeight > 0 && alignment
        ? { rerank: { scorer: alignment, weight: this.regionRerankWeight } }
        : {}),
      ...(this.regionConsensusWeight > 0 && regionConsensus
        ? {
            consensus: {
              consensus: regionConsensus.consensus,
              weight: this.regionConsensusWeight,
              neighbours: regionConsensus.setting.neighbours,
            },
          }
        : {}),
    });
    return decoded.map((p, i) => {
      if (!p) return undefined;
      const hidden = hiddenBecause(p, regions[i], this.phraseSetting);
      return {
        text: p.words.join(" "),
        confidence: p.confidence,
        shown: hidden === undefined,
        ...(hidden ? { hidden } : {}),
      };
    });
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
