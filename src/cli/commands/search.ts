import { type ImageHit, Searcher, type SentenceHit } from "../../app/searcher.js";
import { InputError } from "../../errors.js";
import {
  boundedIntFlag,
  DEFAULT_BUNDLE,
  DEFAULT_BUNDLE_HELP,
  MAX_THREADS,
  parseAppFlags,
  stringFlag,
} from "../app-flags.js";
import type { Command } from "../command.js";
import { readSentences } from "./index-images.js";

/** The most hits --k and --phrases may ask for. */
const MAX_HITS = 1000;

const USAGE = `usage: imagesent search INDEX "SENTENCE" [--k N] [--json] [--bundle NAME|DIR]
       imagesent search INDEX --image IMG [--sentences FILE] [--k N] [--json] [--bundle NAME|DIR]

With a sentence: the indexed images it describes best, ranked by the alignment model's image-
sentence score S_kl, the top ones with the chain MRF's phrase-to-region segments. With --image:
the sentences that describe IMG best, of the index's sentences (imagesent index --sentences) or
of FILE (one per line).

  --k N              results to show, at most ${MAX_HITS} (default 10)
  --phrases N        hits shown with their phrase-to-region segments, at most ${MAX_HITS} (default 3)
  --image IMG        search sentences with this image instead
  --sentences FILE   with --image: rank these sentences instead of the index's
  --json             print the results as one JSON array
  --bundle B         bundle folder or cached bundle name, the one the index was built with
                     (default: ${DEFAULT_BUNDLE_HELP})
  --threads N        onnxruntime threads per model run, at most ${MAX_THREADS} (default 2)`;

export const searchCommand: Command = {
  name: "search",
  summary: "find indexed images for a sentence, or sentences for an image",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      ["k", "phrases", "image", "sentences", "bundle", "threads"],
      ["json"],
      USAGE,
    );
    const image = stringFlag(flags, "image");
    const [index, ...rest] = flags.positionals;
    if (!index) throw new InputError(`give the INDEX folder\n\n${USAGE}`);
    if (image ? rest.length !== 0 : rest.length !== 1) {
      throw new InputError(
        `give either one quoted SENTENCE or --image IMG after INDEX (got ${rest.length} more arguments)\n\n${USAGE}`,
      );
    }
    if (!image && stringFlag(flags, "sentences")) {
      throw new InputError("--sentences goes with --image");
    }
    const k = boundedIntFlag(flags, "k", 10, MAX_HITS);
    const withPhrases = boundedIntFlag(flags, "phrases", 3, MAX_HITS);
    const searcher = Searcher.open(stringFlag(flags, "bundle") ?? DEFAULT_BUNDLE, index, {
      threads: boundedIntFlag(flags, "threads", 2, MAX_THREADS),
    });
    try {
      if (image) {
        const file = stringFlag(flags, "sentences");
        const sentences = file ? readSentences(file) : undefined;
        const hits = await searcher.searchByImage(image, k, { sentences });
        console.log(flags.values.json ? JSON.stringify(hits) : formatSentenceHits(hits));
      } else {
        const hits = searcher.search(rest[0], k, { withPhrases });
        console.log(flags.values.json ? JSON.stringify(hits) : formatImageHits(hits));
      }
    } finally {
      await searcher.close();
    }
    return 0;
  },
};

function formatImageHits(hits: readonly ImageHit[]): string {
  if (hits.length === 0) return "(the index is empty)";
  return hits
    .flatMap((h, i) => [
      `${String(i + 1).padStart(3)}. ${h.score.toFixed(3).padStart(8)}  ${h.image}`,
      ...(h.phrases ?? []).map((p) => {
        const box = [p.box.x1, p.box.y1, p.box.x2, p.box.y2].map((x) => Math.round(x));
        return `               "${p.phrase}" -> region ${p.region} [${box.join(", ")}] (${p.score.toFixed(2)})`;
      }),
    ])
    .join("\n");
}

function formatSentenceHits(hits: readonly SentenceHit[]): string {
  return hits
    .map((h, i) => `${String(i + 1).padStart(3)}. ${h.score.toFixed(3).padStart(8)}  ${h.sentence}`)
    .join("\n");
}
