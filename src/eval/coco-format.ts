import { JsonFields, readJsonFile } from "../json-fields.js";
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
  const refs = new Map<ImageId, string[]>();
  for (const ann of JsonFields.of(readJsonFile(path), path).objects("annotations")) {
    const { imageId, caption } = captionEntry(ann);
    const list = refs.get(imageId);
    if (list) list.push(caption);
    else refs.set(imageId, [caption]);
  }
  return refs;
}

/**
 * Reads a COCO results file (`[{"image_id", "caption"}, ...]`, as coco-caption's loadRes reads
 * it): one candidate caption per image.
 */
export function readCocoResults(path: string): Map<ImageId, string> {
  const results = new Map<ImageId, string>();
  for (const entry of JsonFields.list(readJsonFile(path), path, { want: "a list of results" })) {
    const { imageId, caption } = captionEntry(entry);
    if (results.has(imageId)) {
      throw entry.errorAt("image_id", `image ${imageId} already has a caption`);
    }
    results.set(imageId, caption);
  }
  return results;
}

function captionEntry(entry: JsonFields): { imageId: ImageId; caption: string } {
  const imageId = entry.get("image_id");
  if (typeof imageId !== "number" && typeof imageId !== "string") {
    return entry.fail("image_id", "a number or a string");
  }
  const caption = entry.string("caption", { empty: true });
  const words = ptbTokenize(caption).length;
  if (words > MAX_CAPTION_WORDS) {
    throw entry.errorAt(
      "caption",
      `image ${imageId}: ${words} words, more than the ${MAX_CAPTION_WORDS} a caption may have`,
    );
  }
  return { imageId, caption };
}
