import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AlignmentModel } from "../../align/model.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { loadDataset } from "../../data/load.js";
import { tokenize } from "../../data/tokenizer.js";
import { InputError } from "../../errors.js";
import { type AlignmentView, alignmentPage } from "../../mrf/alignment-page.js";
import { alignmentView, type FigureTruth } from "../../mrf/gallery.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { readWorldFile, type World, worldToDataset } from "../../world/world-file.js";
import type { Command } from "../command.js";
import { positiveInt } from "../flags.js";
import { parseBeta, parseFlags, parseSplit, required } from "../mrf-flags.js";

const USAGE = `usage: imagesent show-alignment --model CKPT --features STORE --images DIR --out PAGE.html
                                IMAGE "sentence" [IMAGE "sentence" ...]
       imagesent show-alignment --model CKPT --features STORE --images DIR --out PAGE.html
                                --gallery N (--dataset D | --world WORLD) [--split test]

Aligns sentences to image regions with the chain MRF and draws them as in the paper's Figure 5:
a coloured box for each region a phrase went to, the phrase and its mean score v.s on the box,
and the sentence under the image with each phrase in its region's colour. The images are embedded,
so the page opens anywhere. IMAGE is a file name of the feature store (a path's base name is used).

  --model CKPT     alignment model (imagesent train-align)
  --features STORE feature store holding the images' regions (imagesent features)
  --images DIR     folder of the image files
  --out PAGE.html  the page to write
  --gallery N      the first N images of --split, each with its first sentence
  --dataset D      dataset.json or Flickr8k folder, for --gallery
  --world WORLD    a synthetic world (folder or world.json): its sentences, and its true boxes
                   drawn dashed with each sentence's phrase-to-box accuracy
  --split S        split of the gallery (default test)
  --beta B[,B...]  the MRF's reward for neighbouring words sharing a region (default: see
                   docs/results/mrf.md); several draw each sentence once per beta, side by
                   side (0 is the paper's Figure 5: each word on its own best region)
  --min-score S    phrases scoring below S are greyed out and get no box (default: show all)
  --size PX        longest side of each drawn image (default 360)
  --title T        the page's title`;

interface Figure {
  readonly filename: string;
  readonly tokens: readonly string[];
  readonly truth?: FigureTruth;
}

export const showAlignmentCommand: Command = {
  name: "show-alignment",
  summary: "draw phrase-to-region alignments as an HTML page (the paper's Figure 5)",
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
        "split",
        "beta",
        "min-score",
        "size",
        "title",
      ],
      USAGE,
    );
    required(values, ["model", "features", "images", "out"], USAGE);
    const betas =
      values.beta === undefined ? [parseBeta(undefined)] : values.beta.split(",").map(parseBeta);
    const minScore = values["min-score"] === undefined ? undefined : Number(values["min-score"]);
    if (minScore !== undefined && !Number.isFinite(minScore)) {
      throw new InputError(`--min-score: expected a number, got "${values["min-score"]}"`);
    }
    const size = values.size === undefined ? 360 : positiveInt(values.size, "--size");
    const world = values.world ? readWorld(values.world) : undefined;
    let figures: Figure[];
    if (values.gallery !== undefined) {
      if (positionals.length > 0) {
        throw new InputError(`--gallery takes no IMAGE "sentence" arguments\n\n${USAGE}`);
      }
      figures = galleryFigures(
        positiveInt(values.gallery, "--gallery"),
        parseSplit(values.split ?? "test"),
        values.dataset,
        world,
      );
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
    const views: AlignmentView[] = figures.flatMap((f) => {
      const stored = store.get(f.filename);
      if (!stored) {
        throw new InputError(
          `${values.features}: has no ${f.filename}; run imagesent features on it`,
        );
      }
      const imagePath = join(values.images!, f.filename);
      if (!existsSync(imagePath)) throw new InputError(`${imagePath}: no such file`);
      return betas.map((beta) => {
        const view = alignmentView(model, stored, imagePath, f.tokens, beta, f.truth);
        return betas.length > 1 ? { ...view, title: `${view.title} · β = ${beta}` } : view;
      });
    });
    const title = values.title ?? "Phrase-to-region alignments";
    const intro = [
      `chain MRF, beta ${betas.join(", ")}; model ${basename(values.model!)}; features ${basename(values.features!)}`,
      "Each phrase is drawn in its region's colour with its mean region-word score v·s." +
        (world ? " Dashed white boxes: the true objects." : ""),
    ];
    mkdirSync(dirname(values.out!), { recursive: true });
    writeFileAtomic(
      values.out!,
      alignmentPage(title, views, {
        size,
        minScore,
        intro,
        ...(betas.length > 1 ? { columns: betas.length } : {}),
      }),
    );
    console.log(`${values.out}: ${views.length} aligned sentence${views.length === 1 ? "" : "s"}`);
    return 0;
  },
};

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
  datasetPath: string | undefined,
  world: World | undefined,
): Figure[] {
  if (!datasetPath && !world)
    throw new InputError(`--gallery needs --dataset or --world\n\n${USAGE}`);
  const dataset = datasetPath ? loadDataset(datasetPath) : worldToDataset(world!);
  const images = dataset.images.filter((im) => im.split === split && im.sentences.length > 0);
  if (images.length === 0) throw new InputError(`no ${split} images with sentences`);
  return images.slice(0, n).map((im) => {
    const tokens = im.sentences[0].tokens;
    return { filename: im.filename, tokens, truth: worldTruth(world, im.filename, tokens) };
  });
}
