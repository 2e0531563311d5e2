import type { CaptionMetrics } from "../eval/score.js";
import type { RegionEvaluation } from "./region-evaluation.js";

/**
 * The paper's Table 3 (its own 200 COCO images with region annotations, 9,000 snippets of 2.3
 * words on average): BLEU-1..4 as widely quoted, METEOR, ROUGE and CIDEr from its text (only for
 * the two generators). /work/shared/docs/reference-numbers.md gives the marks.
 */
export const PAPER_REGION_ROWS: readonly {
  readonly name: string;
  readonly metrics: Partial<CaptionMetrics>;
}[] = [
  {
    name: "paper: region RNN",
    metrics: {
      bleu1: 35.2,
      bleu2: 23.0,
      bleu3: 16.1,
      bleu4: 14.8,
      meteor: 15.8,
      rougeL: 35.1,
      ciderD: 61.6,
    },
  },
  {
    name: "paper: full-frame RNN on the regions",
    metrics: {
      bleu1: 14.2,
      bleu2: 6.0,
      bleu3: 2.2,
      bleu4: 0.0,
      meteor: 13.3,
      rougeL: 21.0,
      ciderD: 20.3,
    },
  },
  {
    name: "paper: nearest neighbour",
    metrics: { bleu1: 22.9, bleu2: 10.5, bleu3: 0.0, bleu4: 0.0 },
  },
  {
    name: "paper: human agreement",
    metrics: { bleu1: 61.5, bleu2: 45.2, bleu3: 30.1, bleu4: 22.0 },
  },
];

const METRICS: readonly (keyof CaptionMetrics)[] = [
  "bleu1",
  "bleu2",
  "bleu3",
  "bleu4",
  "meteor",
  "rougeL",
  "ciderD",
];

/** The Table 3 rows: ours (scores 0..1, shown x100) and the paper's beside them. */
export function regionTable(ev: RegionEvaluation): string[] {
  const pct = (x: number) => (100 * x).toFixed(1);
  return [
    "| model | regions | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | METEOR | ROUGE-L | CIDEr-D |",
    "|---|---|---|---|---|---|---|---|---|",
    ...ev.rows.map(
      (r) =>
        `| ours: ${r.name} | ${r.regions} | ${METRICS.map((m) => pct(r.metrics[m])).join(" | ")} |`,
    ),
    ...PAPER_REGION_ROWS.map(
      (p) =>
        `| ${p.name} | 9,000 snippets | ${METRICS.map((m) => p.metrics[m]?.toFixed(1) ?? "-").join(" | ")} |`,
    ),
  ];
}

/** The whole Markdown report: what was measured, the table, samples and the command. */
export function formatRegionMarkdown(
  ev: RegionEvaluation,
  context: {
    readonly split: string;
    readonly images: number;
    readonly bundle: string;
    readonly encoder: string;
    readonly command: string;
  },
): string {
  const nearest =
    ev.poolRegions > 0
      ? `The nearest neighbour gives each region the consensus phrase (highest CIDEr-D against the ` +
        `entity's other phrases) of the train entity region whose CNN code is the most similar ` +
        `(cosine of the codes standardised with the region generator's train statistics), the ` +
        `${ev.poolRegions.toLocaleString("en-US")} train regions cropped the same way.`
      : "There were no train regions, so there is no nearest-neighbour row.";
  const described = ev.rows.filter((r) => r.kind !== "human");
  return [
    `# Region descriptions on Flickr30k Entities (${context.split} split): the paper's Table 3`,
    "",
    `${ev.regions} annotated entity regions of ${context.images} ${context.split} images: one per ` +
      "entity chain with a box, the union of its boxes, cropped from the image file and encoded " +
      `as describe's region features are (${context.encoder}, bundle \`${context.bundle}\`). ` +
      "Each region's references are every phrase of its chain in the image's sentences; " +
      "coco-caption-compatible metrics (METEOR 1.5 without paraphrases; CIDEr-D).",
    "",
    nearest,
    "The human row scores an entity's first phrase against its other phrases.",
    "",
    ...regionTable(ev),
    "",
    "The paper's rows are on its 200 COCO images with its own region annotations, not these.",
    "",
    "## Samples",
    "",
    `| region | references | ${described.map((r) => r.kind).join(" | ")} |`,
    `|---|---|${described.map(() => "---|").join("")}`,
    ...ev.samples.map(
      (s) =>
        `| ${s.filename} #${s.chain} | ${s.references.join("; ")} | ${described
          .map((r) => s.phrases[r.kind] || "(empty)")
          .join(" | ")} |`,
    ),
    "",
    "Made by",
    "",
    `    ${context.command}`,
    "",
  ].join("\n");
}
