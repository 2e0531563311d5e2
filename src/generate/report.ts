import type { CaptionMetrics } from "../eval/score.js";
import type { Evaluation } from "./evaluate.js";
import type { LoadedGenerator } from "./load-generator.js";

/** The paper's Table 2 rows we compare against (BLEU-1..4, METEOR, CIDEr; ROUGE-L not reported). */
export const PAPER_ROWS = [
  {
    name: "paper: Flickr8K multimodal RNN (VGG, beam 7)",
    metrics: { bleu1: 57.9, bleu2: 38.3, bleu3: 24.5, bleu4: 16.0, meteor: 16.7, ciderD: 31.8 },
  },
  {
    name: "paper: COCO nearest neighbour (for scale; no Flickr8K figure)",
    metrics: { bleu1: 48.0, bleu2: 28.1, bleu3: 16.6, bleu4: 10.0, meteor: 15.7, ciderD: 38.3 },
  },
] as const;

const pct = (x: number) => (100 * x).toFixed(1);

/** Human-readable results: the metrics table beside the paper, speed, verbatim share, samples. */
export function formatEvaluationMarkdown(
  ev: Evaluation,
  gen: LoadedGenerator,
  context: { dataset: string; features: string; command: string; rerank?: string },
  ensemble: readonly LoadedGenerator[] = [],
): string {
  const m = gen.config.model;
  const t = gen.config.training;
  const row = (name: string, x: CaptionMetrics) =>
    `| ${name} | ${pct(x.bleu1)} | ${pct(x.bleu2)} | ${pct(x.bleu3)} | ${pct(x.bleu4)} | ${pct(x.meteor)} | ${pct(x.rougeL)} | ${pct(x.ciderD)} |`;
  const lines = [
    `# Captions: the ${m.cell === "lstm" ? "LSTM" : "multimodal RNN"} generator (${gen.config.mode})`,
    "",
    `Written by \`${context.command}\`.`,
    "",
    `Model: ${m.cell.toUpperCase()}, hidden ${m.hidden}, word vectors ${m.embed}, dropout ${m.dropout}, ` +
      `vocabulary ${gen.vocabulary.wordCount} words; ${m.featureDim}-d CNN codes from \`${context.features}\`, ` +
      `normalised with train statistics. Trained ${gen.step} iterations of ${t.batchSize} sentences ` +
      `(RMSprop lr ${t.lr}, warm-up ${t.warmup}, clip ${t.clip}); best val CIDEr-D ` +
      `${gen.best ? pct(gen.best.cider) : "?"} at epoch ${gen.best ? gen.best.epoch.toFixed(2) : "?"}.`,
    ...(ensemble.length > 0
      ? [
          "",
          `The ensemble rows decode with this model and ${ensemble
            .map(
              (g) =>
                `\`${g.path}\` (${g.config.model.cell.toUpperCase()}, seed ${g.config.training.seed}, ${g.step} iterations, best val CIDEr-D ${g.best ? pct(g.best.cider) : "?"})`,
            )
            .join(", ")} together, averaging their word probabilities at every step.`,
        ]
      : []),
    ...(context.rerank
      ? [
          "",
          `The reranked rows decode a wider beam and reorder its finished captions by ` +
            `logProb / length^alpha + weight x S(image, caption), with S the image-sentence score ` +
            `of the alignment model \`${context.rerank}\` on the image's regions; captions that ` +
            "repeat a word pair go last (src/generate/alignment-rerank.ts).",
        ]
      : []),
    "",
    `## ${ev.split} split: ${ev.targets} targets of \`${context.dataset}\``,
    "",
    "| model | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | METEOR | ROUGE-L | CIDEr-D |",
    "|---|---|---|---|---|---|---|---|",
    ...ev.rows.map((r) => row(`ours: ${r.name}`, r.metrics)),
    ...PAPER_ROWS.map(
      (p) =>
        `| ${p.name} | ${[p.metrics.bleu1, p.metrics.bleu2, p.metrics.bleu3, p.metrics.bleu4, p.metrics.meteor].map((x) => x.toFixed(1)).join(" | ")} | - | ${p.metrics.ciderD.toFixed(1)} |`,
    ),
    "",
    `Perplexity on the ${ev.split} sentences: ${ev.perplexity.toFixed(2)} (per word, END included).`,
    "METEOR is METEOR 1.5 without its paraphrase module; CIDEr-D is coco-caption's CIDEr.",
    "",
    "## Decoding",
    "",
    "| decoding | verbatim in train | cut at max length | latency per caption |",
    "|---|---|---|---|",
    ...ev.decoding.map(
      (d) =>
        `| ${d.name} | ${pct(d.verbatimShare)}% | ${pct(d.cappedShare)}% | ${d.latencyMs.toFixed(1)} ms |`,
    ),
    ...(ev.nearestNeighbourVerbatim === null
      ? []
      : [`| nearest neighbour | ${pct(ev.nearestNeighbourVerbatim)}% | - | - |`]),
    "",
    ...ev.skipped.flatMap((s) => [`Skipped: ${s.name} (${s.reason}).`, ""]),
    "The paper found 25% (beam 1) and 60% (beam 7) of its generated sentences verbatim in the training set.",
    "",
  ];
  const trained = [gen, ...ensemble].filter((g) => g.speed !== null);
  if (trained.length > 0) {
    lines.push("## Training speed", "");
    for (const g of trained) {
      const s = g.speed!;
      lines.push(
        `- \`${g.path}\`: ${(s.sentences / s.seconds).toFixed(0)} sentences/s and ` +
          `${(s.tokens / s.seconds).toFixed(0)} tokens/s while training (${s.sentences} sentences, ` +
          `${s.tokens} tokens); wall time ${(s.wallSeconds / 60).toFixed(1)} min including validation.`,
      );
    }
    lines.push("", "neuraltalk's numpy code managed 33-54 sentences/s on the same features.", "");
  }
  lines.push("## Samples", "");
  for (const s of ev.samples) {
    lines.push(`**${s.key}** (a reference: "${s.reference}")`, "");
    for (const [name, caption] of Object.entries(s.captions)) lines.push(`- ${name}: ${caption}`);
    lines.push("");
  }
  return `${lines.join("\n")}`;
}
