import { InputError } from "../../errors.js";
import { MAX_CAPTION_WORDS, readCocoReferences, readCocoResults } from "../../eval/coco-format.js";
import { MODULES } from "../../eval/meteor/aligner.js";
import { METEOR_NAME } from "../../eval/meteor/meteor.js";
import { type CaptionMetrics, scoreCaptions } from "../../eval/score.js";
import type { Command } from "../command.js";
import { parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

const USAGE = renderHelp({
  usage: ["score --refs REFS --cands CANDS [--json]"],
  description: `Scores candidate captions against reference captions with coco-caption's metrics:
    BLEU-1..4, METEOR, ROUGE-L and CIDEr-D, after coco-caption's PTB tokenization. Only images
    with a candidate are scored; each needs at least one reference. A candidate or reference
    caption of more than ${MAX_CAPTION_WORDS} words is refused (METEOR's cost grows steeply with
    length).`,
  flags: [
    {
      flag: "--refs REFS",
      text: 'COCO captions annotation file: {"annotations": [{"image_id", "caption"}, ...]}',
    },
    {
      flag: "--cands CANDS",
      text: 'COCO results file: [{"image_id", "caption"}, ...], one caption per image',
    },
    { flag: "--json", text: "print the corpus scores and per-image scores as JSON" },
  ],
  notes: [
    `METEOR is METEOR 1.5 with its exact, stem and WordNet-synonym modules; its paraphrase table is
      not available, so the paraphrase module is left out.`,
  ],
  examples: [
    "score --refs refs.json --cands results.json",
    "score --refs refs.json --cands results.json --json",
  ],
});

/** coco-caption's names for the metrics, in its order; CIDEr-D is what it calls "CIDEr". */
const COCO_NAMES: readonly (readonly [keyof CaptionMetrics, string])[] = [
  ["bleu1", "Bleu_1"],
  ["bleu2", "Bleu_2"],
  ["bleu3", "Bleu_3"],
  ["bleu4", "Bleu_4"],
  ["meteor", "METEOR"],
  ["rougeL", "ROUGE_L"],
  ["ciderD", "CIDEr"],
];

export const scoreCommand: Command = {
  name: "score",
  usage: USAGE,
  run(args) {
    const values = parseCommandArgs(
      args,
      { refs: { type: "string" }, cands: { type: "string" }, json: { type: "boolean" } },
      USAGE,
      { positionals: false },
    ).values as { refs?: string; cands?: string; json?: boolean };
    if (!values.refs || !values.cands)
      throw new InputError(`--refs and --cands are required\n\n${USAGE}`);

    const scores = scoreCaptions(readCocoReferences(values.refs), readCocoResults(values.cands));
    const named = (m: CaptionMetrics) =>
      Object.fromEntries(COCO_NAMES.map(([key, name]) => [name, m[key]]));
    if (values.json) {
      const report = {
        images: scores.perImage.length,
        metrics: named(scores.corpus),
        meteorModules: [...MODULES],
        perImage: scores.perImage.map((img) => ({ image_id: img.imageId, ...named(img) })),
      };
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    const labels: Record<string, string> = { METEOR: METEOR_NAME, CIDEr: "CIDEr-D" };
    const lines = COCO_NAMES.map(([key, name]) => {
      const label = labels[name] ?? name;
      return `${label.padEnd(28)} ${scores.corpus[key].toFixed(4)}`;
    });
    console.log([`images scored: ${scores.perImage.length}`, ...lines].join("\n"));
    return 0;
  },
};
