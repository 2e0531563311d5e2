import type { RetrievalMetrics, RetrievalResult } from "./retrieval.js";

/** One row of the retrieval table: a model's test numbers and how it was trained. */
export interface ReportRow {
  readonly label: string;
  readonly result: RetrievalResult;
  /** A line said under the training table (e.g. a fusion's total training time). */
  readonly note?: string;
  /** From the run's summary.json, when it is beside the checkpoint. */
  readonly training?: {
    readonly wallSeconds: number;
    readonly trainSeconds: number;
    readonly sentencesPerSecond: number;
    readonly epochs: number;
    readonly bestEpoch: number | null;
    readonly settings: string;
  };
}

/** The paper's Flickr8K row of Table 1 (supplementary material; reference-numbers.md). */
export const PAPER_FLICKR8K: Pick<RetrievalResult, "annotation" | "search"> = {
  annotation: { r1: 16.5, r5: 40.6, r10: 54.2, medianRank: 7.6 },
  search: { r1: 11.8, r5: 32.1, r10: 44.7, medianRank: 12.4 },
};

const metrics = (m: RetrievalMetrics) =>
  [m.r1.toFixed(1), m.r5.toFixed(1), m.r10.toFixed(1), formatRank(m.medianRank)].join(" | ");

function formatRank(r: number): string {
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m} min ${Math.round(seconds - 60 * m)} s` : `${Math.round(seconds)} s`;
}

/**
 * The retrieval results as Markdown: Table 1's layout with the paper's Flickr8K row above ours,
 * then how each of our models was trained.
 */
export function retrievalMarkdown(
  rows: readonly ReportRow[],
  split: string,
  datasetName: string,
): string {
  const first = rows[0]?.result;
  const lines = [
    `# Image-sentence retrieval (${datasetName}, ${split} split)`,
    "",
    `Table 1's protocol (../shared/docs/reference-numbers.md): ${first?.images ?? "?"} images and ` +
      `${first?.sentences ?? "?"} sentences. Image annotation ranks every sentence for each image ` +
      "and counts the best-ranked true one; image search ranks every image for each sentence. " +
      "R@K in percent (higher is better), median rank 1-based (lower is better). Written by " +
      "`imagesent eval-retrieval --markdown`.",
    "",
    "| model | annotation R@1 | R@5 | R@10 | med r | search R@1 | R@5 | R@10 | med r |",
    "|---|---|---|---|---|---|---|---|---|",
    `| paper (VGG fc7, R-CNN regions), Flickr8K | ${metrics(PAPER_FLICKR8K.annotation)} | ${metrics(PAPER_FLICKR8K.search)} |`,
    ...rows.map(
      (r) => `| ${r.label} | ${metrics(r.result.annotation)} | ${metrics(r.result.search)} |`,
    ),
  ];
  const trained = rows.filter((r) => r.training !== undefined);
  if (trained.length > 0) {
    lines.push(
      "",
      "## Training",
      "",
      "| model | epochs (best) | wall time | of which updates | sentences/s | settings |",
      "|---|---|---|---|---|---|",
      ...trained.map((r) => {
        const t = r.training!;
        return `| ${r.label} | ${t.epochs} (${t.bestEpoch ?? "-"}) | ${duration(t.wallSeconds)} | ${duration(t.trainSeconds)} | ${t.sentencesPerSecond.toFixed(0)} | ${t.settings} |`;
      }),
    );
  }
  const notes = rows.filter((r) => r.note !== undefined);
  if (notes.length > 0) {
    lines.push("", ...notes.map((r) => `${r.label}: ${r.note}.`));
  }
  return `${lines.join("\n")}\n`;
}
