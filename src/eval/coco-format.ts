import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { ptbTokenize } from "./ptb-tokenizer.js";

/**
 * The most words (PTB tokens, as scored) a candidate or reference caption may have. METEOR's
 * alignment search grows steeply with length (a 200-word caption takes seconds, a 10,000-word
 * one a gigabyte); COCO's and Flickr's captions are under 60 words.
 */
export const MAX_CAPTION_WORDS = 100;

/** A COCO image id: a number in COCO itself, a string in some other datasets' files. */
export type ImageId = number | string;

/**
 * Reads a COCO captions annotation file (`{"annotations": [{"image_id", "caption"}, ...]}`, as
 * coco-caption's COCO class loads it): every image's reference captions, in file order.
 */
export function readCocoReferences(path: string): Map<ImageId, string[]> {
  const root = readJson(path);
  if (!isObject(root) || !Array.isArray(root.annotations)) {
    throw new InputError(`${path}: expected an object with an "annotations" array`);
  }
  const refs = new Map<ImageId, string[]>();
  root.annotations.forEach((ann: unknown, i: number) => {
    const { imageId, caption } = captionEntry(ann, `${path}: annotations[${i}]`);
    const list = refs.get(imageId);
    if (list) list.push(caption);
    else refs.set(imageId, [caption]);
  });
  return refs;
}

/**
 * Reads a COCO results file (`[{"image_id", "caption"}, ...]`, as coco-caption's loadRes reads
 * it): one candidate caption per image.
 */
export function readCocoResults(path: string): Map<ImageId, string> {
  const root = readJson(path);
  if (!Array.isArray(root)) throw new InputError(`${path}: expected an array of results`);
  const results = new Map<ImageId, string>();
  root.forEach((entry: unknown, i: number) => {
    const where = `${path}: [${i}]`;
    const { imageId, caption } = captionEntry(entry, where);
    if (results.has(imageId)) {
      throw new InputError(`${where}.image_id: image ${imageId} already has a caption`);
    }
    results.set(imageId, caption);
  });
  return results;
}

function captionEntry(entry: unknown, where: string): { imageId: ImageId; caption: string } {
  if (!isObject(entry)) throw new InputError(`${where}: expected an object`);
  const imageId = entry.image_id;
  if (typeof imageId !== "number" && typeof imageId !== "string") {
    throw new InputError(`${where}.image_id: expected a number or a string`);
  }
  if (typeof entry.caption !== "string") {
    throw new InputError(`${where}.caption: expected a string`);
  }
  const words = ptbTokenize(entry.caption).length;
  if (words > MAX_CAPTION_WORDS) {
    throw new InputError(
      `${where}.caption: image ${imageId}: ${words} words, more than the ${MAX_CAPTION_WORDS} a caption may have`,
    );
  }
  return { imageId, caption: entry.caption };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
