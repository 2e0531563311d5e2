import { existsSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AlignmentModel } from "../align/model.js";
import { byScoreDescending } from "../align/retrieval.js";
import { tokenize } from "../data/tokenizer.js";
import { InputError } from "../errors.js";
import { alignSentence } from "../mrf/phrase-alignment.js";
import { groundSentence, MIN_GROUNDING_CONFIDENCE } from "../mrf/phrase-grounding.js";
import { FeatureStore } from "../vision/feature-store.js";
import type { Box, Region } from "../vision/image.js";
import type { LoadOptions } from "./describer.js";
import {
  acquireLock,
  checkBundle,
  ImageIndex,
  type IndexedImage,
  type IndexSpec,
  installRebuilt,
  isLegacyIndex,
  type NewImage,
  type UpgradeProgress,
} from "./image-index.js";
import { loadBundle, type ModelBundle } from "./model-bundle.js";
import type { RegionCodec } from "./region-codes.js";
import { type ImageInput, regionFeatures } from "./region-features.js";
import { type MemberQuery, RegionEmbedder } from "./region-vectors.js";
import { matchOf, perWord, readCalibration, type SearchCalibration } from "./search-calibration.js";
import { openVisionModels, type VisionModels, type VisionSetup } from "./vision-setup.js";

/**
 * An image to index: a file (keyed by its absolute path), or an image (path or bytes) under a
 * name of one's own, optionally with its regions (the whole image first) instead of the
 * detector's.
 */
export type IndexInput =
  | string
  | { readonly name: string; readonly image: ImageInput; readonly regions?: readonly Region[] };

/** A phrase of the query and the region it was grounded to (or the chain MRF put it on). */
export interface PhraseRegion {
  readonly phrase: string;
  /** Token positions [start, end) in the tokenized sentence. */
  readonly start: number;
  readonly end: number;
  /** Row of the region in the image's regions (0 = the whole image). */
  readonly region: number;
  readonly box: Box;
  /** The grounding's confidence, or (MRF) the mean v_region·s_t over the phrase's words. */
  readonly score: number;
}

export interface ImageHit {
  /** The image's key in the index: its absolute path, or the name it was indexed under. */
  readonly image: string;
  /**
   * Sentence search: S_kl = sum over the sentence's words of the best region's v_i·s_t (fused
   * over the bundle's search models). Similar images: the weighted mean over the query's regions
   * of the best cosine with a region of this image.
   */
  readonly score: number;
  /**
   * Sentence search with a calibrated bundle: 0 where unrelated images score, 1 where the image
   * a sentence was written for does (search-calibration.ts).
   */
  readonly match?: number;
  readonly width: number;
  readonly height: number;
  /** The query's phrases on the image's regions (top hits only; Searcher.phrasesOn). */
  readonly phrases?: PhraseRegion[];
}

/** What a sentence search found. */
export interface ImageSearch {
  readonly hits: ImageHit[];
  /** Words of the query that the alignment model does not know (they were left out). */
  readonly unknownWords: string[];
  /**
   * Whether the best hit reaches the bundle's calibrated threshold (false: nothing matches
   * well); null when the bundle has no calibration or nothing is indexed.
   */
  readonly goodMatch: boolean | null;
}

export interface SentenceHit {
  readonly sentence: string;
  readonly score: number;
}

export interface IndexResult {
  readonly added: number;
  /** Images indexed before whose file changed (size or mtime), embedded again. */
  readonly reindexed: number;
  readonly skipped: number;
  readonly failures: readonly { readonly image: string; readonly error: string }[];
}

/** An image's region features, made by a FeatureSource for the index to embed. */
export interface ExtractedImage {
  readonly key: string;
  readonly width: number;
  readonly height: number;
  readonly regions: readonly Region[];
  /** regions x dim raw CNN codes. */
  readonly features: Float32Array;
}

/** What a FeatureSource is told about the index it computes features for. */
export interface FeatureSourceContext {
  readonly indexDir: string;
  /** The keys of every image of the run, in order (those to do among them), for stable shards. */
  readonly keys: readonly string[];
  readonly vision: IndexSpec["vision"];
  /** The bundle's folder and its vision setup: what makes the features. */
  readonly bundleDir: string;
  readonly setup: VisionSetup;
  /** The fingerprint of the bundle's search models the index is checked against. */
  readonly fingerprint: string;
}

/**
 * Computes the region features of the image files `Searcher.index` has to (re-)index, elsewhere
 * than in this process (e.g. workers of a job queue), and hands them on with `deliver` in the
 * order of `todo` (failed images left out), so the index is the one a plain run writes.
 */
export type FeatureSource = (
  todo: readonly {
    readonly key: string;
    readonly path: string;
    /** The file's size and mtime, as it is indexed under (docs/search.md). */
    readonly size: number;
    readonly mtime: number;
  }[],
  context: FeatureSourceContext,
  deliver: (
    images: readonly ExtractedImage[],
    failures: readonly { readonly image: string; readonly error: string }[],
  ) => Promise<void>,
) => Promise<void>;

/** How many images and regions the approximate stage hands on (defaults in DEFAULT_RANKING). */
export interface RankingOptions {
  /** Images scored exactly after the approximate stage. */
  readonly candidates?: number;
  /**
   * Indexes of at most this many images have every image's sketch scored; larger ones, only
   * those of the `shortlist` images whose summaries score best.
   */
  readonly scanBelow?: number;
  /** Images whose sketches are scored in an index past `scanBelow` (ImageSummary.best), at least. */
  readonly shortlist?: number;
  /** The share of such an index whose sketches are scored, where that is more than `shortlist`. */
  readonly shortlistShare?: number;
  /**
   * In an index with cluster summaries: the shortlist's images whose sketches are scored, the
   * best by cluster summary (ClusterSummary), where the shortlist is longer.
   */
  readonly sketched?: number;
  /** The share of the shortlist whose sketches are so chosen, where that is more than `sketched`. */
  readonly sketchedShare?: number;
  /** Indexes of at most this many images are scored exactly throughout. */
  readonly exactBelow?: number;
  /**
   * In an index with fine sketches: images of the sketch stage's best that are scored by their
   * fine sketches, at least (the exact stage takes the best of those).
   */
  readonly refine?: number;
}

export interface SearchOptions extends RankingOptions {
  /** How many of the top hits get their phrase-to-region segments (default 3). */
  readonly withPhrases?: number;
}

/**
 * Chosen with bench:search (docs/search.md): on the 8,000-image Flickr8k index 200 candidates
 * find 0.986 of the exact top 10 (100: 0.969). scanBelow bounds the sketch scan's cost (linear
 * in the index): on the synthetic 10^5-image index scanning every sketch found 0.968 at p50 462
 * ms, a shortlist of 10,000 by the images' summaries 0.956 at 69 ms (5,000: 0.943, 42 ms), and
 * the two cost the same near 20,000 images. On the synthetic 10^6-image index (500 near copies of
 * each real image) a shortlist of 10,000 and 200 candidates found 0.748 at 65 ms, 5% of the index
 * (50,000) and 1,000 candidates 0.914 at 235 ms: the shortlist grows with the index, and the
 * exact stage with the shortlist. Fine sketches (an index written since they were added) rank
 * the sketch stage's best 4 x candidates, at least `refine`, so that fewer need the exact stage:
 * at 10^6 the best 2,000 by sketch and the best 600 of those by fine sketch held all the
 * shortlist held (0.98); at 10^5 refining 800 and 2,000 found the same 0.971. Cluster summaries
 * (an index written since they were added) choose the `sketched` of the shortlist whose sketches
 * are read: at 10^5 the best 5,000 of a 10,000 shortlist held all it held (0.968 over 40
 * queries), the best 2,000 0.958; at 10^6 the best 20,000 of the 50,000 shortlist held all it
 * held (0.980 over 49 queries), the best 10,000 0.969 and 5,000 0.960: `sketchedShare` 0.4 keeps
 * 5,000 at 10^5 and reads 20,000 at 10^6.
 */
export const DEFAULT_RANKING: Required<RankingOptions> = {
  candidates: 200,
  scanBelow: 20_000,
  shortlist: 10_000,
  shortlistShare: 0.05,
  sketched: 5000,
  sketchedShare: 0.4,
  exactBelow: 1000,
  refine: 800,
};

/**
 * A shortlist of N images sends N / 50 (at least `candidates`) to the exact stage, or N / 80 in
 * an index whose fine sketches rank the sketch stage's best.
 */
const SHORTLISTED_PER_CANDIDATE = 50;
const SHORTLISTED_PER_CANDIDATE_REFINED = 80;
/** Fine sketches are scored for 4 images an exact candidate, at least `refine`. */
const REFINED_PER_CANDIDATE = 4;

/** Sentences scored per BRNN pass in image search, to bound memory on large sentence sets. */
const SENTENCE_CHUNK = 512;
/** Images embedded per write; the first write of a new index also fits its sketch spaces. */
const WRITE_BATCH = 64;
const FIRST_WRITE_BATCH = 256;

export interface SearcherOptions extends LoadOptions {
  /** How new indexes compress their region vectors (default int8). */
  readonly codec?: RegionCodec;
}

/**
 * Searches images with a sentence, images similar to an image, and sentences with an image, over
 * an on-disk index built with the bundle (ImageIndex, docs/search.md): the images' summaries and
 * sketches give candidates, whose exact S_kl ranks them. What is held per indexed image in memory
 * is its summary (200 bytes), in an index large enough to use them; the vision models load only
 * when needed (indexing, queries by image file).
 */
export class Searcher {
  private vision: VisionModels | undefined;
  private opened: Promise<ImageIndex> | undefined;
  private embedders = new Map<number, RegionEmbedder>();
  private readonly calibration: SearchCalibration | undefined;

  private constructor(
    private readonly bundle: ModelBundle,
    private readonly bundleName: string,
    readonly indexDir: string,
    private readonly options: SearcherOptions,
  ) {
    this.calibration = readCalibration(bundle.dir);
  }

  /** A Searcher over the index at `indexDir` (created by `index`) with a bundle. */
  static open(
    bundle: string | ModelBundle,
    indexDir: string,
    options: SearcherOptions = {},
  ): Searcher {
    const b = typeof bundle === "string" ? loadBundle(bundle, options.bundles) : bundle;
    const name = typeof bundle === "string" ? bundle : (b.dir ?? "the bundle");
    return new Searcher(b, name, indexDir, options);
  }

  private get model(): AlignmentModel {
    return this.bundle.alignment;
  }

  /** The search models over `regions` stored regions per image. */
  private embedder(regions: number): RegionEmbedder {
    let e = this.embedders.get(regions);
    if (!e) {
      e = new RegionEmbedder(this.bundle.search, regions);
      this.embedders.set(regions, e);
    }
    return e;
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

  private spec(vision: IndexSpec["vision"], embedder: RegionEmbedder): IndexSpec {
    return {
      bundle: embedder.fingerprint(),
      bundleName: this.bundleName,
      vision,
      members: embedder.members.map((m) => ({ regions: m.regions, embed: m.model.config.embed })),
      weights: embedder.members.map((m) => m.weight),
      codec: this.options.codec,
    };
  }

  /** The index, opened once and checked against the bundle. */
  private async openIndex(): Promise<ImageIndex> {
    this.opened ??= (async () => {
      const index = await ImageIndex.open(this.indexDir);
      const { dim, regionsPerImage } = index.manifest.vision;
      if (dim !== this.model.config.featureDim) {
        throw new InputError(
          `${this.indexDir}: holds ${dim}-d features, the bundle's alignment model takes ${this.model.config.featureDim}-d`,
        );
      }
      checkBundle(index, this.embedder(regionsPerImage).fingerprint(), this.bundleName);
      return index;
    })();
    this.opened.catch(() => {
      this.opened = undefined;
    });
    return this.opened;
  }

  /** Images in the index. */
  async size(): Promise<number> {
    return (await this.openIndex()).size;
  }

  /**
   * Adds images and sentences to the index, creating it when absent. A file indexed before is
   * skipped while its size and mtime are unchanged, and embedded again when they changed; an
   * image given by name is skipped when its name is indexed. An image that cannot be decoded is
   * listed in `failures` and skipped. With `source`, the files to index get their features from
   * it rather than from this process's models (`onImage` then counts only the skipped ones).
   */
  async index(
    images: readonly IndexInput[],
    options: {
      sentences?: readonly string[];
      onImage?: () => void;
      source?: FeatureSource;
      onUpgrade?: UpgradeProgress;
    } = {},
  ): Promise<IndexResult> {
    const vision = await this.visionModels();
    const embedder = this.embedder(vision.regions);
    const index = await ImageIndex.openForWriting(
      this.indexDir,
      this.spec(
        {
          encoder: vision.encoder.name,
          dim: vision.encoder.dim,
          regionsPerImage: vision.regions,
          detector: vision.detector?.name ?? null,
        },
        embedder,
      ),
      options.onUpgrade,
    );
    const failures: { image: string; error: string }[] = [];
    let pending: NewImage[] = [];
    let added = 0;
    let reindexed = 0;
    let skipped = 0;
    let first = index.size === 0;
    const flush = async () => {
      await index.add(pending, embedder);
      pending = [];
      first = false;
    };
    const push = async (image: NewImage) => {
      pending.push(image);
      if (pending.length >= (first ? FIRST_WRITE_BATCH : WRITE_BATCH)) await flush();
    };
    /** Files for `options.source`, in order, with the identity they are indexed under. */
    const todo: { key: string; path: string; size: number; mtime: number; again: boolean }[] = [];
    try {
      for (const input of images) {
        const key = typeof input === "string" ? resolve(input) : input.name;
        const file = typeof input === "string" ? fileIdentity(key) : { size: -1, mtime: -1 };
        const before =
          (await index.get(key)) ??
          pending.find((p) => p.key === key) ??
          todo.find((t) => t.key === key);
        const same =
          before &&
          (typeof input !== "string" || (before.size === file.size && before.mtime === file.mtime));
        if (same) {
          skipped++;
          options.onImage?.();
          continue;
        }
        if (before) reindexed++;
        else added++;
        if (options.source && typeof input === "string") {
          todo.push({ key, path: key, ...file, again: before !== undefined });
          continue;
        }
        try {
          const r =
            typeof input === "string"
              ? await regionFeatures(vision, input, key)
              : await regionFeatures(vision, input.image, key, input.regions);
          await push({
            key,
            ...file,
            width: r.width,
            height: r.height,
            regions: r.regions,
            features: r.features,
          });
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          failures.push({ image: key, error: err.message });
          if (before) reindexed--;
          else added--;
        }
        options.onImage?.();
      }
      if (options.source && todo.length > 0) {
        const identity = new Map(todo.map((t) => [t.key, t]));
        await options.source(
          todo,
          {
            indexDir: resolve(this.indexDir),
            keys: images.map((input) => (typeof input === "string" ? resolve(input) : input.name)),
            vision: index.manifest.vision,
            bundleDir: resolve(this.bundle.dir),
            setup: this.bundle.manifest.vision,
            fingerprint: embedder.fingerprint(),
          },
          async (batch, failed) => {
            for (const im of batch) {
              const file = identity.get(im.key);
              if (!file) throw new InputError(`${im.key}: delivered, but not asked for`);
              await push({ ...im, size: file.size, mtime: file.mtime });
            }
            for (const f of failed) {
              failures.push(f);
              if (identity.get(f.image)?.again) reindexed--;
              else added--;
            }
          },
        );
      }
      if (options.sentences) index.addSentences(options.sentences);
      await flush();
      await index.optimize();
    } finally {
      await index.close();
    }
    this.opened = undefined;
    return { added, reindexed, skipped, failures };
  }

  /** Removes images from the index by key; returns how many were indexed. */
  async remove(keys: readonly string[]): Promise<number> {
    const current = await ImageIndex.open(this.indexDir);
    const { vision } = current.manifest;
    await current.close();
    const embedder = this.embedder(vision.regionsPerImage);
    const index = await ImageIndex.openForWriting(this.indexDir, this.spec(vision, embedder));
    try {
      const removed = await index.remove(keys);
      await index.optimize();
      return removed;
    } finally {
      await index.close();
      this.opened = undefined;
    }
  }

  /**
   * The indexed files under `dir` (keys that are absolute paths inside it) whose file is gone:
   * what `imagesent index DIR --prune` removes.
   */
  async missingFiles(dir: string): Promise<string[]> {
    const index = await this.openIndex();
    const root = `${resolve(dir)}/`;
    const gone: string[] = [];
    for (let at = 0; ; at += 1000) {
      const keys = await index.keys(at, 1000);
      if (keys.length === 0) break;
      for (const k of keys) if (k.startsWith(root) && !existsSync(k)) gone.push(k);
    }
    return gone;
  }

  /**
   * Embeds every indexed image again from its stored CNN codes, with this Searcher's bundle,
   * without decoding any image: after the bundle changed, or to convert an index of the first
   * format (raw codes in INDEX/features). The new tables are written in INDEX/rebuild and take
   * the old ones' place at the end; the index is locked meanwhile.
   */
  async rebuild(
    options: { onStart?: (images: number) => void; onImage?: () => void } = {},
  ): Promise<{ images: number }> {
    const dir = this.indexDir;
    if (!existsSync(join(dir, "index.json")))
      throw new InputError(`${dir}: not an image index (no index.json)`);
    const legacy = isLegacyIndex(dir);
    const source = legacy ? undefined : await ImageIndex.openToRebuild(dir);
    const store = legacy ? FeatureStore.open(join(dir, "features")) : undefined;
    const vision = source
      ? source.manifest.vision
      : {
          encoder: store!.meta.encoder,
          dim: store!.meta.dim,
          regionsPerImage: store!.meta.regionsPerImage,
          detector: store!.meta.detector,
        };
    if (vision.dim !== this.model.config.featureDim) {
      throw new InputError(
        `${dir}: holds ${vision.dim}-d features, the bundle's alignment model takes ${this.model.config.featureDim}-d`,
      );
    }
    const embedder = this.embedder(vision.regionsPerImage);
    options.onStart?.(source ? source.size : store!.size);
    const lock = acquireLock(dir);
    const freshDir = join(dir, "rebuild");
    let images = 0;
    try {
      rmSync(freshDir, { recursive: true, force: true });
      const fresh = await ImageIndex.openForWriting(freshDir, {
        ...this.spec(vision, embedder),
        codec: this.options.codec ?? source?.manifest.codec,
        sketchDims: source?.manifest.sketchDims,
        summaryDims: source?.manifest.summaryDims || undefined,
        fineSketchDims: source?.manifest.fineSketchDims || undefined,
      });
      let batch: NewImage[] = [];
      const write = async () => {
        await fresh.add(batch, embedder);
        images += batch.length;
        batch = [];
      };
      if (source) {
        for await (const part of source.scanFeatures()) {
          batch.push(...part);
          for (let i = 0; i < part.length; i++) options.onImage?.();
          if (batch.length >= FIRST_WRITE_BATCH) await write();
        }
        await source.close();
      } else {
        for (const im of store!.entries()) {
          batch.push({
            key: im.filename,
            ...(existsSync(im.filename) ? fileIdentity(im.filename) : { size: -1, mtime: -1 }),
            width: im.width,
            height: im.height,
            regions: im.regions,
            features: im.features,
          });
          options.onImage?.();
          if (batch.length >= FIRST_WRITE_BATCH) await write();
        }
      }
      await write();
      await fresh.optimize();
      await installRebuilt(dir, fresh);
    } finally {
      rmSync(lock, { force: true });
      this.opened = undefined;
    }
    return { images };
  }

  /**
   * The k indexed images that best match `sentence`, best first, by the bundle's S_kl (its
   * alignment model's, or the fusion of its search models); the first `withPhrases` of them
   * carry the chain MRF's phrase-to-region segments, from the alignment model.
   */
  async search(sentence: string, k = 10, options: SearchOptions = {}): Promise<ImageSearch> {
    const tokens = tokenize(sentence);
    const words = this.model.encode(tokens).length;
    if (words === 0) {
      throw new InputError(
        `no word of "${sentence}" is in the model's vocabulary of ${this.model.vocabulary.size} words`,
      );
    }
    const unknownWords = [
      ...new Set(tokens.filter((t) => this.model.vocabulary.encode([t]).length === 0)),
    ];
    const index = await this.openIndex();
    const embedder = this.embedder(index.manifest.vision.regionsPerImage);
    const q = embedder.words(tokens);
    const ranked = await rank(index, embedder, q.queries, k, options);
    const withPhrases = options.withPhrases ?? 3;
    const c = this.calibration;
    const hits: ImageHit[] = [];
    for (const [rankAt, { image: im, score }] of ranked.entries()) {
      const match = c ? { match: matchOf(c, perWord(score, words)) } : {};
      const hit = { image: im.key, score, ...match, width: im.width, height: im.height };
      if (rankAt >= withPhrases) {
        hits.push(hit);
        continue;
      }
      const features = await index.features(im.id);
      hits.push({ ...hit, phrases: this.phrasesOn(features, im.regions, tokens) });
    }
    const goodMatch = c && hits.length > 0 ? perWord(hits[0].score, words) >= c.threshold : null;
    return { hits, unknownWords, goodMatch };
  }

  /**
   * The query's phrases on a hit's regions: with the bundle's grounding, its noun phrases each on
   * the region the learned chooser gives it, those grounded at MIN_GROUNDING_CONFIDENCE or more
   * (score: the confidence); without, the chain MRF's segments (score: mean v_region·s_t).
   */
  private phrasesOn(
    features: Float32Array,
    regions: readonly Region[],
    tokens: readonly string[],
  ): PhraseRegion[] {
    const grounding = this.bundle.grounding;
    const segments = grounding
      ? groundSentence(this.model, grounding, features, regions, tokens)
          .filter((g) => g.confidence >= MIN_GROUNDING_CONFIDENCE)
          .map((g) => ({ ...g, score: g.confidence }))
      : alignSentence(this.model, features, tokens, this.bundle.manifest.beta);
    return segments.map((s) => ({
      phrase: tokens.slice(s.start, s.end).join(" "),
      start: s.start,
      end: s.end,
      region: s.region,
      box: regions[s.region].box,
      score: s.score,
    }));
  }

  /**
   * The k indexed images most like `image`, best first (the image itself left out): an indexed
   * key, or an image file or bytes (embedded with the bundle's vision setup; `regions` replace
   * the detector's). The score is the weighted mean, over the search models and the query's
   * regions, of each region's best cosine with a region of the other image.
   */
  async similar(
    image: ImageInput,
    k = 10,
    options: RankingOptions & { regions?: readonly Region[] } = {},
  ): Promise<ImageHit[]> {
    const index = await this.openIndex();
    const embedder = this.embedder(index.manifest.vision.regionsPerImage);
    const key = typeof image === "string" ? image : undefined;
    const indexed = key ? ((await index.get(key)) ?? (await index.get(resolve(key)))) : undefined;
    let vs: Float32Array[];
    if (indexed) {
      vs = index.vectors([indexed.id]).vs;
    } else {
      const r = await regionFeatures(
        await this.visionModels(),
        image,
        key ?? "the image",
        options.regions,
      );
      if (r.regions.length !== embedder.regions) {
        throw new InputError(
          `${key ?? "the image"}: ${r.regions.length} regions, the index holds ${embedder.regions} per image`,
        );
      }
      vs = embedder.embed(r.features, 1);
    }
    const unit = vs.map((v, i) => unitRows(v, embedder.members[i].model.config.embed));
    const queries: MemberQuery[] = unit.map((v, i) => ({
      rows: embedder.members[i].regions,
      vectors: v,
    }));
    const total = embedder.members.reduce((s, m) => s + m.weight * m.regions, 0);
    const ranked = await rank(index, embedder, queries, k + 1, options, true);
    return ranked
      .filter((h) => h.image.id !== indexed?.id)
      .slice(0, k)
      .map((h) => ({
        image: h.image.key,
        score: h.score / total,
        width: h.image.width,
        height: h.image.height,
      }));
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
    const pool = options.sentences ?? (await this.openIndex()).sentences();
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

  /** Releases the vision models' ONNX sessions and the index, if they were opened. */
  async close(): Promise<void> {
    await this.vision?.encoder.close();
    await this.vision?.detector?.close();
    this.vision = undefined;
    const opened = this.opened;
    this.opened = undefined;
    await opened?.then((i) => i.close()).catch(() => undefined);
  }
}

/** How many images each stage of `rank` takes (undefined shortlist: every image's sketch). */
export interface RankingPlan {
  readonly shortlist: number | undefined;
  readonly sketched: number;
  /** Images scored by their fine sketches; undefined where the index has none or all is exact. */
  readonly refine: number | undefined;
  /** Images scored exactly: `exact`, or every image where `everything`. */
  readonly exact: number;
  readonly everything: boolean;
}

/**
 * The stage sizes for k hits in an index of `size` images: past `scanBelow`, a shortlist of the
 * larger of `shortlist` and `shortlistShare` of the index; of it, the larger of `sketched` and
 * `sketchedShare` of it by cluster summary; a share of the shortlist scored exactly where that is
 * more than `candidates`, and with fine sketches 4 times as many (at least `refine`) by them.
 */
export function rankingPlan(
  size: number,
  hasFineSketches: boolean,
  k: number,
  options: RankingOptions = {},
): RankingPlan {
  const o = { ...DEFAULT_RANKING, ...options };
  const shortlist =
    size > o.scanBelow
      ? Math.max(o.shortlist, Math.ceil(o.shortlistShare * size), o.candidates, k)
      : undefined;
  const everything = size <= o.exactBelow;
  const refined = hasFineSketches && !everything;
  const per = refined ? SHORTLISTED_PER_CANDIDATE_REFINED : SHORTLISTED_PER_CANDIDATE;
  const exact = Math.max(o.candidates, Math.ceil((shortlist ?? 0) / per), k);
  const refine = refined ? Math.max(o.refine, REFINED_PER_CANDIDATE * exact) : undefined;
  const sketched = Math.max(
    o.sketched,
    Math.ceil(o.sketchedShare * (shortlist ?? 0)),
    refine ?? exact,
  );
  return { shortlist, sketched, refine, exact, everything };
}

/**
 * The k images with the largest fused score against a query (member query vectors), best first.
 * The candidate stage scores images by their sketches (ImageIndex.approximate: each model's max
 * per query vector, in its own small space): every image's, or in an index of more than
 * `scanBelow` images those of the `shortlist` images whose summaries (one short vector per
 * image: the regions' mean) score best against the query's summed word vectors, and of those
 * the `sketched` whose cluster summaries score best (rankingPlan's sizes); the best by sketch
 * (and fine sketch) go to the exact stage, scored from their stored vectors. Small indexes are
 * scored exactly throughout. `unit`: the region vectors are scaled to length 1 first (cosines).
 */
async function rank(
  index: ImageIndex,
  embedder: RegionEmbedder,
  queries: readonly MemberQuery[],
  k: number,
  options: RankingOptions,
  unit = false,
): Promise<{ image: IndexedImage; score: number }[]> {
  if (index.size === 0 || k <= 0) return [];
  const weights = embedder.members.map((m) => m.weight);
  const { shortlist, sketched, refine, exact, everything } = rankingPlan(
    index.size,
    index.hasFineSketches,
    k,
    options,
  );
  const approx = index.approximate(
    queries,
    weights,
    unit,
    refine === undefined ? { shortlist, sketched } : { shortlist, sketched, refine },
  );
  const take = everything ? approx.ids.length : exact;
  const candidates = Array.from(approx.ids.keys())
    .sort(
      (a, b) =>
        byScoreDescending(approx.scores[a], approx.scores[b]) || approx.ids[a] - approx.ids[b],
    )
    .slice(0, take)
    .map((i) => approx.ids[i]);
  const { ids, scores: S } = exactScores(index, embedder, candidates, queries, weights, unit);
  const best = Array.from(ids.keys())
    .sort((a, b) => byScoreDescending(S[a], S[b]) || ids[a] - ids[b])
    .slice(0, k);
  // An id without metadata (a write that crashed between the files and the tables) is left out.
  const images = new Map((await index.imagesOf(best.map((i) => ids[i]))).map((im) => [im.id, im]));
  return best
    .filter((i) => images.has(ids[i]))
    .map((i) => ({ image: images.get(ids[i])!, score: S[i] }));
}

/**
 * The exact fused S_kl of the candidates: dot products straight from int8 vectors where the index
 * stores them so (ImageIndex.scoreStored); otherwise, and for cosines, from the decoded rows, the
 * int8 rows' scales taken once per product (not per value), cosines from the rows themselves.
 */
function exactScores(
  index: ImageIndex,
  embedder: RegionEmbedder,
  candidates: readonly number[],
  queries: readonly MemberQuery[],
  weights: readonly number[],
  unit: boolean,
): { ids: number[]; scores: Float32Array } {
  const stored = unit ? undefined : index.scoreStored(candidates, queries, weights);
  if (stored) return stored;
  const { ids, vs, scales } = index.vectors(candidates, !unit);
  const scores = embedder.score(
    unit ? vs.map((v, i) => unitRows(v, embedder.members[i].model.config.embed)) : vs,
    ids.length,
    queries,
    scales,
  );
  return { ids, scores };
}

/** Rows of length `dim` scaled to unit length (zero rows stay zero). */
function unitRows(v: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < v.length / dim; r++) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += v[r * dim + j] ** 2;
    const f = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let j = 0; j < dim; j++) out[r * dim + j] = v[r * dim + j] * f;
  }
  return out;
}

/** The size and mtime (ms) of a file; -1 for both when it cannot be read. */
function fileIdentity(path: string): { size: number; mtime: number } {
  try {
    const st = statSync(path);
    return { size: st.size, mtime: st.mtimeMs };
  } catch {
    return { size: -1, mtime: -1 };
  }
}

/** Indices of the k largest scores, largest first, NaN last (ties: lower index first). */
function topIndices(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => byScoreDescending(scores[a], scores[b]) || a - b)
    .slice(0, Math.max(0, k));
}
