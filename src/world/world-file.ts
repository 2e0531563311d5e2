import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../core/atomic-file.js";
import type { Dataset, Split } from "../data/dataset.js";
import { SPLITS } from "../data/dataset.js";
import { InputError } from "../errors.js";
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
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseWorld(json, path);
}

/** Validates a parsed world.json value; `source` names it in error messages. */
export function parseWorld(json: unknown, source: string): World {
  const v = new Validator(source);
  const root = v.object(json, "(top level)");
  if (root.format !== WORLD_FORMAT) v.fail("format", `expected "${WORLD_FORMAT}"`);
  if (root.version !== WORLD_VERSION) v.fail("version", `expected ${WORLD_VERSION}`);
  const seed = v.int(root.seed, "seed", 0);
  const width = v.int(root.width, "width", 1);
  const height = v.int(root.height, "height", 1);
  const imageIds = new Set<number>();
  const sentenceIds = new Set<number>();
  const images = v.array(root.images, "images").map((value, i): WorldImage => {
    const at = `images[${i}]`;
    const o = v.object(value, at);
    const id = v.int(o.id, `${at}.id`, 0);
    if (imageIds.has(id)) v.fail(`${at}.id`, `${id} is used twice`);
    imageIds.add(id);
    const filename = v.string(o.filename, `${at}.filename`);
    if (/[/\\]/.test(filename) || filename === "." || filename === "..") {
      v.fail(
        `${at}.filename`,
        `expected a file name inside images/, got ${JSON.stringify(filename)}`,
      );
    }
    const split = v.oneOf(o.split, `${at}.split`, SPLITS);
    const background = parseBackground(v, o.background, `${at}.background`);
    const box = (b: unknown, f: string) => v.box(b, f, width, height);
    const objects = v.array(o.objects, `${at}.objects`).map((ov, k): WorldObject => {
      const of = `${at}.objects[${k}]`;
      const obj = v.object(ov, of);
      return {
        shape: v.oneOf(obj.shape, `${of}.shape`, SHAPES),
        colour: v.oneOf(obj.colour, `${of}.colour`, COLOURS),
        size: v.oneOf(obj.size, `${of}.size`, SIZES),
        rgb: v.rgb(obj.rgb, `${of}.rgb`),
        box: box(obj.box, `${of}.box`),
      };
    });
    const regions = v.array(o.regions, `${at}.regions`).map((rv, k): Region => {
      const rf = `${at}.regions[${k}]`;
      const r = v.object(rv, rf);
      const source = v.oneOf(r.source, `${rf}.source`, ["whole", "detection", "fallback"] as const);
      const region: Region = { box: box(r.box, `${rf}.box`), source };
      if (r.score === undefined) return region;
      return { ...region, score: v.number(r.score, `${rf}.score`) };
    });
    const sentences = v.array(o.sentences, `${at}.sentences`).map((sv, k): WorldSentence => {
      const sf = `${at}.sentences[${k}]`;
      const s = v.object(sv, sf);
      const sid = v.int(s.id, `${sf}.id`, 0);
      if (sentenceIds.has(sid)) v.fail(`${sf}.id`, `${sid} is used twice`);
      sentenceIds.add(sid);
      const tokens = v
        .array(s.tokens, `${sf}.tokens`)
        .map((t, j) => v.string(t, `${sf}.tokens[${j}]`));
      const refs = v.array(s.refs, `${sf}.refs`).map((r, j) => {
        const ref = v.int(r, `${sf}.refs[${j}]`, -1);
        if (ref >= objects.length) {
          v.fail(
            `${sf}.refs[${j}]`,
            `object ${ref} does not exist (the image has ${objects.length})`,
          );
        }
        return ref;
      });
      if (refs.length !== tokens.length) {
        v.fail(`${sf}.refs`, `has ${refs.length} entries for ${tokens.length} tokens`);
      }
      return { id: sid, raw: v.string(s.raw, `${sf}.raw`), tokens, refs };
    });
    return { id, filename, split, background, objects, regions, sentences };
  });
  return { seed, width, height, images };
}

function parseBackground(v: Validator, value: unknown, at: string): Background {
  const b = v.object(value, at);
  return {
    kind: v.oneOf(b.kind, `${at}.kind`, BACKGROUND_KINDS),
    tone: v.oneOf(b.tone, `${at}.tone`, TONES),
    rgb: v.rgb(b.rgb, `${at}.rgb`),
    rgb2: v.rgb(b.rgb2, `${at}.rgb2`),
    angle: v.number(b.angle, `${at}.angle`),
    period: v.int(b.period, `${at}.period`, 1),
    noiseSeed: v.int(b.noiseSeed, `${at}.noiseSeed`, 0),
  };
}

/** Field checks that throw an InputError naming the source and the field's path. */
class Validator {
  constructor(private readonly source: string) {}

  fail(field: string, what: string): never {
    throw new InputError(`${this.source}: ${field}: ${what}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.fail(field, "expected an object");
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) return this.fail(field, "expected an array");
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== "string" || value === "")
      return this.fail(field, "expected a non-empty string");
    return value;
  }

  number(value: unknown, field: string): number {
    if (typeof value !== "number" || !Number.isFinite(value))
      return this.fail(field, "expected a number");
    return value;
  }

  int(value: unknown, field: string, min: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      return this.fail(field, `expected an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (typeof value !== "string" || !allowed.includes(value as T)) {
      return this.fail(
        field,
        `expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  }

  rgb(value: unknown, field: string): [number, number, number] {
    const a = this.array(value, field);
    if (a.length !== 3) this.fail(field, "expected 3 channel values");
    const [r, g, b] = a.map((c, i) => {
      const n = this.int(c, `${field}[${i}]`, 0);
      return n > 255 ? this.fail(`${field}[${i}]`, "expected at most 255") : n;
    });
    return [r, g, b];
  }

  box(value: unknown, field: string, width: number, height: number): Box {
    const b = this.object(value, field);
    const x1 = this.int(b.x1, `${field}.x1`, 0);
    const y1 = this.int(b.y1, `${field}.y1`, 0);
    const x2 = this.int(b.x2, `${field}.x2`, x1 + 1);
    const y2 = this.int(b.y2, `${field}.y2`, y1 + 1);
    if (x2 > width) this.fail(`${field}.x2`, `${x2} is outside the image (width ${width})`);
    if (y2 > height) this.fail(`${field}.y2`, `${y2} is outside the image (height ${height})`);
    return { x1, y1, x2, y2 };
  }
}
