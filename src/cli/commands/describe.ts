import { existsSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Describer, type ImageDescription } from "../../app/describer.js";
import { descriptionPage, type PageImage } from "../../app/description-page.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { InputError } from "../../errors.js";
import { imageDataUri } from "../../mrf/alignment-page.js";
import {
  boundedIntFlag,
  CAPTION_FLAG_HELP,
  CAPTION_FLAGS,
  captionOptions,
  DEFAULT_BUNDLE,
  DEFAULT_BUNDLE_HELP,
  imageFilesIn,
  MAX_THREADS,
  parseAppFlags,
  stringFlag,
} from "../app-flags.js";
import type { Command } from "../command.js";
import { renderHelp } from "../help.js";

/** onnxruntime threads per model run when --threads is not given. */
const DEFAULT_THREADS = 2;

const USAGE = renderHelp({
  usage: ["describe IMAGE|DIR... [--bundle NAME|DIR] [--json] [--html OUT]"],
  description: `Describes each image (JPEG, PNG, WebP, ... of any size; a folder: the image files
    in it) with a model bundle (docs/bundle.md): a caption of the whole image, and each region's
    box, detector label and score and, when the bundle has a region generator, a short phrase for
    it. An image that cannot be described is reported (a line on stderr, an entry with its error
    in the JSON and the page) and the others are still described; the exit code is then 1.`,
  args: [{ flag: "IMAGE|DIR...", text: "image files, or folders of them" }],
  flags: [
    {
      flag: "--bundle B",
      text: "bundle folder or cached bundle name (add one with 'imagesent models bundle add NAME DIR')",
      default: DEFAULT_BUNDLE_HELP,
    },
    {
      flag: "--json",
      text: "print one JSON array of the descriptions ({image, error} for a failure)",
    },
    {
      flag: "--html OUT",
      text: "also write an HTML page with the boxes drawn (images embedded); its folder must exist",
    },
    ...CAPTION_FLAG_HELP,
    {
      flag: "--threads N",
      text: `onnxruntime threads per model run, at most ${MAX_THREADS}`,
      default: DEFAULT_THREADS,
    },
  ],
  examples: [
    "describe photo.jpg",
    "describe photos/ --json",
    "describe runs/demo/world/images/000900.jpg --bundle runs/demo/bundle --html runs/demo/one.html",
  ],
});

export const describeCommand: Command = {
  name: "describe",
  usage: USAGE,
  async run(args) {
    const flags = parseAppFlags(
      args,
      ["bundle", "html", "threads", ...CAPTION_FLAGS],
      ["json"],
      USAGE,
    );
    if (flags.positionals.length === 0) {
      throw new InputError(`give at least one IMAGE or DIR\n\n${USAGE}`);
    }
    const images = flags.positionals.flatMap(imagesOf);
    const html = stringFlag(flags, "html");
    if (html !== undefined) checkHtmlOut(html);
    const describer = await Describer.load(stringFlag(flags, "bundle") ?? DEFAULT_BUNDLE, {
      ...captionOptions(flags),
      threads: boundedIntFlag(flags, "threads", DEFAULT_THREADS, MAX_THREADS),
    });
    const results: Described[] = [];
    try {
      for (const image of images) {
        try {
          const description = await describer.describe(image);
          results.push({ image, description });
          if (!flags.values.json) console.log(formatDescription(image, description));
        } catch (err) {
          // Bad input is this image's failure; anything else is a fault that stops the run.
          if (!(err instanceof InputError)) throw err;
          const error = err.message.split("\n")[0];
          results.push({ image, error });
          console.error(`failed: ${error}`);
        }
      }
    } finally {
      await describer.close();
    }
    if (flags.values.json) {
      console.log(
        JSON.stringify(
          results.map((r) =>
            "error" in r
              ? { image: r.image, error: r.error }
              : { image: r.image, ...r.description },
          ),
        ),
      );
    }
    if (html !== undefined) {
      const items: PageImage[] = results.map((r) =>
        "error" in r
          ? { title: basename(r.image), error: r.error }
          : {
              title: basename(r.image),
              imageHref: imageDataUri(r.image),
              description: r.description,
            },
      );
      writeFileAtomic(html, descriptionPage("imagesent describe", items));
      console.error(`wrote ${html}`);
    }
    const failed = results.filter((r) => "error" in r).length;
    if (failed > 0) console.error(`described ${results.length - failed}, ${failed} failed`);
    return failed > 0 ? 1 : 0;
  },
};

/** One image's outcome: its description, or why it could not be described. */
type Described =
  | { readonly image: string; readonly description: ImageDescription }
  | { readonly image: string; readonly error: string };

/** An IMAGE argument as images: a folder gives the image files in it, anything else itself. */
function imagesOf(arg: string): string[] {
  if (!(existsSync(arg) && statSync(arg).isDirectory())) return [arg];
  const images = imageFilesIn(arg);
  if (images.length === 0) {
    throw new InputError(`${arg}: a folder with no image files (.jpg, .png, .webp, ...)`);
  }
  return images;
}

/** Refuses an --html path that cannot be written, before any image is described. */
function checkHtmlOut(html: string): void {
  const folder = dirname(html);
  if (html === "" || !existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new InputError(`--html ${html}: folder ${folder} does not exist`);
  }
  if (existsSync(html) && statSync(html).isDirectory()) {
    throw new InputError(`--html ${html}: is a folder, not a file`);
  }
}

/**
 * The text form: the caption, the regions its shown phrases were grounded to ("a dog -> 2", the
 * region's number below; "whole" for the whole image), then one line per region.
 */
export function formatDescription(image: string, d: ImageDescription): string {
  const lines = [`${image} (${d.width}x${d.height}): ${d.caption}`];
  const grounded = d.phrases.filter((p) => p.shown);
  if (grounded.length > 0) {
    const on = (p: ImageDescription["phrases"][number]) =>
      `${p.text} -> ${p.region < 0 ? "whole" : p.region + 1}`;
    lines.push(`  phrases: ${grounded.map(on).join("; ")}`);
  }
  d.regions.forEach((r, i) => {
    const box = [r.box.x1, r.box.y1, r.box.x2, r.box.y2].map((x) => Math.round(x)).join(", ");
    const what =
      r.source === "detection"
        ? `${r.label ?? "detection"} ${(r.score ?? 0).toFixed(2)}`
        : r.source;
    lines.push(
      `  ${String(i + 1).padStart(2)}. [${box}] ${what}${r.caption ? `: ${r.caption}` : ""}`,
    );
  });
  lines.push(`  (${d.millis.total.toFixed(0)} ms)`);
  return lines.join("\n");
}
