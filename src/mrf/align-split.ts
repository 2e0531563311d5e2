import type { ImageEntry } from "../data/dataset.js";
import { InputError } from "../errors.js";
import type { FeatureStore } from "../vision/feature-store.js";
import type { Region } from "../vision/image.js";
import type { GroundingKnowledge } from "./grounding-knowledge.js";
import { alignSentence, type WordRegionScorer } from "./phrase-alignment.js";
import { groundSentence } from "./phrase-grounding.js";
import type { Segment } from "./segments.js";
import { SnippetAppender, sentenceSnippets } from "./snippets.js";

export interface SplitAlignmentJob {
  readonly scorer: WordRegionScorer;
  readonly images: readonly ImageEntry[];
  readonly store: FeatureStore;
  /** The snippet file, created or resumed. */
  readonly out: string;
  readonly beta: number;
  /**
   * When given, the snippets are the sentence's noun phrases on the regions the learned chooser
   * gives them (groundPhrases), those less confident than `minConfidence` left out, in place of
   * the chain MRF's segments.
   */
  readonly phrases?: { readonly knowledge: GroundingKnowledge; readonly minConfidence: number };
  /** What made the snippets; a resumed file must have been made with the same. */
  readonly settings: Record<string, string | number>;
  /** Called once with the sentences already done, before any work. */
  readonly onStart?: (done: number, total: number) => void;
  readonly onSentence?: (snippets: number) => void;
}

/** Seconds between commits: a kill loses at most this much work. */
const COMMIT_EVERY_SECONDS = 2;

/**
 * Aligns every sentence of `images` with the chain MRF (or grounds its noun phrases, `phrases`)
 * and appends its segments to the snippet file, resumably (SnippetAppender). Returns the sentences in the file (those with at least one
 * known word) and the snippets this call added.
 */
export function alignToSnippets(job: SplitAlignmentJob): { sentences: number; snippets: number } {
  const { store, images } = job;
  const missing = images.filter((im) => !store.has(im.filename));
  if (missing.length > 0) {
    throw new InputError(
      `${store.dir}: lacks ${missing.length} of the ${images.length} images to align (e.g. ${missing[0].filename})`,
    );
  }
  const appender = SnippetAppender.open(job.out, {
    ...job.settings,
    beta: job.beta,
    ...(job.phrases ? { phrases: "noun", minConfidence: job.phrases.minConfidence } : {}),
  });
  const todo = new Map(
    images
      .filter((im) => im.sentences.some((s) => !appender.done.has(s.id)))
      .map((im) => [im.filename, im]),
  );
  const total = images.reduce((n, im) => n + im.sentences.length, 0);
  const left = [...todo.values()].reduce((n, im) => n + im.sentences.length, 0);
  job.onStart?.(total - left, total);
  let snippets = 0;
  let lastCommit = Date.now();
  // In the store's order, so each shard is decoded once.
  for (const stored of store.entries()) {
    const image = todo.get(stored.filename);
    if (!image) continue;
    for (const sentence of image.sentences) {
      if (appender.done.has(sentence.id)) continue;
      const segments = job.phrases
        ? groundedSegments(
            job.scorer,
            stored.features,
            stored.regions,
            sentence.tokens,
            job.phrases,
          )
        : alignSentence(job.scorer, stored.features, sentence.tokens, job.beta);
      appender.add(sentenceSnippets(image, sentence.id, sentence.tokens, stored.regions, segments));
      snippets += segments.length;
      job.onSentence?.(snippets);
    }
    if (Date.now() - lastCommit > COMMIT_EVERY_SECONDS * 1000) {
      appender.commit();
      lastCommit = Date.now();
    }
  }
  appender.commit();
  return { sentences: appender.done.size, snippets };
}

/** The noun phrases of a sentence on their regions, as segments scored by their confidence. */
function groundedSegments(
  scorer: WordRegionScorer,
  features: Float32Array,
  regions: readonly Region[],
  tokens: readonly string[],
  phrases: NonNullable<SplitAlignmentJob["phrases"]>,
): Segment[] {
  return groundSentence(scorer, phrases.knowledge, features, regions, tokens)
    .filter((g) => g.confidence >= phrases.minConfidence)
    .map((g) => ({ start: g.start, end: g.end, region: g.region, score: g.confidence }));
}
