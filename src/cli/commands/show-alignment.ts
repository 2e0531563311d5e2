import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AlignmentModel } from "../../align/model.js";
import { placeLabels } from "../../app/region-labels.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import type { Dataset } from "../../data/dataset.js";
import {
  type EntityAnnotation,
  type EntityPhrase,
  readEntities,
} from "../../data/flickr30k-entities.js";
import { loadDataset } from "../../data/load.js";
import { tokenize } from "../../data/tokenizer.js";
import { InputError } from "../../errors.js";
import { type AlignmentView, alignmentPage } from "../../mrf/alignment-page.js";
import { alignmentView, type FigureTruth } from "../../mrf/gallery.js";
import { groundablePhrases } from "../../mrf/grounding-eval.js";
import { type FigureGrounding, groundingView } from "../../mrf/grounding-gallery.js";
import {
  fitGroundingKnowledge,
  type GroundingKnowledge,
  loadGroundingKnowledge,
} from "../../mrf/grounding-knowledge.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import { FeatureStore, type StoredImage } from "../../vision/feature-store.js";
import { readWorldFile, type World, worldToDataset } from "../../world/world-file.js";
import type { Command } from "../command.js";
import { numberFlag, numberListFlag, positiveInt } from "../flags.js";
import { renderHelp } from "../help.js";
import { parseFlags, parseSplit, required } from "../mrf-flags.js";

/** Each drawn image's longest side, in pixels, when --size is not given. */
const DEFAULT_SIZE = 360;
const DEFAULT_TITLE = "Phrase-to-region alignments";

const USAGE = renderHelp({
  usage: [
    'show-alignment --model CKPT --features STORE --images DIR --out PAGE.html IMAGE "sentence" [IMAGE "sentence" ...]',
    "show-alignment --model CKPT --features STORE --images DIR --out PAGE.html --gallery N (--dataset D | --world WORLD) [--split test]",
    "show-alignment --model CKPT --features STORE --images DIR --out PAGE.html --gallery N --dataset D --entities DIR [--grounding F] [--split val]",
  ],
  description: `Aligns sentences to image regions with the chain MRF (or grounds their phrases
    with the learned chooser, --grounding) and draws them as in the paper's Figure 5: a coloured
    box for each region a phrase went to, the phrase and its score on the box, and the sentence
    under the image with each phrase in its region's colour. With a synthetic world or Flickr30k
    Entities the true boxes are drawn dashed and each sentence's accuracy is given. The images
    are embedded, so the page opens anywhere.`,
  args: [
    {
      flag: "IMAGE",
      text: "a file name of the feature store (a path's base name is used)",
    },
    { flag: '"sentence"', text: "the sentence to align to it" },
  ],
  flags: [
    { flag: "--model CKPT", text: "alignment model (imagesent train-align)" },
    {
      flag: "--features STORE",
      text: "feature store holding the images' regions (imagesent features)",
    },
    { flag: "--images DIR", text: "folder of the image files" },
    { flag: "--out PAGE.html", text: "the page to write" },
    { flag: "--gallery N", text: "the first N images of --split, each with its first sentence" },
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder, for --gallery" },
    {
      flag: "--world WORLD",
      text: `a synthetic world (folder or world.json): its sentences, and its true boxes drawn
        dashed with each sentence's phrase-to-box accuracy`,
    },
    {
      flag: "--entities DIR",
      text: `a Flickr30k Entities folder (with --gallery and --dataset): each image's sentence is
        its annotated one, each annotated phrase's true box is drawn dashed in the colour of the
        region it went to, marked ✓ when that region has IoU >= 0.5 with it (eval-grounding's
        protocol) and ✗ when not`,
    },
    {
      flag: "--grounding F",
      text: `ground phrases with the learned chooser instead of the chain MRF: the annotated
        phrases with --entities, else each sentence's noun phrases, each scored by its confidence.
        F is a grounding file (a bundle's grounding.json, fit-grounding) or fit: fitted on
        --dataset's train split`,
      default: "the chain MRF",
    },
    { flag: "--split S", text: "split of the gallery", default: "test" },
    {
      flag: "--beta B[,B...]",
      text: `the MRF's reward for neighbouring words sharing a region (docs/results/mrf.md);
        several draw each sentence once per beta, side by side (0 is the paper's Figure 5: each
        word on its own best region)`,
      default: DEFAULT_BETA,
    },
    {
      flag: "--min-score S",
      text: "phrases scoring below S are greyed out and get no box",
      default: "show all",
    },
    { flag: "--size PX", text: "longest side of each drawn image", default: DEFAULT_SIZE },
    { flag: "--title T", text: "the page's title", default: DEFAULT_TITLE },
  ],
  examples: [
    'show-alignment --model runs/demo/align/best.ckpt --features runs/demo/features --images runs/demo/world/images --out runs/demo/alignment.html 000900.jpg "a big red circle"',
    "show-alignment --model runs/demo/align/best.ckpt --features runs/demo/features --images runs/demo/world/images --out runs/demo/gallery.html --gallery 12 --world runs/demo/world",
    "show-alignment --model bundles/flickr8k/alignment.ckpt --features features/flickr8k-proposals --images path/to/flickr8k/images --dataset path/to/flickr8k --entities path/to/flickr30k_entities --grounding bundles/flickr8k/grounding.json --gallery 6 --split val --out grounding-val.html",
  ],
});

interface Figure {
  readonly filename: string;
  readonly tokens: readonly string[];
  readonly truth?: FigureTruth;
  /** Its sentence's Flickr30k Entities phrases and the image's annotation (--entities). */
  readonly entities?: {
    readonly phrases: readonly EntityPhrase[];
    readonly annotation: EntityAnnotation;
  };
}

export const showAlignmentCommand: Command = {
  name: "show-alignment",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      [
        "model",
        "features",
        "images",
        "out",
        "gallery",
        "dataset",
        "world",
        "entities",
        "grounding",
        "split",
        "beta",
        "min-score",
        "size",
        "title",
      ],
      USAGE,
    );
    required(values, ["model", "features", "images", "out"], USAGE);
    if (values.grounding !== undefined && values.beta !== undefined) {
      throw new InputError("--beta applies to the chain MRF, not to --grounding");
    }
    if (values.world && (values.entities || values.grounding)) {
      throw new InputError("--world cannot go with --entities or --grounding");
    }
    if (values.entities && !(values.gallery && values.dataset)) {
      throw new InputError(`--entities needs --gallery N and --dataset D\n\n${USAGE}`);
    }
    const betas = numberListFlag(values.beta, "--beta", { min: 0 }) ?? [DEFAULT_BETA];
    const minScore = numberFlag(values["min-score"], "--min-score");
    const size = values.size === undefined ? DEFAULT_SIZE : positiveInt(values.size, "--size");
    const world = values.world ? readWorld(values.world) : undefined;
    const dataset = values.dataset ? loadDataset(values.dataset) : undefined;
    let figures: Figure[];
    if (values.gallery !== undefined) {
      if (positionals.length > 0) {
        throw new InputError(`--gallery takes no IMAGE "sentence" arguments\n\n${USAGE}`);
      }
      if (!dataset && !world) {
        throw new InputError(`--gallery needs --dataset or --world\n\n${USAGE}`);
      }
      const n = positiveInt(values.gallery, "--gallery");
      const split = parseSplit(values.split ?? "test");
      figures = values.entities
        ? entityFigures(n, split, dataset!, values.entities)
        : galleryFigures(n, split, dataset ?? worldToDataset(world!), world);
    } else {
      if (positionals.length === 0 || positionals.length % 2 !== 0) {
        throw new InputError(`expected IMAGE "sentence" pairs (or --gallery N)\n\n${USAGE}`);
      }
      figures = [];
      for (let i = 0; i < positionals.length; i += 2) {
        const filename = basename(positionals[i]);
        const tokens = tokenize(positionals[i + 1]);
        if (tokens.length === 0) throw new InputError(`"${positionals[i + 1]}": no words`);
        figures.push({ filename, tokens, truth: worldTruth(world, filename, tokens) });
      }
    }
    const { model } = AlignmentModel.load(values.model!);
    const store = FeatureStore.open(values.features!);
    const knowledge =
      values.grounding === undefined
        ? undefined
        : groundingKnowledge(values.grounding, dataset, store, model.config.regions);
    // One column of figures per beta, or one for the learned chooser.
    const groundings: FigureGrounding[] = knowledge
      ? [{ kind: "learned", knowledge }]
      : betas.map((beta) => ({ kind: "mrf", beta }));
    const views: AlignmentView[] = figures.flatMap((f) => {
      const found = store.get(f.filename);
      if (!found) {
        throw new InputError(
          `${values.features}: has no ${f.filename}; run imagesent features on it`,
        );
      }
      // The regions the model was trained on, as eval-grounding scores them.
      const stored = firstRegions(found, model.config.regions);
      const imagePath = join(values.images!, f.filename);
      if (!existsSync(imagePath)) throw new InputError(`${imagePath}: no such file`);
      const annotated = f.entities
        ? groundablePhrases(
            f.entities.phrases,
            f.entities.annotation,
            stored.width,
            stored.height,
            {
              notVisual: 0,
              noBox: 0,
            },
          )
        : undefined;
      return groundings.map((g) => {
        const view =
          g.kind === "mrf" && !f.entities
            ? alignmentView(model, stored, imagePath, f.tokens, g.beta, f.truth)
            : groundingView(model, stored, imagePath, f.tokens, g, annotated);
        return g.kind === "mrf" && betas.length > 1
          ? { ...view, title: `${view.title} · β = ${g.beta}` }
          : view;
      });
    });
    const title = values.title ?? DEFAULT_TITLE;
    const what = knowledge
      ? `learned chooser (${values.grounding === "fit" ? `fitted on ${basename(values.dataset!)}'s train split` : basename(values.grounding!)}) on each ${values.entities ? "annotated" : "noun"} phrase`
      : `chain MRF, beta ${betas.join(", ")}`;
    const intro = [
      `${what}; model ${basename(values.model!)}; features ${basename(values.features!)}`,
      knowledge
        ? "Each phrase is drawn in its region's colour with its confidence (its region's score minus the runner-up's)."
        : `Each phrase is drawn in its region's colour with its mean region-word score v·s.${world ? " Dashed white boxes: the true objects." : ""}`,
      ...(values.entities ? [entitiesLine(views, groundings)] : []),
    ];
    mkdirSync(dirname(values.out!), { recursive: true });
    writeFileAtomic(
      values.out!,
      alignmentPage(title, views, {
        size,
        minScore,
        intro,
        placeLabels,
        ...(groundings.length > 1 ? { columns: groundings.length } : {}),
      }),
    );
    console.log(`${values.out}: ${views.length} aligned sentence${views.length === 1 ? "" : "s"}`);
    return 0;
  },
};

/** The page's line on the annotated phrases: what the dashed boxes are, and the accuracy. */
function entitiesLine(views: readonly AlignmentView[], groundings: readonly FigureGrounding[]) {
  const tally = (vs: readonly AlignmentView[]) => {
    const phrases = vs.flatMap((v) => v.truthPhrases ?? []);
    const right = phrases.filter((p) => p.right).length;
    const share = phrases.length > 0 ? ` (${((100 * right) / phrases.length).toFixed(0)}%)` : "";
    return `${right}/${phrases.length}${share}`;
  };
  // Views go figure by figure, one per grounding.
  const byColumn = groundings.map((g, k) => {
    const mine = views.filter((_, i) => i % groundings.length === k);
    return groundings.length > 1 && g.kind === "mrf"
      ? `β = ${g.beta}: ${tally(mine)}`
      : tally(mine);
  });
  return (
    "Dashed boxes: each annotated phrase's true box (Flickr30k Entities) in the colour of the region it went to; " +
    `✓ where that region has IoU >= 0.5 with it, ✗ where not. On this page: ${byColumn.join(", ")}.`
  );
}

function groundingKnowledge(
  value: string,
  dataset: Dataset | undefined,
  store: FeatureStore,
  regions: number,
): GroundingKnowledge {
  if (value !== "fit") return loadGroundingKnowledge(value);
  if (!dataset) {
    throw new InputError("--grounding fit needs --dataset D: it is fitted on D's train split");
  }
  return fitGroundingKnowledge(dataset.images, store, regions);
}

/** The image's first `n` regions and their features. */
function firstRegions(stored: StoredImage, n: number): StoredImage {
  if (stored.regions.length <= n) return stored;
  const dim = stored.features.length / stored.regions.length;
  return {
    ...stored,
    regions: stored.regions.slice(0, n),
    features: stored.features.subarray(0, n * dim),
  };
}

function readWorld(path: string): World {
  return readWorldFile(path.endsWith(".json") ? path : join(path, "world.json"));
}

/** Ground truth for a sentence when the world has this image and this very sentence. */
function worldTruth(
  world: World | undefined,
  filename: string,
  tokens: readonly string[],
): FigureTruth | undefined {
  const image = world?.images.find((im) => im.filename === filename);
  const sentence = image?.sentences.find((s) => s.tokens.join(" ") === tokens.join(" "));
  return image && sentence ? { objects: image.objects, refs: sentence.refs } : undefined;
}

function galleryFigures(
  n: number,
  split: ReturnType<typeof parseSplit>,
  dataset: Dataset,
  world: World | undefined,
): Figure[] {
  return splitImages(dataset, split)
    .slice(0, n)
    .map((im) => {
      const tokens = im.sentences[0].tokens;
      return { filename: im.filename, tokens, truth: worldTruth(world, im.filename, tokens) };
    });
}

function splitImages(dataset: Dataset, split: ReturnType<typeof parseSplit>) {
  const images = dataset.images.filter((im) => im.split === split && im.sentences.length > 0);
  if (images.length === 0) throw new InputError(`no ${split} images with sentences`);
  return images;
}

/**
 * The first `n` images of the split, each with its annotated sentence that is its first dataset
 * caption (caption_alignment.tsv), else its first annotated one, in the annotation's tokens.
 */
function entityFigures(
  n: number,
  split: ReturnType<typeof parseSplit>,
  dataset: Dataset,
  dir: string,
): Figure[] {
  const images = splitImages(dataset, split).slice(0, n);
  const { images: annotated, missing } = readEntities(dir, images);
  if (missing.length > 0) {
    throw new InputError(
      `${dir}: has no annotation of ${missing[0]} (${missing.length} of the ${images.length} ${split} images shown)`,
    );
  }
  return annotated.map((e) => {
    const sentence =
      e.sentences.find((s) => s.sentenceId === e.image.sentences[0].id) ?? e.sentences[0];
    if (!sentence) throw new InputError(`${dir}: Sentences/${e.flickr30kId}.txt has no sentence`);
    return {
      filename: e.image.filename,
      tokens: sentence.tokens,
      entities: { phrases: sentence.phrases, annotation: e.annotation },
    };
  });
}
