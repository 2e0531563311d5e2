import { mkdirSync } from "node:fs";
import { basename, extname, join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { InputError } from "../../errors.js";
import { decodeImage } from "../../vision/decode.js";
import { Detector } from "../../vision/detector.js";
import { imageRegions } from "../../vision/extract.js";
import { DEFAULT_DETECTOR, loadModelConfig } from "../../vision/model-config.js";
import { ModelRegistry } from "../../vision/model-registry.js";
import { regionsSvg } from "../../vision/region-svg.js";
import type { Command } from "../command.js";
import { boundedInt, numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

/** The largest picture side show-regions draws. */
const MAX_SIDE = 8192;

const USAGE = renderHelp({
  usage: ["show-regions IMAGE... --out DIR [options]"],
  description: `Draws the regions 'imagesent features' would encode for each image (detections
    with label and score, fallback boxes dashed) as DIR/NAME.svg, and an index DIR/README.md
    showing them all.`,
  args: [{ flag: "IMAGE...", text: "image files" }],
  flags: [
    { flag: "--out DIR", text: "output folder" },
    { flag: "--regions N", text: "regions per image, 1 to 20", default: 20 },
    {
      flag: "--detector D",
      text: "detector preset (yolox-nano-proposals, yolox-nano) or JSON config file",
      default: DEFAULT_DETECTOR,
    },
    {
      flag: "--detector-model FILE",
      text: "use this .onnx file instead of the config's model",
    },
    {
      flag: "--max-side N",
      text: `longest side of the embedded picture in pixels, 16 to ${MAX_SIDE}`,
      default: 400,
    },
  ],
  examples: ["show-regions photos/*.jpg --out runs/regions"],
});

export const showRegionsCommand: Command = {
  name: "show-regions",
  usage: USAGE,
  async run(args) {
    const parsed = parseCommandArgs(
      args,
      Object.fromEntries(
        ["out", "regions", "detector", "detector-model", "max-side"].map((k) => [
          k,
          { type: "string" as const },
        ]),
      ),
      USAGE,
    );
    const values = parsed.values as Record<string, string | undefined>;
    const images = parsed.positionals;
    if (!values.out || images.length === 0)
      throw new InputError(`IMAGE... and --out are required\n\n${USAGE}`);
    const regions = values.regions === undefined ? 20 : boundedInt(values.regions, "--regions", 20);
    const maxSide =
      numberFlag(values["max-side"], "--max-side", { integer: true, min: 16, max: MAX_SIDE }) ??
      400;
    const config = loadModelConfig(values.detector ?? DEFAULT_DETECTOR, "detector");
    const detector = await Detector.load(
      { ...config, model: values["detector-model"] ?? config.model },
      new ModelRegistry(),
    );
    mkdirSync(values.out, { recursive: true });
    const index = [
      "# Image regions",
      "",
      "The regions `imagesent features` encodes: the whole image, the detector's boxes (solid, with",
      "label and score) and fallback boxes (dashed) up to 20. Made with",
      "",
      `    imagesent show-regions ${args.join(" ")}`,
      "",
      `(detector ${detector.name}).`,
      "",
    ];
    try {
      for (const path of images) {
        const image = await decodeImage(path);
        const found = await imageRegions(image, detector, regions);
        const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
        const jpeg = await sharp(image.data, {
          raw: { width: image.width, height: image.height, channels: 3 },
        })
          .resize(Math.round(image.width * scale), Math.round(image.height * scale))
          .jpeg({ quality: 70 })
          .toBuffer();
        const name = `${basename(path, extname(path))}.svg`;
        writeFileAtomic(
          join(values.out, name),
          regionsSvg(basename(path), jpeg, image.width, image.height, found, scale),
        );
        index.push(`![${basename(path)}](${name})`, "");
        console.log(
          `${name}: ${
            found
              .filter((r) => r.source === "detection")
              .map((r) => r.label)
              .join(", ") || "no detections"
          }`,
        );
      }
    } finally {
      await detector.close();
    }
    writeFileAtomic(join(values.out, "README.md"), `${index.join("\n")}\n`);
    return 0;
  },
};
