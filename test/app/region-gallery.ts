import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import sharp from "sharp";
import { Describer, type ImageDescription } from "../../src/app/describer.js";
import { descriptionPage } from "../../src/app/description-page.js";
import { imageFilesIn } from "../../src/cli/app-flags.js";
import { writeFileAtomic } from "../../src/core/atomic-file.js";
import { imageDataUri } from "../../src/mrf/alignment-page.js";
import { ModelRegistry } from "../../src/vision/model-registry.js";
import { findChromium, launchChromium } from "../server/browser-harness.js";

/**
 * A gallery of real photos with their region phrases, for docs/gallery/regions/:
 *
 *   npm run gallery -- --images ../shared/data/flickr8k/originals --out docs/gallery/regions \
 *     [--bundle flickr8k] [--count 8] [--models ../shared/models]
 *
 * It describes `count` images of the folder, spread evenly over its files in name order (not
 * picked by hand), with the bundle as `imagesent describe --html` does, shoots each figure of
 * that page (the photo with its boxes and labels, and the caption) in headless Chromium, and writes OUT/<image>.png (palette PNG, small) and OUT/README.md (each
 * image with its regions' phrases, confidences and whether they are shown, and this command).
 * `--models DIR` takes the CNN and detector from DIR (mobilenetv2-12-int8.onnx, yolox_nano.onnx)
 * instead of the model cache.
 */

const USAGE =
  "usage: npm run gallery -- --images DIR --out DIR [--bundle B] [--count N] [--models DIR]";

interface Args {
  readonly images: string;
  readonly out: string;
  readonly bundle: string;
  readonly count: number;
  readonly models?: string;
}

function parseArgs(argv: string[]): Args | string {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (!["--images", "--out", "--bundle", "--count", "--models"].includes(flag)) {
      return `unknown argument ${flag}`;
    }
    if (argv[i + 1] === undefined) return `${flag} needs a value`;
    values[flag.slice(2)] = argv[i + 1];
  }
  if (!values.images || !values.out) return "--images and --out are required";
  const count = Number(values.count ?? 8);
  if (!Number.isInteger(count) || count < 1 || count > 50) return "--count: 1 to 50";
  return {
    images: resolve(values.images),
    out: resolve(values.out),
    bundle: values.bundle ?? "flickr8k",
    count,
    ...(values.models ? { models: resolve(values.models) } : {}),
  };
}

/** `count` of `files`, spread evenly (the first, then every len/count-th). */
function spread(files: readonly string[], count: number): string[] {
  const n = Math.min(count, files.length);
  return Array.from({ length: n }, (_, k) => files[Math.floor((k * files.length) / n)]);
}

/** The README section of one image: its picture, caption and every region's phrase. */
function section(file: string, png: string, d: ImageDescription): string {
  const rows = d.regions.map((r, i) => {
    const what = r.source === "detection" ? `${r.label} ${(r.score ?? 0).toFixed(2)}` : r.source;
    const p = r.phrase;
    const shown = !p
      ? "—"
      : p.shown
        ? "shown"
        : p.hidden === "contradicts-label"
          ? "hidden: names another class than the detector's"
          : "hidden: below the threshold";
    return `| ${i + 1} | ${what} | ${p?.text ?? ""} | ${p ? p.confidence.toFixed(2) : ""} | ${shown} |`;
  });
  const shown = d.regions.filter((r) => r.caption).length;
  return [
    `### ${file}`,
    "",
    `![${file}: region boxes and phrases](${png})`,
    "",
    `Caption: *${d.caption}*. ${shown} of ${d.regions.length} regions shown with a phrase.`,
    "",
    "| # | region | phrase | confidence | |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    console.error(`${args}\n${USAGE}`);
    return 2;
  }
  const executable = findChromium();
  if (!executable) {
    console.error("no Chromium found: install the 'chromium' package or set IMAGESENT_CHROMIUM");
    return 1;
  }
  const files = spread(imageFilesIn(args.images), args.count);
  if (files.length === 0) {
    console.error(`${args.images}: no image files`);
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), "imagesent-gallery-"));
  let registry: ModelRegistry | undefined;
  if (args.models) {
    registry = new ModelRegistry(join(work, "models"));
    registry.add("mobilenetv2-12-int8", join(args.models, "mobilenetv2-12-int8.onnx"));
    registry.add("yolox_nano", join(args.models, "yolox_nano.onnx"));
  }
  const describer = await Describer.load(args.bundle, registry ? { registry } : {});
  const browser = await launchChromium(executable);
  try {
    mkdirSync(args.out, { recursive: true });
    const sections: string[] = [];
    for (const file of files) {
      const description = await describer.describe(file);
      const name = basename(file);
      const html = join(work, `${name}.html`);
      writeFileAtomic(
        html,
        descriptionPage(name, [{ title: name, imageHref: imageDataUri(file), description }]),
      );
      const page = await browser.newPage({ viewport: { width: 480, height: 800 } });
      // The photo is a data URI in an SVG <image>: loaded by the load event goto waits for.
      await page.goto(`file://${html}`);
      // The README's table is the legend: the picture is the photo, its labels and the caption.
      await page.addStyleTag({ content: ".regions { display: none; }" });
      const shot = await page.locator("figure").first().screenshot();
      await page.close();
      const png = `${name.replace(/\.\w+$/, "")}.png`;
      writeFileAtomic(
        join(args.out, png),
        await sharp(shot).png({ palette: true, quality: 90, effort: 10 }).toBuffer(),
      );
      sections.push(section(name, png, description));
      console.log(`wrote ${join(args.out, png)}: ${description.caption}`);
    }
    const command = `npm run gallery -- ${argv.join(" ")}`;
    writeFileAtomic(
      join(args.out, "README.md"),
      [
        "# Region phrases on real photos",
        "",
        `${files.length} photos of \`${basename(args.images)}\`, spread evenly over its files in name order, described with the bundle \`${args.bundle}\` as \`imagesent describe --html\` describes them: each region's box, and for the regions whose phrase is shown (confident enough, and not naming another class than a confident detection: docs/generator.md, "Region phrases in describe") a label with its number and phrase, placed so that no two labels overlap; a label with no room is the number alone, or is left to the list. The tables give every region's phrase, its confidence (log-probability per word) and whether it is shown.`,
        "",
        `Made by \`${command}\` (test/app/region-gallery.ts), in headless Chromium.`,
        "",
        ...sections,
      ].join("\n"),
    );
    console.log(`wrote ${join(args.out, "README.md")}`);
  } finally {
    await browser.close();
    await describer.close();
    rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
