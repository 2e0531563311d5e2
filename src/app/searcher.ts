import { resolve } from "node:path";
import type { AlignmentModel } from "../align/model.js";
import { byScoreDescending } from "../align/retrieval.js";
import type { Tensor } from "../core/index.js";
import { tokenize } from "../data/tokenizer.js";
import { InputError } from "../errors.js";
import { alignSentence } from "../mrf/phrase-alignment.js";
import type { StoredImage } from "../vision/feature-store.js";
import type { Box, Region } from "../vision/image.js";
import type { LoadOptions } from "./describer.js";
import { ImageIndex } from "./image-index.js";
import { loadBundle, type ModelBundle } from "./model-bundle.js";
import { type ImageInput, regionFeatures } from "./region-features.js";
import { openVisionModels, type VisionModels } from "./vision-setup.js";

/**
 * An image to index: a file (keyed by its absolute path), or an image (path or bytes) under a
 * name of one's own, optionally with its regions (the whole image first) instead of the
 * detector's.
 */
export type IndexInput =
  | string
  | { readonly name: string; readonly image: ImageInput; readonly regions?: readonly Region[] };

/** A phrase of the query and the region the chain MRF put it on. */
export interface PhraseRegion {
  readonly phrase: string;
  /** Token positions [start, end) in the tokenized sentence. */
  readonly start: number;
  readonly end: number;
  /** Row of the region in the image's regions (0 = the whole image). */
  readonly region: number;
  readonly box: Box;
  /** Mean v_region·s_t over the phrase's words. */
  readonly score: number;
}

export interface ImageHit {
  /** The image's key in the index: its absolute path, or the name it was indexed under. */
  readonly image: string;
  /** S_kl = sum over the sentence's words of the best region's v_i·s_t. */
  readonly score: number;
  readonly width: number;
  readonly height: number;
  /** The chain MRF's phrase-to-region segments (top hits only). */
  readonly phrases?: PhraseRegion[];
}

export interface SentenceHit {
  readonly sentence: string;
  readonly score: number;
}

export interface IndexResult {
  readonly added: number;
  readonly skipped: number;
  readonly failures: readonly { readonly image: string; readonly error: string }[];
}

export interface SearchOptions {
  /** How many of the top hits get their phrase-to-region segments (default 3). */
  readonly withPhrases?: number;
}

/** Sentences scored per BRNN pass in image search, to bound memory on large sentence sets. */
const SENTENCE_CHUNK = 512;

/**
 * Searches images with a sentence and sentences with an image, over an on-disk index built with
 * the bundle's vision setup (ImageIndex). The vision models are loaded only when needed
 * (indexing, search by image); sentence search reads the stored features.
 */
export class Searcher {
  private vision: VisionModels | undefined;
  private cache: { images: StoredImage[]; vs: Tensor[] } | undefined;

  private constructor(
    private readonly bundle: ModelBundle,
    readonly indexDir: string,
    private readonly options: LoadOptions,
  ) {}

  /** A Searcher over the index at `indexDir` (created by `index`) with a bundle. */
  static open(bundle: string | ModelBundle, indexDir: string, options: LoadOptions = {}): Searcher {
    const b = typeof bundle === "string" ? loadBundle(bundle, options.bundles) : bundle;
    return new Searcher(b, indexDir, options);
  }

  private get model(): AlignmentModel {
    return this.bundle.alignment;
  }

  private async visionModels(): Promise<VisionModels> {
    this.vision ??= await openVisionModels(this.bundle.manifest.vision, {
      ...this.options,
      baseDir: this.bundle.dir,
    });
    if (this.vision.encoder.dim !== this.model.config.featureDim) {
      throw new InputError(
        `${this.bundle.dir}: the encoder ${this.vision.encoder.name} gives ${this.vision.encoder.dim}-d features, the alignment model takes ${this.model.config.featureDim}-d`,
      );
    }
    return this.vision;
  }

  /**
   * Adds images (those not indexed yet) and sentences to the index, creating it when absent.
   * An image that cannot be decoded is listed in `failures` and skipped.
   */
  async index(
    images: readonly IndexInput[],
    options: { sentences?: readonly string[]; onImage?: () => void } = {},
  ): Promise<IndexResult> {
    const vision = await this.visionModels();
    const index = ImageIndex.openForWriting(this.indexDir, {
      encoder: vision.encoder.name,
      dim: vision.encoder.dim,
      regionsPerImage: vision.regions,
      detector: vision.detector?.name ?? null,
    });
    const failures: { image: string; error: string }[] = [];
    let pending: StoredImage[] = [];
    let added = 0;
    let skipped = 0;
    const flush = () => {
      index.append(pending);
      added += pending.length;
      pending = [];
    };
    try {
      for (const input of images) {
        const key = typeof input === "string" ? resolve(input) : input.name;
        if (index.has(key) || pending.some((p) => p.filename === key)) {
          skipped++;
          options.onImage?.();
          continue;
        }
        try {
          const r =
            typeof input === "string"
              ? await regionFeatures(vision, input, key)
              : await regionFeatures(vision, input.image, key, input.regions);
          pending.push({
            filename: key,
            id: -1,
            width: r.width,
            height: r.height,
            regions: r.regions,
            features: r.features,
          });
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          failures.push({ image: key, error: err.message });
        }
        if (pending.length === 16) flush();
        options.onImage?.();
      }
      if (options.sentences) index.addSentences(options.sentences);
    } finally {
      try {
        flush();
      } finally {
        index.close();
      }
    }
    this.cache = undefined;
    return { added, skipped, failures };
  }

  /** The indexed images and each search model's region vectors v (image after image). */
  private indexed(): { images: StoredImage[]; vs: Tensor[] } {
    if (this.cache) return this.cache;
    const index = ImageIndex.open(this.indexDir);
    const dim = index.store.meta.dim;
    if (dim !== this.model.config.featureDim) {
      throw new InputError(
        `${this.indexDir}: holds ${dim}-d features, the bundle's alignment model takes ${this.model.config.featureDim}-d`,
      );
    }
    const images = index.images();
    const regions = index.store.meta.regionsPerImage;
    const raw = new Float32Array(images.length * regions * dim);
    images.forEach((im, k) => {
      raw.set(im.features, k * regions * dim);
    });
    this.cache = { images, vs: this.bundle.search.embedImages(raw, images.length, regions) };
    return this.cache;
  }

  /**
   * The k indexed images that best match `sentence`, best first, by the bundle's S_kl (its
   * alignment model's, or the fusion of its search models); the first `withPhrases` of them
   * carry the chain MRF's phrase-to-region segments, from the alignment model.
   */
  search(sentence: string, k = 10, options: SearchOptions = {}): ImageHit[] {
    const tokens = tokenize(sentence);
    const ids = this.model.encode(tokens);
    if (ids.length === 0) {
      throw new InputError(
        `no word of "${sentence}" is in the model's vocabulary of ${this.model.vocabulary.size} words`,
      );
    }
    const { images, vs } = this.indexed();
    if (images.length === 0) return [];
    const scores = this.bundle.search.scoreEmbedded(vs, images.length, [tokens]);
    const order = topIndices(scores, k);
    const withPhrases = options.withPhrases ?? 3;
    return order.map((i, rank) => {
      const im = images[i];
      const hit = { image: im.filename, score: scores[i], width: im.width, height: im.height };
      if (rank >= withPhrases) return hit;
      const segments = alignSentence(this.model, im.features, tokens, this.bundle.manifest.beta);
      return {
        ...hit,
        phrases: segments.map((s) => ({
          phrase: tokens.slice(s.start, s.end).join(" "),
          start: s.start,
          end: s.end,
          region: s.region,
          box: im.regions[s.region].box,
          score: s.score,
        })),
      };
    });
  }

  /**
   * The k sentences that best describe an image, best first: of `options.sentences` when given,
   * else of the index's. Sentences with no word in the vocabulary cannot be scored and are left
   * out. `options.regions` replace the detector's, as in `index`.
   */
  async searchByImage(
    image: ImageInput,
    k = 10,
    options: { sentences?: readonly string[]; regions?: readonly Region[] } = {},
  ): Promise<SentenceHit[]> {
    const pool = options.sentences ?? ImageIndex.open(this.indexDir).sentences();
    if (pool.length === 0) {
      throw new InputError(
        `${this.indexDir}: no sentences indexed; index some (imagesent index --sentences FILE) or give a list`,
      );
    }
    const name = typeof image === "string" ? image : "the image";
    const r = await regionFeatures(await this.visionModels(), image, name, options.regions);
    const regions = r.features.length / this.model.config.featureDim;
    const encoded = pool
      .map((sentence) => ({ sentence, tokens: tokenize(sentence) }))
      .filter((s) => this.model.encode(s.tokens).length > 0);
    const vs = this.bundle.search.embedImages(r.features, 1, regions);
    const scores = new Float32Array(encoded.length);
    for (let at = 0; at < encoded.length; at += SENTENCE_CHUNK) {
      const chunk = encoded.slice(at, at + SENTENCE_CHUNK).map((s) => s.tokens);
      scores.set(this.bundle.search.scoreEmbedded(vs, 1, chunk), at);
    }
    return topIndices(scores, k).map((i) => ({
      sentence: encoded[i].sentence,
      score: scores[i],
    }));
  }

  /** Releases the vision models' ONNX sessions, if they were loaded. */
  async close(): Promise<void> {
    await this.vision?.encoder.close();
    await this.vision?.detector?.close();
    this.vision = undefined;
  }
}

/** Indices of the k largest scores, largest first, NaN last (ties: lower index first). */
function topIndices(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => byScoreDescending(scores[a], scores[b]) || a - b)
    .slice(0, Math.max(0, k));
}
