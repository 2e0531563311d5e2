import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { AlignmentModel } from "../../align/model.js";
import { AlignmentFusion, isFusionPath } from "../../align/score-fusion.js";
import { BundleCache, readBundleManifest } from "../../app/model-bundle.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { Rng } from "../../core/rng.js";
import { type EntityImage, readEntities } from "../../data/flickr30k-entities.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import {
  CHOOSERS,
  countGrounding,
  emptyGroundingCounts,
  type GroundingCounts,
  groundablePhrases,
} from "../../mrf/grounding-eval.js";
import {
  fitGroundingKnowledge,
  type GroundingKnowledge,
  loadGroundingKnowledge,
} from "../../mrf/grounding-knowledge.js";
import { chooserLabel, groundingTable } from "../../mrf/grounding-report.js";
import { rate } from "../../mrf/phrase-accuracy.js";
import { DEFAULT_BETA, scoreSentence } from "../../mrf/phrase-alignment.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { parseAppFlags, stringFlag } from "../app-flags.js";
import type { Command } from "../command.js";
import { numberFlag } from "../flags.js";
import { renderHelp } from "../help.js";
import { parseSplit } from "../mrf-flags.js";
import { Progress } from "../progress.js";

const USAGE = renderHelp({
  usage: [
    "eval-grounding --model M --features STORE --dataset D --entities DIR [--split val] [--beta B] [--grounding FILE] [--json] [--markdown FILE]",
  ],
  description: `Phrase grounding accuracy on Flickr30k Entities by the standard protocol: each
    phrase with a box is put on one of its image's regions and is right when that region has IoU
    >= 0.5 with the union of the phrase's true boxes (notvisual phrases and phrases without a box
    are left out). Reported overall and by phrase type, for the alignment model (each phrase's
    best region, and the chain MRF's), for simple rules (random, whole image, largest region,
    largest detection of the phrase's annotated type or of the class its words name) and for the
    best the regions allow.`,
  flags: [
    {
      flag: "--model M",
      text: `an alignment checkpoint (train-align), a fusion (fuse-align's JSON: its first model)
        or a bundle folder or name (its alignment model, the one the MRF uses)`,
    },
    {
      flag: "--features STORE",
      text: "the feature store of the dataset's images (boxes in the stored pixels)",
    },
    {
      flag: "--dataset D",
      text: "dataset.json or Flickr8k folder; images named <flickr30k id>_<secret>.jpg",
    },
    {
      flag: "--entities DIR",
      text: `a Flickr30k Entities folder: Annotations/<id>.xml, Sentences/<id>.txt
        (caption_alignment.tsv, when there, links lines to the dataset's captions)`,
    },
    { flag: "--split S", text: "train, val or test", default: "val" },
    {
      flag: "--beta B",
      text: "the MRF's reward for neighbouring words sharing a region",
      default: `the bundle's beta, else ${DEFAULT_BETA}`,
    },
    {
      flag: "--grounding F",
      text: `the learned chooser's word-class table and chunker rates (fit-grounding's file)`,
      default: "the bundle's grounding.json, else fitted on the dataset's train split",
    },
    { flag: "--json", text: "print the counts as JSON" },
    {
      flag: "--markdown FILE",
      text: "also write the table as Markdown, with the command that made it",
    },
  ],
  examples: [
    "eval-grounding --model flickr8k --features features/flickr8k-mnv2 --dataset path/to/flickr8k --entities path/to/flickr30k_entities",
  ],
});

/** The seed of the random chooser, fixed so a rerun prints the same table. */
const RANDOM_SEED = 1;

export const evalGroundingCommand: Command = {
  name: "eval-grounding",
  usage: USAGE,
  run(args) {
    const flags = parseAppFlags(
      args,
      ["model", "features", "dataset", "entities", "split", "beta", "grounding", "markdown"],
      ["json"],
      USAGE,
    );
    if (flags.positionals.length > 0) {
      throw new InputError(`unexpected argument ${flags.positionals[0]}\n\n${USAGE}`);
    }
    for (const name of ["model", "features", "dataset", "entities"]) {
      if (!stringFlag(flags, name)) throw new InputError(`--${name} is required\n\n${USAGE}`);
    }
    const split = parseSplit(stringFlag(flags, "split") ?? "val");
    const loaded = loadAligner(stringFlag(flags, "model")!);
    const beta =
      numberFlag(stringFlag(flags, "beta"), "--beta", { min: 0 }) ?? loaded.beta ?? DEFAULT_BETA;
    const dataset = loadDataset(stringFlag(flags, "dataset")!);
    const images = dataset.images.filter((im) => im.split === split);
    if (images.length === 0) {
      throw new InputError(`${stringFlag(flags, "dataset")}: no images in split ${split}`);
    }
    const entitiesDir = stringFlag(flags, "entities")!;
    const entities = readEntities(entitiesDir, images);
    if (entities.missing.length > 0) {
      throw new InputError(
        `${entitiesDir}: lacks the annotations of ${entities.missing.length} of the ${images.length} ${split} images ` +
          `(e.g. ${entities.missing[0]}); the protocol needs all of them`,
      );
    }
    const store = FeatureStore.open(stringFlag(flags, "features")!);
    const absent = images.filter((im) => !store.has(im.filename));
    if (absent.length > 0) {
      throw new InputError(
        `${store.dir}: lacks ${absent.length} of the ${images.length} ${split} images (e.g. ${absent[0].filename})`,
      );
    }
    const groundingPath = stringFlag(flags, "grounding") ?? loaded.grounding;
    const knowledge = groundingPath
      ? loadGroundingKnowledge(groundingPath)
      : fitGroundingKnowledge(dataset.images, store, loaded.model.config.regions);
    const counts = groundSplit(loaded.model, store, entities.images, beta, knowledge);
    const matched = entities.images
      .flatMap((e) => e.sentences)
      .filter((s) => s.sentenceId !== null).length;
    const table = groundingTable(counts);
    if (flags.values.json) {
      console.log(JSON.stringify(countsJson(counts, split), null, 2));
    } else {
      console.log(table.join("\n"));
      console.log(
        `${matched} of ${counts.sentences} annotated sentences are linked to a dataset caption`,
      );
    }
    const markdown = stringFlag(flags, "markdown");
    if (markdown) {
      const text = [
        `# Phrase grounding on Flickr30k Entities (${split} split)`,
        "",
        `Alignment model \`${stringFlag(flags, "model")}\`, features \`${store.dir}\` (${store.meta.encoder};`,
        `detector ${store.meta.detector ?? "none"}), annotations \`${entitiesDir}\`.`,
        "",
        ...table,
        "",
        "Made by",
        "",
        `    imagesent eval-grounding ${args.join(" ")}`,
        "",
      ].join("\n");
      mkdirSync(dirname(markdown), { recursive: true });
      writeFileAtomic(markdown, text);
      if (!flags.values.json) console.log(`wrote ${markdown}`);
    }
    return 0;
  },
};

/**
 * The model whose word-region scores ground phrases: a checkpoint itself, a fusion's first model,
 * a bundle's alignment model (with the bundle's beta).
 */
function loadAligner(path: string): { model: AlignmentModel; beta?: number; grounding?: string } {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  if (isDir || (!existsSync(path) && !/[\\/]|\.\w+$/.test(path))) {
    const dir = new BundleCache().resolve(path);
    const manifest = readBundleManifest(dir);
    return {
      model: AlignmentModel.load(join(dir, manifest.alignment)).model,
      beta: manifest.beta,
      ...(manifest.grounding ? { grounding: join(dir, manifest.grounding) } : {}),
    };
  }
  if (isFusionPath(path)) return { model: AlignmentFusion.load(path).members[0].model };
  return { model: AlignmentModel.load(path).model };
}

/**
 * Every phrase of `images` grounded by every chooser, in the dataset's order, so the random
 * chooser's draws do not depend on how the store is sharded.
 */
function groundSplit(
  model: AlignmentModel,
  store: FeatureStore,
  images: readonly EntityImage[],
  beta: number,
  knowledge: GroundingKnowledge,
): GroundingCounts {
  const counts = emptyGroundingCounts(beta);
  const rng = new Rng(RANDOM_SEED);
  const dim = store.meta.dim;
  const progress = new Progress({ label: "grounding", total: images.length, unit: "images" });
  for (const entity of images) {
    const stored = store.get(entity.image.filename)!;
    const regions = stored.regions.slice(0, model.config.regions);
    const features = stored.features.subarray(0, regions.length * dim);
    countGrounding(
      {
        regions,
        codes: features,
        sentences: entity.sentences.map((s) => ({
          tokens: s.tokens,
          scores: scoreSentence(model, features, s.tokens),
          phrases: groundablePhrases(
            s.phrases,
            entity.annotation,
            stored.width,
            stored.height,
            counts.leftOut,
          ),
        })),
      },
      rng,
      counts,
      knowledge,
    );
    progress.tick();
  }
  progress.finish();
  return counts;
}

function countsJson(counts: GroundingCounts, split: string) {
  const tally = (t: { correct: number; total: number }) => ({ ...t, rate: rate(t) });
  return {
    split,
    beta: counts.beta,
    images: counts.images,
    sentences: counts.sentences,
    regions: counts.regions,
    leftOut: counts.leftOut,
    choosers: Object.fromEntries(
      CHOOSERS.map((c) => {
        const k = counts.choosers[c];
        return [
          c,
          {
            label: chooserLabel(c, counts.regions, counts.beta),
            ...tally(k.overall),
            byType: Object.fromEntries(Object.entries(k.byType).map(([t, v]) => [t, tally(v)])),
          },
        ];
      }),
    ),
    detectorRegions: tally(counts.detectorRegions),
    oneSegment: tally(counts.oneSegment),
  };
}
