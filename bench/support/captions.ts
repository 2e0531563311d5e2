import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Rng } from "../../src/core/rng.js";
import { loadDataset } from "../../src/data/load.js";
import { buildVocabulary, Vocabulary } from "../../src/data/vocabulary.js";
import { packageRoot } from "../../src/package-root.js";

const FLICKR8K = join(
  process.env.IMAGESENT_SHARED ?? join(packageRoot, "..", "shared"),
  "data",
  "flickr8k",
);

/** Encoded sentences for the training benchmarks, their vocabulary, and where they came from. */
export interface BenchCaptions {
  readonly source: string;
  readonly vocabulary: Vocabulary;
  readonly words: Int32Array[];
}

/**
 * Flickr8k's training captions when $IMAGESENT_SHARED (default ../shared)/data/flickr8k is
 * there, else synthetic ones with their length profile: Zipf-distributed words, 6..22 of them
 * around Flickr8k's mean of ~11. Sentences with no word in the vocabulary are left out.
 */
export function benchCaptions(rng: Rng): BenchCaptions {
  if (existsSync(FLICKR8K)) {
    const dataset = loadDataset(FLICKR8K);
    const vocabulary = buildVocabulary(dataset);
    const words = dataset.images
      .filter((im) => im.split === "train")
      .flatMap((im) => im.sentences.map((s) => Int32Array.from(vocabulary.encode(s.tokens))))
      .filter((s) => s.length > 0);
    return { source: "flickr8k train captions", vocabulary, words };
  }
  const vocabSize = 2536;
  const vocabulary = Vocabulary.fromSentences(
    [Array.from({ length: vocabSize - 1 }, (_, i) => `w${i}`)],
    { minCount: 1 },
  );
  const words = Array.from({ length: 6000 }, () => {
    const n = 6 + Math.min(16, Math.floor(-Math.log(1 - rng.uniform()) * 5));
    return Int32Array.from({ length: n }, () =>
      Math.min(vocabSize - 1, 1 + Math.floor(Math.exp(rng.uniform() * Math.log(vocabSize)))),
    );
  });
  return { source: "synthetic captions", vocabulary, words };
}
