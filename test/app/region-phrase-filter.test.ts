import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { Describer } from "../../src/app/describer.js";
import { loadBundle, parseBundleManifest, writeBundle } from "../../src/app/model-bundle.js";
import {
  contradictsLabel,
  DEFAULT_LABEL_SCORE,
  DEFAULT_REGION_PHRASES,
  hiddenBecause,
  parseRegionPhrases,
} from "../../src/app/region-phrase-filter.js";
import { chooseMinConfidence, phraseAgrees } from "../../src/app/region-phrase-threshold.js";
import { openVisionModels, PIXEL_STATS_SETUP } from "../../src/app/vision-setup.js";
import { Vocabulary } from "../../src/data/vocabulary.js";
import { InputError } from "../../src/errors.js";
import type { CaptionModel, Stepper } from "../../src/generate/caption-model.js";
import type { LoadedGenerator } from "../../src/generate/load-generator.js";
import { FeatureNormalizer } from "../../src/vision/feature-normalizer.js";
import type { Region } from "../../src/vision/image.js";
import { writeUntrainedCheckpoints } from "../support/untrained-checkpoints.js";

const words = (s: string) => s.split(" ");

test("a phrase contradicts a confident detection when it names another class and not the detection's", () => {
  const horse = { label: "horse", score: 0.89 };
  assert.equal(contradictsLabel(words("a dog"), horse, 0.5), true);
  assert.equal(contradictsLabel(words("two black dogs"), horse, 0.5), true, "plurals name a class");
  assert.equal(contradictsLabel(words("a man riding a horse"), horse, 0.5), false);
  assert.equal(contradictsLabel(words("a brown pony"), horse, 0.5), false, "pony is a horse");
  assert.equal(contradictsLabel(words("a red blanket"), horse, 0.5), false, "names no class");
  assert.equal(contradictsLabel(words("a dog"), { label: "horse", score: 0.3 }, 0.5), false);
  assert.equal(contradictsLabel(words("a dog"), { label: "horse", score: 0.5 }, 0.5), true);
  assert.equal(contradictsLabel(words("a dog"), {}, 0.5), false, "a fallback box has no label");
  assert.equal(contradictsLabel(words("a young boy"), { label: "person", score: 0.9 }, 0.5), false);
  assert.equal(contradictsLabel(words("a boy"), { label: "dog", score: 0.9 }, 0.5), true);
  // A label no word names (the synthetic world's colours) contradicts nothing.
  assert.equal(contradictsLabel(words("a dog"), { label: "red", score: 0.99 }, 0.5), false);
});

test("a phrase is hidden below the confidence threshold or when it contradicts the label, which comes first", () => {
  const setting = { minConfidence: -1.2, labelScore: 0.5 };
  const dog = { words: words("a dog"), confidence: -1 };
  assert.equal(hiddenBecause(dog, { label: "dog", score: 0.9 }, setting), undefined);
  assert.equal(hiddenBecause(dog, { label: "horse", score: 0.9 }, setting), "contradicts-label");
  assert.equal(hiddenBecause({ ...dog, confidence: -1.3 }, {}, setting), "low-confidence");
  assert.equal(
    hiddenBecause({ ...dog, confidence: -1.3 }, { label: "horse", score: 0.9 }, setting),
    "contradicts-label",
  );
  assert.equal(hiddenBecause({ ...dog, confidence: -1.2 }, {}, setting), undefined, "at it: shown");
});

test("regionPhrases in bundle.json: minConfidence required and finite, labelScore from 0 to 1", () => {
  assert.deepEqual(parseRegionPhrases({ minConfidence: -1.3 }, "b"), {
    minConfidence: -1.3,
    labelScore: DEFAULT_LABEL_SCORE,
  });
  assert.deepEqual(parseRegionPhrases({ minConfidence: -2, labelScore: 0.7 }, "b"), {
    minConfidence: -2,
    labelScore: 0.7,
  });
  for (const [value, message] of [
    [-1.3, /^b: expected an object/],
    [{}, /^b\.minConfidence: expected a finite number, got undefined$/],
    [{ minConfidence: "-1" }, /^b\.minConfidence: expected a finite number, got "-1"$/],
    [{ minConfidence: -1, labelScore: 2 }, /^b\.labelScore: expected a number from 0 to 1, got 2$/],
  ] as const) {
    assert.throws(
      () => parseRegionPhrases(value, "b"),
      (e: Error) => e instanceof InputError && message.test(e.message),
      JSON.stringify(value),
    );
  }
});

test("the threshold is the lowest confidence where the monotone fit of agreement reaches the precision", () => {
  // Agreement rises with confidence: 1 in 5 below -2, 2 in 5 from -2, 4 in 5 from -1.
  const judged = [
    ...[-3, -2.8, -2.6, -2.4, -2.2].map((c, i) => ({ confidence: c, agrees: i === 0 })),
    ...[-2, -1.8, -1.6, -1.4, -1.2].map((c, i) => ({ confidence: c, agrees: i < 2 })),
    ...[-1, -0.8, -0.6, -0.4, -0.2].map((c, i) => ({ confidence: c, agrees: i !== 2 })),
  ];
  const half = chooseMinConfidence(judged, 0.5);
  // -3 agrees alone: pooled with what follows until the fit rises.
  assert.equal(half.minConfidence, -1);
  for (let i = 1; i < half.curve.length; i++) {
    assert.ok(half.curve[i].agreement >= half.curve[i - 1].agreement, "non-decreasing");
    assert.ok(half.curve[i].from > half.curve[i - 1].to, "steps in order, apart");
  }
  assert.equal(
    half.curve.reduce((n, c) => n + c.phrases, 0),
    judged.length,
  );
  assert.equal(chooseMinConfidence(judged, 0.2).minConfidence, -3);
  assert.equal(
    chooseMinConfidence(judged, 0.9).minConfidence,
    -0.4,
    "the two most confident agree",
  );
  const ending = [...judged, { confidence: 0, agrees: false }];
  assert.equal(chooseMinConfidence(ending, 0.9).minConfidence, undefined, "never reached");
  // Input order does not matter.
  assert.deepEqual(chooseMinConfidence([...judged].reverse(), 0.5), half);
});

test("a phrase agrees with an entity's phrases when it names it, in a word or by its class", () => {
  const refs = [words("a black dog"), words("the puppy")];
  assert.equal(phraseAgrees(words("a dog"), refs), true);
  assert.equal(phraseAgrees(words("two dogs"), refs), true, "plural");
  assert.equal(phraseAgrees(words("a terrier"), refs), true, "the same class");
  assert.equal(phraseAgrees(words("a man"), refs), false);
  assert.equal(phraseAgrees(words("in the water"), refs), false, "'the' alone is no agreement");
  assert.equal(phraseAgrees(words("a young boy"), [words("a man in a hat")]), true, "both people");
});

/** A region generator that says "a dog" whatever the image, with known probabilities. */
function dogGenerator(dim: number): LoadedGenerator {
  const vocabulary = Vocabulary.fromSentences([["a", "a", "dog"]], { minCount: 1 });
  const [A, DOG] = [vocabulary.indexOf("a")!, vocabulary.indexOf("dog")!];
  const V = vocabulary.size;
  const next: Record<number, Record<number, number>> = {
    [-1]: { [A]: 0.9, [DOG]: 0.1 },
    [A]: { [DOG]: 0.8, 0: 0.2 },
    [DOG]: { 0: 0.9, [A]: 0.1 },
  };
  const stepper = (): Stepper => ({
    vocabSize: V,
    stateSize: 1,
    step(prev, tokens) {
      const logProbs = new Float32Array(tokens.length * V).fill(-30);
      tokens.forEach((t, i) => {
        for (const [w, p] of Object.entries(next[prev === null ? -1 : t])) {
          logProbs[i * V + Number(w)] = Math.log(p);
        }
      });
      return { logProbs, next: new Float32Array(tokens.length) };
    },
  });
  const model = { config: { featureDim: dim }, stepper } as unknown as CaptionModel;
  return {
    path: "dog.ckpt",
    model,
    vocabulary,
    normalizer: FeatureNormalizer.fit([new Float32Array(dim), new Float32Array(dim).fill(1)], dim),
  } as unknown as LoadedGenerator;
}

/** log(.9 x .8 x .9) / 3 tokens: "a", "dog", END. */
const DOG_CONFIDENCE = Math.log(0.9 * 0.8 * 0.9) / 3;

let dir: string;
let image: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-phrase-filter-"));
  image = join(dir, "grey.png");
  await sharp({ create: { width: 64, height: 48, channels: 3, background: "#777" } })
    .png()
    .toFile(image);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** The regions describe is given: the whole image, then three labelled boxes and a fallback. */
const REGIONS: Region[] = [
  { box: { x1: 0, y1: 0, x2: 64, y2: 48 }, source: "whole" },
  { box: { x1: 0, y1: 0, x2: 30, y2: 30 }, source: "detection", label: "horse", score: 0.89 },
  { box: { x1: 30, y1: 0, x2: 64, y2: 30 }, source: "detection", label: "dog", score: 0.8 },
  { box: { x1: 0, y1: 20, x2: 30, y2: 48 }, source: "detection", label: "horse", score: 0.3 },
  { box: { x1: 30, y1: 20, x2: 64, y2: 48 }, source: "fallback" },
];

async function describeWith(options: { minPhraseConfidence?: number } = {}) {
  const vision = await openVisionModels({ ...PIXEL_STATS_SETUP, detector: null, regions: 5 });
  const g = dogGenerator(vision.encoder.dim);
  const describer = new Describer({ vision, generator: g, regionGenerator: g }, options);
  try {
    return await describer.describe(image, { regions: REGIONS });
  } finally {
    await describer.close();
  }
}

test("describe hides 'a dog' on a confident horse, gives every phrase its confidence and lists shown ones first", async () => {
  const d = await describeWith({ minPhraseConfidence: -1 });
  assert.deepEqual(
    d.regions.map((r) => [
      r.label ?? r.source,
      r.caption ?? null,
      r.phrase?.shown,
      r.phrase?.hidden,
    ]),
    [
      ["dog", "a dog", true, undefined],
      ["horse", "a dog", true, undefined],
      ["fallback", "a dog", true, undefined],
      ["horse", null, false, "contradicts-label"],
    ],
  );
  assert.equal(d.regions[3].score, 0.89, "the confident horse is the one left unlabelled");
  for (const r of d.regions) {
    assert.equal(r.phrase?.text, "a dog");
    assert.ok(Math.abs((r.phrase?.confidence ?? 0) - DOG_CONFIDENCE) < 1e-5);
  }
  assert.ok(!("hidden" in d.regions[0].phrase!), "a shown phrase carries no reason");
});

test("describe leaves regions below the confidence threshold without a caption, their phrase kept", async () => {
  const above = DOG_CONFIDENCE + 0.01;
  const d = await describeWith({ minPhraseConfidence: above });
  assert.ok(d.regions.every((r) => r.caption === undefined && r.phrase?.shown === false));
  assert.deepEqual(
    d.regions.map((r) => r.phrase?.hidden),
    ["contradicts-label", "low-confidence", "low-confidence", "low-confidence"],
    "in the regions' own order when none is shown",
  );
  const all = await describeWith({ minPhraseConfidence: Number.NEGATIVE_INFINITY });
  assert.equal(all.regions.filter((r) => r.caption === "a dog").length, 3);
  // The default is the bundle's threshold, else DEFAULT_REGION_PHRASES'.
  const byDefault = await describeWith();
  assert.equal(
    byDefault.regions.filter((r) => r.caption).length,
    DOG_CONFIDENCE >= DEFAULT_REGION_PHRASES.minConfidence ? 3 : 0,
  );
});

test("a bundle's regionPhrases is written, read back and used by describe; a bad one is refused naming the field", async () => {
  const vision = await openVisionModels({ ...PIXEL_STATS_SETUP, detector: null });
  const dim = vision.encoder.dim;
  await vision.encoder.close();
  const paths = writeUntrainedCheckpoints(dir, dim);
  const bundleDir = join(dir, "bundle");
  const manifest = writeBundle(bundleDir, {
    alignment: paths.alignment,
    generator: paths.generator,
    regionGenerator: paths.generator,
    regionPhrases: { minConfidence: 0, labelScore: 0.6 },
    vision: { ...PIXEL_STATS_SETUP, detector: null },
  });
  assert.deepEqual(manifest.regionPhrases, { minConfidence: 0, labelScore: 0.6 });
  assert.deepEqual(loadBundle(bundleDir).manifest.regionPhrases, manifest.regionPhrases);
  // An untrained generator is never certain: at minConfidence 0 no phrase is shown.
  const describer = await Describer.load(bundleDir);
  try {
    const d = await describer.describe(image);
    assert.equal(d.regions.length, 19);
    assert.ok(
      d.regions.every((r) => r.caption === undefined && r.phrase?.hidden === "low-confidence"),
    );
  } finally {
    await describer.close();
  }
  const json = JSON.parse(readFileSync(join(bundleDir, "bundle.json"), "utf8"));
  writeFileSync(
    join(bundleDir, "bundle.json"),
    JSON.stringify({ ...json, regionPhrases: { minConfidence: null } }),
  );
  assert.throws(
    () => loadBundle(bundleDir),
    /bundle\.json: regionPhrases\.minConfidence: expected a finite number, got null$/,
  );
  assert.equal(
    parseBundleManifest({ ...json, regionPhrases: undefined }, "b").regionPhrases,
    undefined,
  );
});
