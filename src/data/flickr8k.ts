import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import type { Dataset, ImageEntry, Split } from "./dataset.js";
import { tokenize } from "./tokenizer.js";

export const FLICKR8K_CAPTIONS = "Flickr8k.token.txt";

/** The official split lists, in the order their images are numbered; "dev" is our "val". */
export const FLICKR8K_SPLIT_FILES: readonly { split: Split; file: string }[] = [
  { split: "train", file: "Flickr_8k.trainImages.txt" },
  { split: "val", file: "Flickr_8k.devImages.txt" },
  { split: "test", file: "Flickr_8k.testImages.txt" },
];

/**
 * Reads the Flickr8k distribution in `dir`: `Flickr8k.token.txt` (`IMAGE.jpg#N<TAB>caption`)
 * and the train/dev/test lists. Images come in split-list order (train, then val, then test),
 * captions in file order, and ids count up from 0, which gives exactly Karpathy's
 * dataset_flickr8k.json.
 *
 * Captioned images that no split list names are left out, as in Karpathy's json, since the
 * official split is the one results are compared on. In the official files these are 91 images
 * plus 2258277193_586949ec62.jpg, which the image archive lacks and whose first caption sits under
 * a mistyped key (`...jpg.1#0`).
 */
export function readFlickr8k(dir: string): Dataset {
  const captions = readCaptions(join(dir, FLICKR8K_CAPTIONS));
  const listedIn = new Map<string, string>();
  const images: ImageEntry[] = [];
  let sentenceId = 0;
  for (const { split, file } of FLICKR8K_SPLIT_FILES) {
    const path = join(dir, file);
    lines(path).forEach((text, i) => {
      const filename = text.trim();
      if (filename === "") return;
      const where = `${path}:${i + 1}`;
      if (/\s/.test(filename))
        throw new InputError(`${where}: expected one image file name per line`);
      const first = listedIn.get(filename);
      if (first !== undefined)
        throw new InputError(`${where}: ${filename} already listed at ${first}`);
      listedIn.set(filename, where);
      const caps = captions.get(filename);
      if (!caps)
        throw new InputError(`${where}: ${filename} has no captions in ${FLICKR8K_CAPTIONS}`);
      const sentences = caps.map((raw) => ({ id: sentenceId++, raw, tokens: tokenize(raw) }));
      images.push({ id: images.length, filename, split, sentences });
    });
  }
  return { name: "flickr8k", images };
}

/** Whether `dir` holds the Flickr8k caption file. */
export function isFlickr8kDir(dir: string): boolean {
  return existsSync(join(dir, FLICKR8K_CAPTIONS));
}

function readCaptions(path: string): Map<string, string[]> {
  const byImage = new Map<string, string[]>();
  const seen = new Map<string, number>();
  lines(path).forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === "") return;
    const where = `${path}:${line}`;
    const tab = text.indexOf("\t");
    if (tab < 0) throw new InputError(`${where}: expected IMAGE#N<TAB>caption, found no tab`);
    const key = text.slice(0, tab);
    const raw = text.slice(tab + 1);
    const m = /^(\S+)#(\d+)$/.exec(key);
    if (!m) throw new InputError(`${where}: expected IMAGE#N before the tab, got "${key}"`);
    const firstLine = seen.get(key);
    if (firstLine !== undefined) throw new InputError(`${where}: ${key} repeats line ${firstLine}`);
    seen.set(key, line);
    if (tokenize(raw).length === 0) throw new InputError(`${where}: caption has no words`);
    const filename = m[1]!;
    const caps = byImage.get(filename);
    if (caps) caps.push(raw);
    else byImage.set(filename, [raw]);
  });
  return byImage;
}

function lines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  return text.split(/\r?\n/);
}
