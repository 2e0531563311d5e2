import { existsSync, rmSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { Describer } from "../../app/describer.js";
import { descriptionPage } from "../../app/description-page.js";
import { writeBundle } from "../../app/model-bundle.js";
import { type PhraseRegion, Searcher } from "../../app/searcher.js";
import { PIXEL_STATS_SETUP } from "../../app/vision-setup.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { tokenize } from "../../data/tokenizer.js";
import { alignmentFigure, imageDataUri } from "../../mrf/alignment-page.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import type { Box } from "../../vision/image.js";
import type { DemoStage } from "../commands/demo.js";
import { formatDescription } from "../commands/describe.js";
import { Progress } from "../progress.js";

/** Test images described in the demo's output. */
const DESCRIBED = 2;
/** Search hits drawn on the page with their phrases' regions. */
const DRAWN_HITS = 3;

/**
 * The system as an app uses it: the trained models packed into a bundle, two test images
 * described from their files, and the test images indexed and searched with a sentence. Regions
 * come from the bundle's detector, the world's colour-blob detector (world/shape-detector.ts), as
 * they would for any image a user brings.
 */
export const describeStage: DemoStage = {
  name: "describe",
  summary: "bundle the models; describe test images and search them as an app would",
  async run(state, log) {
    const world = state.world;
    if (!world) throw new Error("the describe stage needs the world stage first");
    const out = state.options.out;
    const regionGenerator = join(out, "generator", "region", "best.ckpt");
    const bundleDir = join(out, "bundle");
    writeBundle(bundleDir, {
      alignment: join(out, "align", "best.ckpt"),
      generator: join(out, "generator", "fullframe", "best.ckpt"),
      ...(existsSync(regionGenerator) ? { regionGenerator } : {}),
      vision: PIXEL_STATS_SETUP,
      description: `imagesent demo: synthetic world of ${world.world.images.length} images, seed ${world.world.seed}`,
    });
    log(`model bundle: ${display(bundleDir)} (float16 weights; docs/bundle.md)`);

    // A world too small to hold test images (as in quick runs) shows its train images instead.
    const heldOut = world.world.images.filter((im) => im.split === "test");
    const tests = heldOut.length > 0 ? heldOut : world.world.images;
    const path = (filename: string) => join(world.imagesDir, filename);
    const describer = await Describer.load(bundleDir);
    const items = [];
    try {
      for (const image of tests.slice(0, DESCRIBED)) {
        const description = await describer.describe(path(image.filename));
        log("");
        log(formatDescription(image.filename, description).split("\n").slice(0, 6).join("\n"));
        log(`  (a reference: "${image.sentences[0].tokens.join(" ")}")`);
        items.push({
          title: image.filename,
          imageHref: imageDataUri(path(image.filename)),
          description,
        });
      }
    } finally {
      await describer.close();
    }
    const page = join(out, "describe.html");
    // A fresh index each run: the world (and so each image file) may have changed.
    const indexDir = join(out, "index");
    rmSync(indexDir, { recursive: true, force: true });
    const searcher = Searcher.open(bundleDir, indexDir);
    try {
      const progress = new Progress({ label: "indexing", total: tests.length, unit: "images" });
      await searcher.index(
        tests.map((im) => ({ name: im.filename, image: path(im.filename) })),
        {
          sentences: tests.flatMap((im) => im.sentences.map((s) => s.tokens.join(" "))),
          onImage: () => progress.tick(),
        },
      );
      progress.finish();
      const target = tests[Math.min(DESCRIBED, tests.length - 1)];
      const sentence = target.sentences[0].tokens.join(" ");
      const { hits } = await searcher.search(sentence, tests.length, { withPhrases: DRAWN_HITS });
      const rank = hits.findIndex((h) => h.image === target.filename) + 1;
      log("");
      log(
        `search "${sentence}" over the ${tests.length} ${heldOut.length > 0 ? "test" : "train"} images:`,
      );
      for (const [i, h] of hits.slice(0, 3).entries()) {
        const mark = h.image === target.filename ? "  <- the image of this sentence" : "";
        log(`  ${i + 1}. ${h.image} S = ${h.score.toFixed(2)}${mark}`);
        if (i > 0) continue;
        for (const p of h.phrases ?? []) {
          log(`       "${p.phrase}" -> region ${p.region} (${p.score.toFixed(2)})`);
        }
      }
      log(`  the sentence's own image ranks ${rank} of ${tests.length}`);
      const byImage = await searcher.searchByImage(path(target.filename), 3);
      log(`indexed sentences that best describe ${target.filename}:`);
      for (const [i, h] of byImage.entries()) {
        log(`  ${i + 1}. "${h.sentence}" (${h.score.toFixed(2)})`);
      }
      const searched = {
        heading: `Search: "${sentence}"`,
        intro: `The ${DRAWN_HITS} best of the ${tests.length} indexed images by S_kl, each phrase of the sentence on the region the chain MRF (β = ${DEFAULT_BETA}) gave it; the sentence is ${target.filename}'s.`,
        figures: hits.slice(0, DRAWN_HITS).map((h, i) => {
          return alignmentFigure({
            title: `${i + 1}. ${h.image} · S = ${h.score.toFixed(2)}`,
            imageHref: imageDataUri(path(h.image)),
            width: h.width,
            height: h.height,
            tokens: tokenize(sentence),
            regionBoxes: regionBoxesOf(h.phrases ?? []),
            segments: h.phrases ?? [],
          });
        }),
      };
      writeFileAtomic(
        page,
        descriptionPage("The synthetic world's test images, described and searched", items, [
          searched,
        ]),
      );
    } finally {
      await searcher.close();
    }
    log(`page: ${display(page)}`);
    log(`search index: ${display(indexDir)}`);
  },
};

/** Each phrase's box at its region's row, as the figure indexes them. */
function regionBoxesOf(phrases: readonly PhraseRegion[]): Box[] {
  const boxes: Box[] = [];
  for (const p of phrases) boxes[p.region] = p.box;
  return boxes;
}

/** A path as the user would type it: relative below the working directory, else absolute. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}
