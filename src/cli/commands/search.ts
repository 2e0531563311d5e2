import { type ImageHit, type ImageSearch, Searcher, type SentenceHit } from "../../app/searcher.js";
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
import { renderHelp } from "../help.js";
import { readSentences } from "./index-images.js";

/** The most hits --k and --phrases may ask for. */
const MAX_HITS = 1000;

const USAGE = renderHelp({
  usage: [
    'search INDEX "SENTENCE" [--k N] [--json] [--bundle NAME|DIR]',
    "search INDEX --image IMG [--sentences FILE] [--k N] [--json] [--bundle NAME|DIR]",
    "search INDEX --similar IMG [--k N] [--json] [--bundle NAME|DIR]",
  ],
  description: `With a sentence: the indexed images it describes best, ranked by the alignment
    model's image-sentence score S_kl, the top ones with the chain MRF's phrase-to-region
    segments; with a calibrated bundle each hit's match (0% as unrelated images score, 100% as
    an image scores with its own description), a warning when nothing matches well, and the
    words the vocabulary lacks. With --image: the sentences that describe IMG best, of the
    index's sentences (imagesent index --sentences) or of FILE (one per line). With --similar:
    the indexed images most like IMG (an indexed key or an image file).`,
  args: [
    { flag: "INDEX", text: "index folder (imagesent index)" },
    { flag: '"SENTENCE"', text: "the sentence to find images for" },
  ],
  flags: [
    { flag: "--k N", text: `results to show, at most ${MAX_HITS}`, default: 10 },
    {
      flag: "--phrases N",
      text: `hits shown with their phrase-to-region segments, at most ${MAX_HITS}`,
      default: 3,
    },
    { flag: "--image IMG", text: "search sentences with this image instead" },
    { flag: "--similar IMG", text: "search the images most like this one instead" },
    { flag: "--sentences FILE", text: "with --image: rank these sentences instead of the index's" },
    { flag: "--json", text: "print the results as one JSON array" },
    {
      flag: "--bundle B",
      text: "bundle folder or cached bundle name, the one the index was built with",
      default: DEFAULT_BUNDLE_HELP,
    },
    {
      flag: "--threads N",
      text: `onnxruntime threads per model run, at most ${MAX_THREADS}`,
      default: 2,
    },
  ],
  examples: [
    'search runs/demo/index "a big red circle" --bundle runs/demo/bundle',
    "search runs/demo/index --image runs/demo/world/images/000900.jpg --bundle runs/demo/bundle --k 5",
    "search runs/demo/index --similar 000900.jpg --bundle runs/demo/bundle",
  ],
});

export const searchCommand: Command = {
  name: "search",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      ["k", "phrases", "image", "similar", "sentences", "bundle", "threads"],
      ["json"],
      USAGE,
    );
    const image = stringFlag(flags, "image");
    const similar = stringFlag(flags, "similar");
    const [index, ...rest] = flags.positionals;
    if (!index) throw new InputError(`give the INDEX folder\n\n${USAGE}`);
    if (image && similar) throw new InputError("give --image or --similar, not both");
    if (image || similar ? rest.length !== 0 : rest.length !== 1) {
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
      } else if (similar) {
        const hits = await searcher.similar(similar, k);
        console.log(flags.values.json ? JSON.stringify(hits) : formatImageHits(hits));
      } else {
        const found = await searcher.search(rest[0], k, { withPhrases });
        if (flags.values.json) {
          console.log(JSON.stringify({ query: rest[0], ...found }));
        } else {
          for (const note of searchNotes(found)) console.error(note);
          console.log(formatImageHits(found.hits));
        }
      }
    } finally {
      await searcher.close();
    }
    return 0;
  },
};

/** What a person should know about a sentence search besides its hits. */
export function searchNotes(found: ImageSearch): string[] {
  const notes: string[] = [];
  if (found.unknownWords.length > 0) {
    notes.push(`not in the vocabulary, left out: ${found.unknownWords.join(", ")}`);
  }
  if (found.goodMatch === false) {
    notes.push(
      "nothing matches well: the best image scores below what 90% of images score with their own descriptions",
    );
  }
  return notes;
}

function formatImageHits(hits: readonly ImageHit[]): string {
  if (hits.length === 0) return "(the index is empty)";
  return hits
    .flatMap((h, i) => [
      `${String(i + 1).padStart(3)}. ${h.score.toFixed(3).padStart(8)}${h.match === undefined ? "" : ` ${`${Math.round(100 * h.match)}%`.padStart(4)}`}  ${h.image}`,
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
