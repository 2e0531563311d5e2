import type { Rng } from "../core/index.js";

/** One training pair: an image (its index in the split) and one of its sentences. */
export interface Pair {
  readonly image: number;
  readonly sentence: Int32Array;
}

/**
 * An epoch's batches of image-sentence pairs. Every sentence is used once per epoch, and no image
 * appears twice in a batch: a batch's other sentences are its negatives, and a second sentence
 * of the same image would be a false one. The epoch is made of passes, each pairing every image
 * with one of its sentences not yet used (in a shuffled order), cut into batches.
 */
export function epochBatches(
  sentencesOf: readonly (readonly Int32Array[])[],
  batchSize: number,
  rng: Rng,
): Pair[][] {
  const orders = sentencesOf.map((list) => rng.shuffle(list.map((_, i) => i)));
  const passes = Math.max(0, ...sentencesOf.map((list) => list.length));
  const batches: Pair[][] = [];
  for (let pass = 0; pass < passes; pass++) {
    const images = rng.shuffle(
      sentencesOf.map((_, i) => i).filter((i) => sentencesOf[i].length > pass),
    );
    for (let at = 0; at < images.length; at += batchSize) {
      const batch = images
        .slice(at, at + batchSize)
        .map((image) => ({ image, sentence: sentencesOf[image][orders[image][pass]] }));
      // A lone pair has no negatives to rank against.
      if (batch.length >= 2) batches.push(batch);
    }
  }
  return batches;
}
