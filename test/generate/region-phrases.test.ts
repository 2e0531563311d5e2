import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { AlignmentFusion } from "../../src/align/score-fusion.js";
import { Rng } from "../../src/core/rng.js";
import type { Dataset, ImageEntry } from "../../src/data/dataset.js";
import { buildVocabulary, UNKNOWN_TOKEN, Vocabulary } from "../../src/data/vocabulary.js";
import { loadCaptionData, normalizeCaptionData } from "../../src/generate/caption-data.js";
import type { Stepper } from "../../src/generate/caption-model.js";
import {
  batchedBeamSearch,
  beamSearch,
  type Caption,
  greedy,
  sample,
} from "../../src/generate/decoding.js";
import { type LoadedGenerator, loadGenerator } from "../../src/generate/load-generator.js";
import {
  DEFAULT_REGION_LENGTH_NORMALIZATION,
  decodeRegionPhrases,
  FUNCTION_WORDS,
  nonFinalWords,
  phraseConfidence,
} from "../../src/generate/region-phrases.js";
import { SnippetConsensus } from "../../src/generate/snippet-consensus.js";
import { trainGenerator } from "../../src/generate/train.js";
import { FeatureNormalizer } from "../../src/vision/feature-normalizer.js";
import { FeatureStore } from "../../src/vision/feature-store.js";

/**
 * A bigram language model over END=0, a=1, dog=2, in=3, the=4, park=5: the next word's
 * distribution depends on the last word only (the state is that word). It wants no phrase at
 * all (END first, .5), and after "a" it wants END (.55): unconstrained it says "" or "a".
 */
const [END, A, DOG, IN, THE, PARK] = [0, 1, 2, 3, 4, 5];
const NAMES = ["<s>", "a", "dog", "in", "the", "park"];
const V = NAMES.length;
const FUNCTION = new Set([A, IN, THE]);
const BIGRAMS: Record<number, Record<number, number>> = {
  [-1]: { [END]: 0.5, [A]: 0.35, [IN]: 0.15 },
  [A]: { [END]: 0.55, [DOG]: 0.3, [THE]: 0.15 },
  [DOG]: { [END]: 0.7, [IN]: 0.3 },
  [IN]: { [THE]: 0.6, [END]: 0.4 },
  [THE]: { [END]: 0.5, [PARK]: 0.3, [DOG]: 0.2 },
  [PARK]: { [END]: 0.9, [IN]: 0.1 },
};

function bigramStepper(table: Record<number, Record<number, number>> = BIGRAMS): Stepper {
  return {
    vocabSize: V,
    stateSize: 1,
    step(prev, tokens) {
      const logProbs = new Float32Array(tokens.length * V).fill(Math.log(1e-9));
      const next = new Float32Array(tokens.length);
      for (let i = 0; i < tokens.length; i++) {
        const last = prev === null ? -1 : tokens[i];
        for (const [w, p] of Object.entries(table[last])) logProbs[i * V + Number(w)] = Math.log(p);
        next[i] = last;
      }
      return { logProbs, next };
    },
  };
}

const said = (c: Caption) => c.words.map((w) => NAMES[w]).join(" ");

/** A caption is a phrase: at least one word, and its last word is not a function word. */
function assertPhrase(c: Caption, nonFinal: ReadonlySet<number>, what: string) {
  assert.ok(c.words.length > 0, `${what}: an empty phrase`);
  assert.ok(
    !nonFinal.has(c.words[c.words.length - 1]),
    `${what}: "${said(c)}" ends on a function word`,
  );
}

test("unconstrained, the bigram model says nothing or 'a'; told the function words, every decoder says 'a dog'", () => {
  assert.equal(said(greedy(bigramStepper())), "");
  assert.equal(said(beamSearch(bigramStepper(), { beam: 3, lengthNormalization: 0 })[0]), "");
  // Even made to say something, the beam's best is the article alone.
  const spoken = beamSearch(bigramStepper(), { beam: 5, lengthNormalization: 0 }).filter(
    (c) => c.words.length > 0,
  );
  assert.equal(said(spoken[0]), "a");

  const opts = { nonFinal: FUNCTION };
  const g = greedy(bigramStepper(), opts);
  assert.equal(said(g), "a dog");
  assert.ok(g.finished);
  // The model's own probabilities, not renormalised over what was allowed: .35 x .3 x .7.
  assert.ok(Math.abs(g.logProb - Math.log(0.35 * 0.3 * 0.7)) < 1e-5, String(g.logProb));
  for (const beam of [1, 2, 3, 5]) {
    const captions = beamSearch(bigramStepper(), { ...opts, beam, lengthNormalization: 0 });
    assert.equal(said(captions[0]), "a dog", `beam ${beam}`);
    captions.forEach((c, i) => {
      assertPhrase(c, FUNCTION, `beam ${beam}, caption ${i}`);
    });
  }
});

test("batched beam search applies the same rule to every image and finds beamSearch's phrases", () => {
  const opts = { nonFinal: FUNCTION, beam: 3, lengthNormalization: 0 };
  const steppers = Array.from({ length: 4 }, () => bigramStepper());
  const batched = batchedBeamSearch(steppers, opts);
  const alone = beamSearch(bigramStepper(), opts);
  for (const captions of batched) assert.deepEqual(captions, alone);
});

test("a caption cut at maxLength does not end on a function word either", () => {
  // "a" is always the likeliest next word and END never comes: every caption is cut.
  const loop: Record<number, Record<number, number>> = {};
  for (const w of [-1, A, DOG, IN, THE, PARK]) loop[w] = { [A]: 0.7, [THE]: 0.2, [DOG]: 0.1 };
  for (const maxLength of [1, 2, 4]) {
    const opts = { nonFinal: FUNCTION, maxLength };
    const g = greedy(bigramStepper(loop), opts);
    assert.equal(g.finished, false);
    assert.equal(g.words.length, maxLength);
    assert.equal(said(g), [...Array(maxLength - 1).fill("a"), "dog"].join(" "));
    for (const c of beamSearch(bigramStepper(loop), { ...opts, beam: 3 })) {
      assertPhrase(c, FUNCTION, `maxLength ${maxLength}`);
      assert.ok(c.words.length <= maxLength);
    }
  }
});

test("on random language models no decoder gives an empty phrase or one ending on a function word", () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 40; trial++) {
    // Each word's next-word distribution is random, with END the likeliest after function words.
    const table: Record<number, Record<number, number>> = {};
    for (const last of [-1, A, DOG, IN, THE, PARK]) {
      const weights = Array.from({ length: V }, () => rng.uniform() + 0.01);
      if (last === -1 || FUNCTION.has(last)) weights[END] = 4;
      const total = weights.reduce((a, b) => a + b, 0);
      table[last] = Object.fromEntries(weights.map((x, w) => [w, x / total]));
    }
    const opts = { nonFinal: FUNCTION, maxLength: 1 + (trial % 5) };
    const captions = [
      greedy(bigramStepper(table), opts),
      sample(bigramStepper(table), { ...opts, rng }),
      ...beamSearch(bigramStepper(table), { ...opts, beam: 4, lengthNormalization: 0 }),
      ...beamSearch(bigramStepper(table), { ...opts, beam: 2, lengthNormalization: 0.7 }),
      ...batchedBeamSearch([bigramStepper(table), bigramStepper(table)], {
        ...opts,
        beam: 3,
      }).flat(),
    ];
    captions.forEach((c, i) => {
      assertPhrase(c, FUNCTION, `trial ${trial}, caption ${i}`);
    });
  }
});

test("the function words include those the issue found phrases cut at, and map onto a vocabulary", () => {
  for (const w of ["a", "an", "the", "in", "is", "of", "with", "on", "and", "at"]) {
    assert.ok(FUNCTION_WORDS.includes(w), w);
  }
  for (const w of ["dog", "shirt", "up", "water"]) assert.ok(!FUNCTION_WORDS.includes(w), w);
  assert.equal(new Set(FUNCTION_WORDS).size, FUNCTION_WORDS.length, "each word once");
  const vocabulary = Vocabulary.fromSentences([["a", "a", "a", "of", "of", "dog"]], {
    minCount: 1,
    unknown: "unk",
  });
  assert.deepEqual(vocabulary.words, ["<s>", UNKNOWN_TOKEN, "a", "of", "dog"]);
  assert.deepEqual(
    [...nonFinalWords(vocabulary)].sort((x, y) => x - y),
    [1, 2, 3],
    "<unk>, a and of",
  );
});

test("a phrase's confidence is its log-probability per predicted token", () => {
  assert.equal(phraseConfidence({ words: [3, 4], logProb: -3, finished: true }), -1);
  assert.equal(phraseConfidence({ words: [3, 4], logProb: -3, finished: false }), -1.5);
  assert.equal(phraseConfidence({ words: [], logProb: -1, finished: true }), -1);
});

/**
 * A trained generator whose training phrases make END the likeliest word after "a": each image's
 * five phrases are "a" three times, "a dog" and "the red ball".
 */
function trainedArticleGenerator(): string {
  const dir = mkdtempSync(join(tmpdir(), "imagesent-region-phrases-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rng = new Rng(3);
  const phrases = ["a", "a", "a", "a dog", "the red ball"];
  let sentenceId = 0;
  const images: ImageEntry[] = Array.from({ length: 12 }, (_, i) => ({
    id: i,
    filename: `im${i}.jpg`,
    split: i < 8 ? "train" : "val",
    sentences: phrases.map((raw) => ({ id: sentenceId++, raw, tokens: raw.split(" ") })),
  }));
  const dataset: Dataset = { name: "articles", images };
  const store = FeatureStore.openForWriting(join(dir, "features"), {
    encoder: "test",
    dim: 4,
    regionsPerImage: 2,
    detector: null,
  });
  store.append(
    images.map((im) => ({
      filename: im.filename,
      id: im.id,
      width: 8,
      height: 8,
      regions: [0, 1].map((r) => ({
        box: { x1: 0, y1: 0, x2: 8 - r, y2: 8 - r },
        source: r === 0 ? ("whole" as const) : ("fallback" as const),
      })),
      features: Float32Array.from({ length: 8 }, () => rng.normal()),
    })),
  );
  const vocabulary = buildVocabulary(dataset, { minCount: 1 });
  const { data, normalizer } = normalizeCaptionData(
    loadCaptionData(dataset, store, vocabulary, { mode: "fullframe" }),
  );
  const out = join(dir, "generator");
  trainGenerator({
    data,
    mode: "fullframe",
    vocabulary,
    normalizer,
    model: { cell: "rnn", hidden: 16, embed: 8, dropout: 0 },
    training: {
      batchSize: 10,
      lr: 1e-2,
      warmup: 5,
      lrDecay: 1,
      weightDecay: 0,
      epochs: 30,
      evalEvery: 30,
    },
    out,
  });
  return join(out, "best.ckpt");
}

test("a trained generator that ends its phrases after 'a' is decoded into whole phrases", () => {
  const g = loadGenerator(trainedArticleGenerator());
  const rng = new Rng(8);
  const regions = 5;
  const features = Float32Array.from({ length: regions * 4 }, () => rng.normal());
  const normalized = g.normalizer.apply(features);
  // The model itself: "a" and then END.
  const plain = beamSearch(g.model.stepper(normalized.subarray(0, 4)), {
    beam: 3,
    lengthNormalization: 0,
  });
  assert.equal(g.vocabulary.decode(plain[0].words).join(" "), "a");

  const decoded = decodeRegionPhrases(g, features, { beam: 3 });
  assert.equal(decoded.length, regions);
  for (const p of decoded) {
    assert.ok(p, "every region has a phrase");
    assert.ok(p.words.length > 0);
    assert.ok(!FUNCTION_WORDS.includes(p.words[p.words.length - 1]), p.words.join(" "));
    assert.ok(p.confidence < 0 && Number.isFinite(p.confidence));
  }
});

/**
 * A region generator that is the bigram model `table` whatever the region: only what
 * decodeRegionPhrases reads of a LoadedGenerator (its stepper, feature size, normaliser and
 * vocabulary, whose indices are NAMES').
 */
function bigramGenerator(table: Record<number, Record<number, number>>): LoadedGenerator {
  const vocabulary = Vocabulary.fromSentences(
    [NAMES.slice(1).flatMap((w, i) => Array<string>(NAMES.length - i).fill(w))],
    { minCount: 1 },
  );
  assert.deepEqual(vocabulary.words, NAMES);
  return {
    model: { config: { featureDim: 1 }, stepper: () => bigramStepper(table) },
    normalizer: FeatureNormalizer.fit([Float32Array.of(0, 1)], 1),
    vocabulary,
  } as unknown as LoadedGenerator;
}

/** A language model that says "dog" or "the park" (and, less likely, longer phrases). */
const DOG_OR_THE_PARK: Record<number, Record<number, number>> = {
  [-1]: { [DOG]: 0.55, [THE]: 0.45 },
  [A]: { [DOG]: 1 },
  [DOG]: { [END]: 0.9, [IN]: 0.1 },
  [IN]: { [THE]: 1 },
  [THE]: { [PARK]: 0.99, [END]: 0.01 },
  [PARK]: { [END]: 0.99, [IN]: 0.01 },
};

test("region phrases are ranked by length-normalised log-probability unless told 0", () => {
  // "dog" is likelier (.55 x .9 = .495) than "the park" (.45 x .99 x .99 = .441), but per
  // predicted token "the park" is the better phrase: -0.819 / 3^0.5 > -0.703 / 2^0.5.
  const g = bigramGenerator(DOG_OR_THE_PARK);
  const features = Float32Array.of(0.3, -1.2);
  const say = (lengthNormalization?: number) =>
    decodeRegionPhrases(g, features, { beam: 3, lengthNormalization }).map((p) =>
      p?.words.join(" "),
    );
  assert.deepEqual(say(0), ["dog", "dog"]);
  assert.deepEqual(say(DEFAULT_REGION_LENGTH_NORMALIZATION), ["the park", "the park"]);
  assert.deepEqual(say(), say(DEFAULT_REGION_LENGTH_NORMALIZATION), "the default");
  // The confidence is the phrase's own, whatever it was ranked by.
  const [p] = decodeRegionPhrases(g, features, { beam: 3 });
  assert.ok(Math.abs(p!.confidence - Math.log(0.45 * 0.99 * 0.99) / 3) < 1e-5);
});

test("a rerank adds the alignment score of each phrase on its own region, all regions scored at once", () => {
  const g = bigramGenerator(DOG_OR_THE_PARK);
  // S(region, phrase) = the region's raw code, positive for phrases with "dog", negative without.
  const seen: number[][] = [];
  const scorer = {
    embedImages: (f: Float32Array, images: number, stored: number) => {
      seen.push([...f, images, stored]);
      return [f];
    },
    scoreEmbedded: ([v]: Float32Array[], images: number, sentences: string[][]) =>
      Float32Array.from({ length: images * sentences.length }, (_, k) => {
        const [i, j] = [Math.floor(k / sentences.length), k % sentences.length];
        return sentences[j].includes("dog") ? v[i] : -v[i];
      }),
  } as unknown as AlignmentFusion;
  const features = Float32Array.of(0.3, -1.2);
  const say = (weight: number) =>
    decodeRegionPhrases(g, features, { beam: 3, rerank: { scorer, weight } }).map((p) =>
      p?.words.join(" "),
    );
  // Length-normalised alone both regions say "the park" (previous test); weight 1 tips region 0
  // (S = 0.3 for "dog", -0.3 for "the park": -0.497 + 0.3 > -0.473 - 0.3) and not region 1.
  assert.deepEqual(say(0), ["the park", "the park"]);
  assert.deepEqual(say(1), ["dog", "the park"]);
  // Both regions' raw codes (not the normalised ones), embedded once as two one-region images.
  assert.deepEqual(seen, [[Math.fround(0.3), Math.fround(-1.2), 2, 1]]);
  // The confidence stays the chosen phrase's log-probability per token.
  const [p] = decodeRegionPhrases(g, features, { beam: 3, rerank: { scorer, weight: 1 } });
  assert.ok(Math.abs(p!.confidence - Math.log(0.55 * 0.9) / 2) < 1e-5);
});

test("a snippet consensus adds each phrase's agreement with the nearest train regions' snippets", () => {
  const g = bigramGenerator(DOG_OR_THE_PARK);
  // Train regions with positive codes were said to be dogs, those with negative ones the park.
  const codes = [1, 2, 3, 1.5, -1, -2, -3, -1.5];
  const consensus = SnippetConsensus.fit(
    {
      targets: codes.map((c, i) => ({
        key: `t${i}.jpg#1`,
        filename: `t${i}.jpg`,
        region: 1,
        references: c > 0 ? [["dog"], ["a", "dog"]] : [["the", "park"]],
      })),
      features: Float32Array.from(codes),
      sentences: [],
    },
    1,
  );
  const features = Float32Array.of(0.3, -1.2);
  const say = (weight: number) =>
    decodeRegionPhrases(g, features, {
      beam: 3,
      consensus: { consensus, weight, neighbours: 3 },
    }).map((p) => p?.words.join(" "));
  // Alone the length-normalised beam says "the park" for both; the consensus tips region 0,
  // whose neighbours are the dogs, and confirms region 1.
  assert.deepEqual(say(0), ["the park", "the park"]);
  assert.deepEqual(say(1), ["dog", "the park"]);
});
