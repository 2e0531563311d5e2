import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { DEFAULT_REGION_BEAM } from "../../app/describer.js";
import { encodeEntityRegions } from "../../app/entity-crops.js";
import { loadBundle, MAX_BEAM, regionConsensusRerank } from "../../app/model-bundle.js";
import { openVisionModels, type VisionModels } from "../../app/vision-setup.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { type EntityImage, readEntities } from "../../data/flickr30k-entities.js";
import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import {
  DEFAULT_BEAM,
  DEFAULT_LENGTH_NORMALIZATION,
  DEFAULT_MAX_LENGTH,
} from "../../generate/decoding.js";
import type { EncodedRegions } from "../../generate/entity-regions.js";
import { evaluateRegions } from "../../generate/region-evaluation.js";
import {
  DEFAULT_REGION_LENGTH_NORMALIZATION,
  DEFAULT_REGION_RERANK,
} from "../../generate/region-phrases.js";
import {
  formatRegionMarkdown,
  PAPER_REGION_ROWS,
  regionTable,
} from "../../generate/region-report.js";
import {
  boundedIntFlag,
  MAX_THREADS,
  parseAppFlags,
  positiveIntFlag,
  stringFlag,
} from "../app-flags.js";
import type { Command } from "../command.js";
import { numberFlag } from "../flags.js";
import { renderHelp } from "../help.js";
import { parseSplit } from "../mrf-flags.js";
import { Progress } from "../progress.js";

/** onnxruntime threads per model run when --threads is not given. */
const DEFAULT_THREADS = 2;

const USAGE = renderHelp({
  usage: [
    "eval-regions --bundle B --dataset D --images DIR --entities DIR [--split val] [--limit N] [--nn-images N] [--region-beam N] [--region-length-norm A] [--region-rerank W] [--region-consensus W] [--beam N] [--threads N] [--json] [--markdown FILE]",
  ],
  description: `Region-level evaluation, the paper's Table 3, on Flickr30k Entities: every entity
    chain of the split's images that has a box is one region, the union of its boxes, cropped from
    the image file as describe makes region features (the bundle's encoder, its context padding;
    boxes scaled from the annotated size to the file's pixels). Each region is described by the
    bundle's region generator, by its full-frame generator on the same crop and by a
    nearest-neighbour baseline (the phrase of the most similar train entity region by cosine of
    CNN codes), and scored against the entity's phrases in the image's sentences (BLEU-1..4,
    METEOR, ROUGE-L, CIDEr-D), beside one human phrase against the others and the paper's rows.`,
  flags: [
    { flag: "--bundle B", text: "a bundle folder or cached name, with a region generator" },
    {
      flag: "--dataset D",
      text: "dataset.json or Flickr8k folder; images named <flickr30k id>_<secret>.jpg",
    },
    { flag: "--images DIR", text: "the image files, DIR/<filename>" },
    {
      flag: "--entities DIR",
      text: "a Flickr30k Entities folder: Annotations/<id>.xml, Sentences/<id>.txt",
    },
    {
      flag: "--split S",
      text: "train, val or test; the folder must annotate all its images",
      default: "val",
    },
    { flag: "--limit N", text: "only the split's first N images (quick runs)", default: "all" },
    {
      flag: "--nn-images N",
      text: `the nearest neighbour's pool: the first N annotated train images (0 leaves the row
        out). With --split train the split's images are not in the pool`,
      default: "all",
    },
    {
      flag: "--region-beam N",
      text: `the region generator's beam, at most ${MAX_BEAM} (describe's)`,
      default: `the bundle's regionRerank beam when reranking, else ${DEFAULT_REGION_BEAM}`,
    },
    {
      flag: "--region-length-norm A",
      text: "rank the region beam by logProb / length^A (as describe; 0 ranks by logProb)",
      default: DEFAULT_REGION_LENGTH_NORMALIZATION,
    },
    {
      flag: "--region-rerank W",
      text: `rerank the region beam by the bundle's search models' score of each phrase on its
        region at weight W, as describe (0: no reranking)`,
      default: "the bundle's regionRerank weight, else 0",
    },
    {
      flag: "--region-consensus W",
      text: `rank the region beam also by each phrase's consensus with the snippets of the nearest
        train regions (the bundle's regionConsensus) at weight W, as describe (0: none)`,
      default: "the bundle's regionConsensus weight, else 0",
    },
    {
      flag: "--beam N",
      text: `the full-frame generator's beam, at most ${MAX_BEAM} (length norm ${DEFAULT_LENGTH_NORMALIZATION})`,
      default: DEFAULT_BEAM,
    },
    {
      flag: "--threads N",
      text: `onnxruntime threads per model run, at most ${MAX_THREADS}`,
      default: DEFAULT_THREADS,
    },
    { flag: "--json", text: "print the rows (metrics 0..1) and samples as JSON" },
    {
      flag: "--markdown FILE",
      text: "also write the table as Markdown, with samples and the command",
    },
  ],
  examples: [
    "eval-regions --bundle flickr8k --dataset path/to/flickr8k --images path/to/flickr8k/images --entities path/to/flickr30k_entities --limit 100",
  ],
});

export const evalRegionsCommand: Command = {
  name: "eval-regions",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      [
        "bundle",
        "dataset",
        "images",
        "entities",
        "split",
        "limit",
        "nn-images",
        "region-beam",
        "region-length-norm",
        "region-rerank",
        "region-consensus",
        "beam",
        "threads",
        "markdown",
      ],
      ["json"],
      USAGE,
    );
    if (flags.positionals.length > 0) {
      throw new InputError(`unexpected argument ${flags.positionals[0]}\n\n${USAGE}`);
    }
    for (const name of ["bundle", "dataset", "images", "entities"]) {
      if (!stringFlag(flags, name)) throw new InputError(`--${name} is required\n\n${USAGE}`);
    }
    const split = parseSplit(stringFlag(flags, "split") ?? "val");
    const limit = positiveIntFlag(flags, "limit", Number.POSITIVE_INFINITY);
    const nnText = stringFlag(flags, "nn-images");
    const nnImages =
      numberFlag(nnText, "--nn-images", { integer: true, min: 0 }) ?? Number.POSITIVE_INFINITY;
    const regionLengthNorm =
      numberFlag(stringFlag(flags, "region-length-norm"), "--region-length-norm", { min: 0 }) ??
      DEFAULT_REGION_LENGTH_NORMALIZATION;
    const beam = boundedIntFlag(flags, "beam", DEFAULT_BEAM, MAX_BEAM);
    const threads = boundedIntFlag(flags, "threads", DEFAULT_THREADS, MAX_THREADS);
    const imagesDir = stringFlag(flags, "images")!;
    if (!existsSync(imagesDir) || !statSync(imagesDir).isDirectory()) {
      throw new InputError(`--images: ${imagesDir} is not a folder`);
    }
    const bundle = loadBundle(stringFlag(flags, "bundle")!);
    const rerankSetting = bundle.manifest.regionRerank;
    const rerankWeight =
      numberFlag(stringFlag(flags, "region-rerank"), "--region-rerank", { min: 0 }) ??
      rerankSetting?.weight ??
      0;
    const regionBeam = boundedIntFlag(
      flags,
      "region-beam",
      rerankWeight > 0 ? (rerankSetting?.beam ?? DEFAULT_REGION_RERANK.beam) : DEFAULT_REGION_BEAM,
      MAX_BEAM,
    );
    const consensusWeight =
      numberFlag(stringFlag(flags, "region-consensus"), "--region-consensus", { min: 0 }) ??
      bundle.manifest.regionConsensus?.weight ??
      0;
    const consensus = regionConsensusRerank(bundle, consensusWeight);
    if (consensusWeight > 0 && !consensus) {
      throw new InputError(
        `--region-consensus: ${bundle.dir} has no snippet consensus (regionConsensus)`,
      );
    }
    const regionGenerator = bundle.regionGenerator;
    if (!regionGenerator) {
      throw new InputError(`${bundle.dir}: the bundle has no region generator (regionGenerator)`);
    }

    const datasetPath = stringFlag(flags, "dataset")!;
    const dataset = loadDataset(datasetPath);
    const images = dataset.images.filter((im) => im.split === split).slice(0, limit);
    if (images.length === 0) throw new InputError(`${datasetPath}: no images in split ${split}`);
    const entitiesDir = stringFlag(flags, "entities")!;
    const query = readEntities(entitiesDir, images);
    if (query.missing.length > 0) {
      throw new InputError(
        `${entitiesDir}: lacks the annotations of ${query.missing.length} of the ${images.length} ${split} images ` +
          `(e.g. ${query.missing[0]})`,
      );
    }
    const chosen = new Set(images.map((im) => im.filename));
    const pool = readEntities(
      entitiesDir,
      dataset.images.filter((im) => im.split === "train" && !chosen.has(im.filename)),
    ).images.slice(0, nnImages);

    // Only the encoder: the regions are the annotated boxes, not the detector's.
    const vision = await openVisionModels(
      { ...bundle.manifest.vision, detector: null, regions: 1 },
      { baseDir: bundle.dir, threads },
    );
    let encoded: { query: EncodedRegions; pool: EncodedRegions };
    try {
      encoded = {
        query: await crop(vision, imagesDir, query.images, `cropping ${split} regions`),
        pool: await crop(vision, imagesDir, pool, "cropping train regions"),
      };
    } finally {
      await vision.encoder.close();
    }
    if (encoded.query.regions.length === 0) {
      throw new InputError(
        `${entitiesDir}: no entity of the ${images.length} ${split} images has a box and a phrase`,
      );
    }

    const n = encoded.query.regions.length;
    const progress = new Progress({ label: "describing", total: 2 * n, unit: "regions" });
    const ev = evaluateRegions({
      regionGenerator,
      generator: bundle.generator,
      regionDecoding: {
        beam: regionBeam,
        lengthNormalization: regionLengthNorm,
        maxLength: DEFAULT_MAX_LENGTH,
        ...(rerankWeight > 0 ? { rerank: { scorer: bundle.search, weight: rerankWeight } } : {}),
        ...(consensus ? { consensus } : {}),
      },
      fullFrameDecoding: {
        beam,
        lengthNormalization: DEFAULT_LENGTH_NORMALIZATION,
        maxLength: DEFAULT_MAX_LENGTH,
      },
      query: encoded.query,
      pool: encoded.pool,
      onDecoded: (k) => progress.tick(k),
    });
    progress.finish();

    const table = regionTable(ev);
    if (flags.values.json) {
      console.log(
        JSON.stringify({ split, images: images.length, ...ev, paper: PAPER_REGION_ROWS }, null, 2),
      );
    } else {
      console.log(table.join("\n"));
    }
    const markdown = stringFlag(flags, "markdown");
    if (markdown) {
      mkdirSync(dirname(markdown), { recursive: true });
      writeFileAtomic(
        markdown,
        formatRegionMarkdown(ev, {
          split,
          images: images.length,
          bundle: stringFlag(flags, "bundle")!,
          encoder: vision.encoder.name,
          command: `imagesent eval-regions ${args.join(" ")}`,
        }),
      );
      if (!flags.values.json) console.log(`wrote ${markdown}`);
    }
    return 0;
  },
};

/** The entity regions of `images` and their codes, with a progress line. */
async function crop(
  vision: VisionModels,
  imagesDir: string,
  images: readonly EntityImage[],
  label: string,
): Promise<EncodedRegions> {
  if (images.length === 0) return { regions: [], features: new Float32Array(0) };
  const progress = new Progress({ label, total: images.length, unit: "images" });
  const encoded = await encodeEntityRegions(vision.encoder, imagesDir, images, () =>
    progress.tick(),
  );
  progress.finish();
  return encoded;
}
