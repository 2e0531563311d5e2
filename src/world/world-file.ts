import { writeFileAtomic } from "../core/atomic-file.js";
import type { Dataset, Split } from "../data/dataset.js";
import { SPLITS } from "../data/dataset.js";
import { JsonFields, readJsonFile } from "../json-fields.js";
import type { Box, Region } from "../vision/image.js";
import { BACKGROUND_KINDS, type Background, TONES } from "./background.js";
import { COLOURS, SHAPES, SIZES, type WorldObject } from "./scene.js";

/**
 * The synthetic world's ground truth, `world.json`, beside the Karpathy-layout `dataset.json` that
 * holds the same images and sentences (same imgid and sentid):
 *
 *   { "format": "imagesent-synthetic-world", "version": 1, "seed": 1, "width": 224, "height": 224,
 *     "images": [
 *       { "id": 0, "filename": "000000.jpg", "split": "train",
 *         "background": { "kind": "striped", "tone": "dark", "rgb": [..], "rgb2": [..],
 *                         "angle": 45, "period": 12, "noiseSeed": 123 },
 *         "objects": [ { "shape": "circle", "colour": "red", "size": "big",
 *                        "rgb": [230, 20, 30], "box": { "x1": 10, "y1": 20, "x2": 90, "y2": 100 } } ],
 *         "regions": [ { "box": {..}, "source": "whole" }, { "box": {..}, "source": "detection",
 *                        "score": 0.93 }, ... ],
 *         "sentences": [ { "id": 0, "raw": "A big red circle.", "tokens": ["a", "big", "red", "circle"],
 *                          "refs": [-1, 0, 0, 0] } ] } ] }
 *
 * Boxes are integer pixels, [x1, x2) x [y1, y2). `refs[k]` is the index in `objects` of the object
 * token k names, or -1. `regions` are the whole image and 19 simulated detections (proposals.ts).
 * One image per line, so the file diffs and greps well.
 */
export const WORLD_FORMAT = "imagesent-synthetic-world";
export const WORLD_VERSION = 1;

export interface WorldSentence {
  readonly id: number;
  readonly raw: string;
  readonly tokens: readonly string[];
  readonly refs: readonly number[];
}

export interface WorldImage {
  readonly id: number;
  /** Relative to the world's `images/` folder. */
  readonly filename: string;
  readonly split: Split;
  readonly background: Background;
  readonly objects: readonly WorldObject[];
  readonly regions: readonly Region[];
  readonly sentences: readonly WorldSentence[];
}

export interface World {
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly images: readonly WorldImage[];
}

/** The world's images and sentences as the dataset model every stage reads. */
export function worldToDataset(world: World): Dataset {
  return {
    name: "synthetic",
    images: world.images.map((image) => ({
      id: image.id,
      filename: image.filename,
      split: image.split,
      sentences: image.sentences.map((s) => ({ id: s.id, raw: s.raw, tokens: s.tokens })),
    })),
  };
}

export function formatWorld(world: World): string {
  const head = JSON.stringify({
    format: WORLD_FORMAT,
    version: WORLD_VERSION,
    seed: world.seed,
    width: world.width,
    height: world.height,
  });
  const lines = world.images.map((image) => JSON.stringify(image));
  return `${head.slice(0, -1)},"images":[\n${lines.join(",\n")}\n]}\n`;
}

export function writeWorldFile(path: string, world: World): void {
  writeFileAtomic(path, formatWorld(world));
}

/** Reads and checks `world.json`; an InputError names the file and the field at fault. */
export function readWorldFile(path: string): World {
  return parseWorld(readJsonFile(path), path);
}

/** A file name inside the world's images/ folder: no separator, not "." or "..". */
const IMAGE_FILE_NAME = /^(?!\.\.?$)[^/\\]+$/;

/** Validates a parsed world.json value; `source` names it in error messages. */
export function parseWorld(json: unknown, source: string): World {
  const root = JsonFields.of(json, source);
  root.oneOf("format", [WORLD_FORMAT]);
  root.oneOf("version", [WORLD_VERSION]);
  const seed = root.number("seed", { integer: true, min: 0 });
  const width = root.number("width", { integer: true, min: 1 });
  const height = root.number("height", { integer: true, min: 1 });
  const imageIds = new Set<number>();
  const sentenceIds = new Set<number>();
  const images = root.objects("images").map((o): WorldImage => {
    const id = uniqueId(o, imageIds);
    const filename = o.string("filename", {
      pattern: IMAGE_FILE_NAME,
      want: "a file name inside images/",
    });
    const split = o.oneOf("split", SPLITS);
    const background = parseBackground(o.child("background"));
    const objects = o.objects("objects").map(
      (obj): WorldObject => ({
        shape: obj.oneOf("shape", SHAPES),
        colour: obj.oneOf("colour", COLOURS),
        size: obj.oneOf("size", SIZES),
        rgb: rgb(obj),
        box: parseBox(obj.child("box"), width, height),
      }),
    );
    const regions = o.objects("regions").map((r): Region => {
      const source = r.oneOf("source", ["whole", "detection", "fallback"] as const);
      const region: Region = { box: parseBox(r.child("box"), width, height), source };
      const score = r.optionalNumber("score");
      return score === undefined ? region : { ...region, score };
    });
    const sentences = o.objects("sentences").map((s): WorldSentence => {
      const sid = uniqueId(s, sentenceIds);
      const tokens = s.strings("tokens");
      const refs = s.numbers(
        "refs",
        { integer: true, min: -1 },
        {
          length: tokens.length,
          want: `a list of ${tokens.length} object indices or -1 (one per token)`,
        },
      );
      refs.forEach((ref, j) => {
        if (ref >= objects.length) {
          throw s.errorAt(
            `refs[${j}]`,
            `object ${ref} does not exist (the image has ${objects.length})`,
          );
        }
      });
      return { id: sid, raw: s.string("raw"), tokens, refs };
    });
    return { id, filename, split, background, objects, regions, sentences };
  });
  return { seed, width, height, images };
}

/** Field "id", a whole number >= 0 not in `seen` (to which it is added). */
function uniqueId(o: JsonFields, seen: Set<number>): number {
  const id = o.number("id", { integer: true, min: 0 });
  if (seen.has(id)) throw o.errorAt("id", `${id} is used twice`);
  seen.add(id);
  return id;
}

function rgb(o: JsonFields, key = "rgb"): [number, number, number] {
  const [r, g, b] = o.numbers(key, { integer: true, min: 0, max: 255 }, { length: 3 });
  return [r, g, b];
}

function parseBackground(b: JsonFields): Background {
  return {
    kind: b.oneOf("kind", BACKGROUND_KINDS),
    tone: b.oneOf("tone", TONES),
    rgb: rgb(b),
    rgb2: rgb(b, "rgb2"),
    angle: b.number("angle"),
    period: b.number("period", { integer: true, min: 1 }),
    noiseSeed: b.number("noiseSeed", { integer: true, min: 0 }),
  };
}

/** An integer-pixel box, not empty, inside the width x height image. */
function parseBox(b: JsonFields, width: number, height: number): Box {
  const x1 = b.number("x1", { integer: true, min: 0 });
  const y1 = b.number("y1", { integer: true, min: 0 });
  const x2 = b.number("x2", { integer: true, min: x1 + 1 });
  const y2 = b.number("y2", { integer: true, min: y1 + 1 });
  if (x2 > width) throw b.errorAt("x2", `${x2} is outside the image (width ${width})`);
  if (y2 > height) throw b.errorAt("y2", `${y2} is outside the image (height ${height})`);
  return { x1, y1, x2, y2 };
}
