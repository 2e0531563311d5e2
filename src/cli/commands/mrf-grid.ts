import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AlignmentModel } from "../../align/model.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { InputError } from "../../errors.js";
import { chooseBeta, DEFAULT_BETAS, gridTable } from "../../mrf/beta-grid.js";
import { rate } from "../../mrf/phrase-accuracy.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import { FeatureStore } from "../../vision/feature-store.js";
import { type SplitGrid, worldBetaGrid } from "../../world/beta-grid.js";
import { readWorldFile } from "../../world/world-file.js";
import type { Command } from "../command.js";
import { numberListFlag } from "../flags.js";
import { renderHelp } from "../help.js";
import { parseFlags, parseSplit, required } from "../mrf-flags.js";
import { Progress } from "../progress.js";

const USAGE = renderHelp({
  usage: ["mrf-grid --model CKPT --world WORLD --features STORE [options]"],
  description: `Measures phrase-to-box accuracy of the chain MRF on a synthetic world, whose true
    object boxes and word-to-object links are known, for a grid of beta: beta is chosen by phrase
    accuracy on one split (val) and reported on another (test). A phrase ("big red circle") is
    right when all its words fall in one segment whose region box has IoU >= 0.5 with the object's
    box; segment and word accuracy are shown beside it.`,
  flags: [
    { flag: "--model CKPT", text: "alignment model trained on the world" },
    { flag: "--world WORLD", text: "the world's folder or its world.json" },
    {
      flag: "--features STORE",
      text: "feature store of the world's images (regions as in world.json)",
    },
    { flag: "--select S", text: "split beta is chosen on", default: "val" },
    { flag: "--split S", text: "split reported", default: "test" },
    {
      flag: "--betas LIST",
      text: "comma-separated betas, each >= 0",
      default: DEFAULT_BETAS.join(","),
    },
    {
      flag: "--markdown FILE",
      text: "also write the table and the choice as Markdown (e.g. docs/results/mrf.md)",
    },
  ],
  examples: [
    "mrf-grid --model runs/demo/align/best.ckpt --world runs/demo/world --features runs/demo/features",
  ],
});

export const mrfGridCommand: Command = {
  name: "mrf-grid",
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags(
      args,
      ["model", "world", "features", "select", "split", "betas", "markdown"],
      USAGE,
    );
    required(values, ["model", "world", "features"], USAGE);
    if (positionals.length > 0) {
      throw new InputError(`unexpected argument ${positionals[0]}\n\n${USAGE}`);
    }
    const select = parseSplit(values.select ?? "val");
    const split = parseSplit(values.split ?? "test");
    const betas = numberListFlag(values.betas, "--betas", { min: 0 }) ?? DEFAULT_BETAS;
    const world = readWorldFile(
      values.world!.endsWith(".json") ? values.world! : join(values.world!, "world.json"),
    );
    const store = FeatureStore.open(values.features!);
    const { model } = AlignmentModel.load(values.model!);
    const grid = (s: typeof split) => {
      const n = world.images.filter((im) => im.split === s).length;
      const progress = new Progress({ label: `aligning ${s}`, total: n, unit: "images" });
      const g = worldBetaGrid(model, world, store, s, betas, () => progress.tick());
      progress.finish();
      return g;
    };
    const selection = grid(select);
    const report = select === split ? selection : grid(split);
    const chosen = chooseBeta(selection.results);
    const table = gridTable(report.results, chosen, { split: select, results: selection.results });
    console.log(table.join("\n"));
    console.log(
      `best beta on ${select}: ${chosen}; a perfect alignment would place ${(100 * rate(report.bound)).toFixed(1)}% of the ${split} phrases`,
    );
    if (chosen !== DEFAULT_BETA) console.log(`note: the built-in default beta is ${DEFAULT_BETA}`);
    if (values.markdown) {
      const text = gridMarkdown(selection, report, chosen, {
        command: `imagesent mrf-grid ${args.join(" ")}`,
        model: basename(values.model!),
        features: basename(values.features!),
      });
      mkdirSync(dirname(values.markdown), { recursive: true });
      writeFileAtomic(values.markdown, text);
      console.log(`wrote ${values.markdown}`);
    }
    return 0;
  },
};

function gridMarkdown(
  selection: SplitGrid,
  report: SplitGrid,
  chosen: number,
  run: { command: string; model: string; features: string },
): string {
  const first = report.results[0];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const byBeta = (beta: number) => report.results.find((r) => r.beta === beta)!;
  const zero = report.results.find((r) => r.beta === 0);
  const gain = zero
    ? ` (β = 0, each word on its own best region as in the paper's Figure 5: ${pct(rate(zero.counts.phrases))})`
    : "";
  return [
    "# Phrase-to-region alignment: the chain MRF (section 3.1.4)",
    "",
    `On the synthetic world, whose true object boxes and word-to-object links are known, with the`,
    `alignment model \`${run.model}\` on the features \`${run.features}\`. Each sentence's words are`,
    "aligned to the image's 20 regions by the chain MRF, maximising",
    "Σ_j v_{a_j}·s_j + β Σ_j 1[a_j = a_{j+1}] exactly by dynamic programming; β = 0 is each word's",
    "best region alone, a large β one region for the whole sentence. A box is right when its IoU",
    "with the named object's true box is at least 0.5.",
    "",
    '- **phrases**: the true phrases ("big red circle") whose words all fall in one segment on a',
    "  right box. Fragmenting a phrase and merging it with a neighbour's both fail it.",
    "- **segments**: predicted segments with words that name an object whose box is right for the",
    "  object most of those words name.",
    "- **words**: words that name an object, on a right box.",
    "",
    `β is chosen by phrase accuracy on the ${selection.split} split (${selection.images} images), the`,
    `other columns are the ${report.split} split (${report.images} images, ${first.sentences} sentences,`,
    `${first.counts.phrases.total} phrases that name an object):`,
    "",
    ...gridTable(report.results, chosen, { split: selection.split, results: selection.results }),
    "",
    `**Default β = ${chosen}**: ${report.split} phrase accuracy ${pct(rate(byBeta(chosen).counts.phrases))}${gain}.`,
    `A perfect alignment would place ${pct(rate(report.bound))} of the ${report.split} phrases (those whose object`,
    "has a region box with IoU >= 0.5 among the 20). β is in the units of the scores v·s, which the",
    "ranking loss's margin of 1 sets for any trained model. The default is `DEFAULT_BETA` in",
    "`src/mrf/phrase-alignment.ts`, used by `imagesent align` and `imagesent show-alignment`.",
    "",
    "Made by",
    "",
    `    ${run.command}`,
    "",
  ].join("\n");
}
