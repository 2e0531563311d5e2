import { join } from "node:path";
import { DEFAULT_REGION_BEAM } from "../../app/describer.js";
import {
  BUNDLE_FILE,
  BundleCache,
  loadBundle,
  MAX_BEAM,
  parseBundleManifest,
  regionConsensusRerank,
} from "../../app/model-bundle.js";
import { DEFAULT_LABEL_SCORE, type RegionPhraseSetting } from "../../app/region-phrase-filter.js";
import {
  chooseMinConfidence,
  MATCH_IOU,
  type PhraseSample,
  phraseSamples,
} from "../../app/region-phrase-threshold.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { readEntities } from "../../data/flickr30k-entities.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { bleu } from "../../eval/bleu.js";
import { JsonFields, readJsonFile } from "../../json-fields.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { boundedIntFlag, parseAppFlags, positiveIntFlag, stringFlag } from "../app-flags.js";
import type { Command } from "../command.js";
import { numberFlag } from "../flags.js";
import { renderHelp } from "../help.js";
import { parseSplit } from "../mrf-flags.js";
import { Progress } from "../progress.js";

const USAGE = renderHelp({
  usage: [
    "region-threshold --bundle B --features STORE --dataset D --entities DIR [--split val] [--precision P] [--write] [--json]",
  ],
  description: `Chooses the confidence below which describe gives a region no phrase. The bundle's
    region generator phrases every region of the split's images as describe does (the regions of
    a feature store made with the bundle's vision setup), and each phrase on a region that
    matches an annotated Flickr30k Entities box (IoU >= ${MATCH_IOU}) is judged: it agrees when
    it says what people said of that entity (a word of one of its phrases, or the class one
    names). Agreement is fitted as a non-decreasing function of the phrase's confidence
    (log-probability per word), and the threshold is the lowest confidence where it reaches
    --precision: below it, phrases are more often wrong than right. Phrases that name another
    class than a confident detection are set aside first (describe never shows them).`,
  flags: [
    { flag: "--bundle B", text: "a bundle folder or cached name, with a region generator" },
    {
      flag: "--features STORE",
      text: "the feature store of the dataset's images, made with the bundle's encoder and detector",
    },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--entities DIR",
      text: "a Flickr30k Entities folder (Annotations/, Sentences/) covering the split",
    },
    { flag: "--split S", text: "train, val or test: tune on val", default: "val" },
    { flag: "--limit N", text: "only the split's first N images (quick runs)" },
    {
      flag: "--precision P",
      text: "the agreement rate the threshold asks for, above 0 and at most 1",
      default: 0.5,
    },
    {
      flag: "--region-beam N",
      text: `the region generator's beam, at most ${MAX_BEAM} (describe's, reranked as describe
        reranks it when the bundle has a regionRerank and a regionConsensus)`,
      default: `the bundle's regionRerank beam, else ${DEFAULT_REGION_BEAM}`,
    },
    {
      flag: "--label-score S",
      text: "the detector score from which a phrase naming another class is set aside",
      default: `the bundle's regionPhrases.labelScore, else ${DEFAULT_LABEL_SCORE}`,
    },
    {
      flag: "--write",
      text: "store the threshold in the bundle's bundle.json (regionPhrases)",
    },
    { flag: "--json", text: "print the choice, the fitted curve and the phrases as JSON" },
  ],
  notes: [
    `A bundle without regionPhrases in its bundle.json has no confidence threshold: describe
    shows every phrase that does not contradict a detection. The packaged Flickr8k bundle's was
    chosen with this command (docs/generator.md, "Region phrases in describe").`,
  ],
  examples: [
    "region-threshold --bundle bundles/flickr8k --features features/flickr8k-mnv2-yolox --dataset path/to/flickr8k --entities path/to/flickr30k_entities --write",
  ],
});

export const regionThresholdCommand: Command = {
  name: "region-threshold",
  usage: USAGE,
  run(args) {
    const flags = parseAppFlags(
      args,
      [
        "bundle",
        "features",
        "dataset",
        "entities",
        "split",
        "limit",
        "precision",
        "region-beam",
        "label-score",
      ],
      ["write", "json"],
      USAGE,
    );
    if (flags.positionals.length > 0) {
      throw new InputError(`unexpected argument ${flags.positionals[0]}\n\n${USAGE}`);
    }
    for (const name of ["bundle", "features", "dataset", "entities"]) {
      if (!stringFlag(flags, name)) throw new InputError(`--${name} is required\n\n${USAGE}`);
    }
    const split = parseSplit(stringFlag(flags, "split") ?? "val");
    const limit = positiveIntFlag(flags, "limit", Number.POSITIVE_INFINITY);
    const precision =
      numberFlag(stringFlag(flags, "precision"), "--precision", { min: 0, max: 1 }) ?? 0.5;
    if (precision === 0) throw new InputError(`--precision: expected a number above 0, got "0"`);
    const bundleDir = new BundleCache().resolve(stringFlag(flags, "bundle")!);
    const bundle = loadBundle(bundleDir);
    const rerank = bundle.manifest.regionRerank;
    const consensus = regionConsensusRerank(bundle);
    const beam = boundedIntFlag(
      flags,
      "region-beam",
      rerank?.beam ?? DEFAULT_REGION_BEAM,
      MAX_BEAM,
    );
    const generator = bundle.regionGenerator;
    if (!generator) {
      throw new InputError(`${bundle.dir}: the bundle has no region generator (regionGenerator)`);
    }
    const labelScore =
      numberFlag(stringFlag(flags, "label-score"), "--label-score", { min: 0, max: 1 }) ??
      bundle.manifest.regionPhrases?.labelScore ??
      DEFAULT_LABEL_SCORE;

    const datasetPath = stringFlag(flags, "dataset")!;
    const images = loadDataset(datasetPath)
      .images.filter((im) => im.split === split)
      .slice(0, limit);
    if (images.length === 0) throw new InputError(`${datasetPath}: no images in split ${split}`);
    const store = FeatureStore.open(stringFlag(flags, "features")!);
    if (store.meta.dim !== generator.model.config.featureDim) {
      throw new InputError(
        `${store.dir}: holds ${store.meta.dim}-d features, the region generator takes ${generator.model.config.featureDim}-d`,
      );
    }
    const absent = images.filter((im) => !store.has(im.filename));
    if (absent.length > 0) {
      throw new InputError(
        `${store.dir}: lacks ${absent.length} of the ${images.length} ${split} images (e.g. ${absent[0].filename})`,
      );
    }
    const entitiesDir = stringFlag(flags, "entities")!;
    const entities = readEntities(entitiesDir, images);
    if (entities.missing.length > 0) {
      throw new InputError(
        `${entitiesDir}: lacks the annotations of ${entities.missing.length} of the ${images.length} ${split} images ` +
          `(e.g. ${entities.missing[0]})`,
      );
    }

    const progress = new Progress({
      label: "phrasing regions",
      total: images.length,
      unit: "images",
    });
    const stored = (function* () {
      for (const im of images) {
        yield store.get(im.filename)!;
        progress.tick();
      }
    })();
    const samples = phraseSamples(
      generator,
      stored,
      new Map(entities.images.map((e) => [e.image.filename, e])),
      {
        beam,
        labelScore,
        ...(rerank && rerank.weight > 0
          ? { rerank: { scorer: bundle.search, weight: rerank.weight } }
          : {}),
        ...(consensus ? { consensus } : {}),
      },
    );
    progress.finish();
    const judged = samples.flatMap((s) =>
      s.agrees === undefined ? [] : [{ confidence: s.confidence, agrees: s.agrees }],
    );
    if (judged.length === 0) {
      throw new InputError(
        `${store.dir}: no region of the ${images.length} ${split} images matches an annotated box`,
      );
    }
    const choice = chooseMinConfidence(judged, precision);
    const summary = summarize(samples, choice.minConfidence);

    if (flags.values.json) {
      console.log(
        JSON.stringify(
          { split, images: images.length, beam, labelScore, ...choice, summary, samples },
          null,
          2,
        ),
      );
    } else {
      console.log(report(choice, summary, samples, { split, images: images.length }));
    }
    if (flags.values.write) {
      if (choice.minConfidence === undefined) {
        throw new InputError(
          `--write: no confidence reaches agreement ${precision}; the bundle is left as it was`,
        );
      }
      const setting = { minConfidence: round(choice.minConfidence), labelScore };
      const path = writeRegionPhrases(bundle.dir, setting);
      console.error(`wrote regionPhrases ${JSON.stringify(setting)} into ${path}`);
    }
    return 0;
  },
};

const round = (x: number) => Math.round(x * 1000) / 1000;

/** What the threshold does to the split's phrases. */
interface ThresholdSummary {
  readonly phrases: number;
  readonly contradicting: number;
  /** Phrases shown (not contradicting, confidence >= the threshold). */
  readonly shown: number;
  readonly shownBySource: Readonly<Record<string, { shown: number; of: number }>>;
  readonly judged: { readonly shown: number; readonly hidden: number };
  /** Agreement of the judged phrases shown and hidden. */
  readonly agreement: { readonly shown: number; readonly hidden: number; readonly all: number };
  /** Corpus BLEU-1 of the judged phrases against their entity's phrases: shown, and all. */
  readonly bleu1: { readonly shown: number; readonly all: number };
}

function summarize(
  samples: readonly PhraseSample[],
  threshold: number | undefined,
): ThresholdSummary {
  const min = threshold ?? Number.POSITIVE_INFINITY;
  const shown = (s: PhraseSample) => !s.contradicts && s.confidence >= min;
  const bySource: Record<string, { shown: number; of: number }> = {};
  for (const s of samples) {
    const entry = bySource[s.source] ?? { shown: 0, of: 0 };
    entry.of++;
    if (shown(s)) entry.shown++;
    bySource[s.source] = entry;
  }
  const judged = samples.filter((s) => s.agrees !== undefined);
  const rate = (list: readonly PhraseSample[]) =>
    list.length === 0 ? 0 : list.filter((s) => s.agrees).length / list.length;
  const bleu1 = (list: readonly PhraseSample[]) =>
    list.length === 0
      ? 0
      : bleu(
          list.map((s) => ({
            candidate: s.phrase.split(" "),
            references: (s.references ?? []).map((r) => r.split(" ")),
          })),
          1,
        ).scores[0];
  const judgedShown = judged.filter(shown);
  const judgedHidden = judged.filter((s) => !shown(s));
  return {
    phrases: samples.length,
    contradicting: samples.filter((s) => s.contradicts).length,
    shown: samples.filter(shown).length,
    shownBySource: bySource,
    judged: { shown: judgedShown.length, hidden: judgedHidden.length },
    agreement: { shown: rate(judgedShown), hidden: rate(judgedHidden), all: rate(judged) },
    bleu1: { shown: bleu1(judgedShown), all: bleu1(judged) },
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The text form: the fitted curve, the choice and what it does, a few phrases either side. */
function report(
  choice: ReturnType<typeof chooseMinConfidence>,
  summary: ThresholdSummary,
  samples: readonly PhraseSample[],
  run: { split: string; images: number },
): string {
  const lines = [
    `${run.split}: ${run.images} images, ${summary.phrases} region phrases, ${summary.judged.shown + summary.judged.hidden} on an annotated entity's box`,
    "",
    "agreement with the entity's phrases by confidence (fitted non-decreasing):",
    ...choice.curve.map(
      (c) =>
        `  ${c.from.toFixed(3).padStart(7)} .. ${c.to.toFixed(3).padStart(7)}  ${String(c.phrases).padStart(5)} phrases  ${pct(c.agreement).padStart(6)}`,
    ),
    "",
  ];
  if (choice.minConfidence === undefined) {
    lines.push(
      `no confidence reaches agreement ${pct(choice.precision)}: every phrase would be hidden`,
    );
    return lines.join("\n");
  }
  const min = choice.minConfidence;
  lines.push(
    `threshold (agreement >= ${pct(choice.precision)}): minConfidence ${round(min)}`,
    `shown: ${summary.shown} of ${summary.phrases} phrases (${pct(summary.shown / summary.phrases)}); ${summary.contradicting} contradict a detection scored >= the label score`,
    ...Object.entries(summary.shownBySource).map(
      ([source, n]) => `  ${source}: ${n.shown} of ${n.of} shown (${pct(n.shown / n.of)})`,
    ),
    `judged phrases: agreement ${pct(summary.agreement.shown)} of ${summary.judged.shown} shown, ${pct(summary.agreement.hidden)} of ${summary.judged.hidden} hidden (${pct(summary.agreement.all)} of all)`,
    `BLEU-1 against the entity's phrases: ${(100 * summary.bleu1.shown).toFixed(1)} shown, ${(100 * summary.bleu1.all).toFixed(1)} all`,
    "",
    "phrases just above and just below it:",
  );
  const sorted = [...samples]
    .filter((s) => !s.contradicts)
    .sort((a, b) => a.confidence - b.confidence);
  const at = sorted.findIndex((s) => s.confidence >= min);
  const show = (s: PhraseSample) =>
    `  ${s.confidence.toFixed(3).padStart(7)}  ${s.phrase}${s.references ? `  [${s.agrees ? "agrees" : "does not agree"} with: ${s.references.slice(0, 3).join(" / ")}]` : ""}`;
  lines.push(
    ...sorted.slice(at, at + 5).map(show),
    "  --",
    ...sorted.slice(Math.max(0, at - 5), at).map(show),
  );
  return lines.join("\n");
}

/** Sets regionPhrases in `dir`/bundle.json, keeping everything else; returns the file. */
function writeRegionPhrases(dir: string, setting: RegionPhraseSetting): string {
  const path = join(dir, BUNDLE_FILE);
  const { fields } = JsonFields.of(readJsonFile(path), path);
  const updated = { ...fields, regionPhrases: setting };
  parseBundleManifest(updated, path);
  writeFileAtomic(path, `${JSON.stringify(updated, null, 2)}\n`);
  return path;
}
