import { mkdirSync, rmSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { alignToSnippets } from "../../mrf/align-split.js";
import { alignmentPage } from "../../mrf/alignment-page.js";
import { chooseBeta, DEFAULT_BETAS, gridTable } from "../../mrf/beta-grid.js";
import { alignmentView } from "../../mrf/gallery.js";
import { rate } from "../../mrf/phrase-accuracy.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import { SnippetAppender } from "../../mrf/snippets.js";
import { worldBetaGrid } from "../../world/beta-grid.js";
import { worldToDataset } from "../../world/world-file.js";
import type { DemoStage } from "../commands/demo.js";
import { Progress } from "../progress.js";

/** Test images drawn on the demo's alignment page, each at beta 0 and at the default. */
const GALLERY_IMAGES = 6;

/**
 * The chain MRF on the world: phrase-to-box accuracy on the test split for a grid of beta, an
 * alignment page of test images, and the train split's region snippets for the region generator.
 */
export const mrfStage: DemoStage = {
  name: "mrf",
  summary: "align phrases to regions with the chain MRF, scored against the true boxes",
  async run(state, log) {
    const { world, features, alignment } = state;
    if (!world || !features || !alignment) {
      throw new Error("the mrf stage needs the world, features and align stages first");
    }
    const dir = join(state.options.out, "mrf");
    mkdirSync(dir, { recursive: true });
    const grid = (split: "val" | "test") => {
      const n = world.world.images.filter((im) => im.split === split).length;
      const progress = new Progress({ label: `aligning ${split}`, total: n, unit: "images" });
      const g = worldBetaGrid(alignment, world.world, features, split, DEFAULT_BETAS, () =>
        progress.tick(),
      );
      progress.finish();
      return g;
    };
    const val = grid("val");
    const test = grid("test");
    const best = chooseBeta(val.results);
    log("");
    log("phrase-to-box accuracy on the test split (IoU >= 0.5; docs/results/mrf.md explains):");
    for (const line of gridTable(test.results, best, { split: "val", results: val.results })) {
      log(line);
    }
    log(
      `best beta on val ${best} (bold); the default is ${DEFAULT_BETA}; a perfect alignment would place ${(100 * rate(test.bound)).toFixed(1)}% of the test phrases`,
    );

    const tests = world.world.images.filter((im) => im.split === "test");
    const views = tests.slice(0, GALLERY_IMAGES).flatMap((image) => {
      const sentence = image.sentences[0];
      const stored = features.get(image.filename)!;
      const path = join(world.imagesDir, image.filename);
      const truth = { objects: image.objects, refs: sentence.refs };
      return [0, DEFAULT_BETA].map((beta) => {
        const view = alignmentView(alignment, stored, path, sentence.tokens, beta, truth);
        return { ...view, title: `${image.filename} · β = ${beta}` };
      });
    });
    const page = join(dir, "alignments.html");
    writeFileAtomic(
      page,
      alignmentPage("The synthetic world's test images, aligned by the chain MRF", views, {
        columns: 2,
        intro: [
          `Each sentence twice: β = 0 (every word on its own best region, as in the paper's Figure 5) and the default β = ${DEFAULT_BETA}.`,
          "Each phrase is in its region's colour with its mean score v·s; dashed white boxes are the true objects.",
        ],
      }),
    );

    // A fresh file each run: the demo's model is retrained, so old snippets are stale.
    const snippets = join(dir, "snippets.jsonl");
    rmSync(snippets, { force: true });
    rmSync(SnippetAppender.markerPath(snippets), { force: true });
    const train = worldToDataset(world.world).images.filter((im) => im.split === "train");
    const bar = new Progress({
      label: "aligning train",
      total: train.reduce((n, im) => n + im.sentences.length, 0),
      unit: "sentences",
    });
    const written = alignToSnippets({
      scorer: alignment,
      images: train,
      store: features,
      out: snippets,
      beta: DEFAULT_BETA,
      settings: { model: "demo", features: features.dir, split: "train" },
      onSentence: () => bar.tick(),
    });
    bar.finish();
    state.snippets = snippets;
    log(`alignment page: ${display(page)}`);
    log(
      `region snippets: ${display(snippets)} (${written.snippets} from ${written.sentences} train sentences)`,
    );
  },
};

/** A path as the user would type it: relative below the working directory, else absolute. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}
