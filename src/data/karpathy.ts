import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { InputError } from "../errors.js";
import { type Dataset, type ImageEntry, type Sentence, SPLITS, type Split } from "./dataset.js";
import { tokenize } from "./tokenizer.js";

/**
 * Reads Karpathy's `dataset.json` layout:
 * `{ dataset, images: [{ filename, filepath?, imgid, split, sentids?, sentences: [{ raw, tokens?,
 * imgid?, sentid }] }] }`. Every field is checked and an error names the file and field path.
 * `filepath` (COCO's "train2014/") is joined onto `filename`; missing `tokens` are derived from
 * `raw` with the paper's tokenizer; other fields (cocoid, ...) are ignored.
 */
export function readKarpathyDataset(path: string): Dataset {
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
  return parseKarpathyDataset(json, path);
}

/** Validates an already parsed dataset.json value; `source` names it in error messages. */
export function parseKarpathyDataset(json: unknown, source: string): Dataset {
  const fail = (field: string, what: string): never => {
    throw new InputError(`${source}: ${field}: ${what}`);
  };
  const root = asObject(json, "(top level)", fail);
  // Without a "dataset" field, "dataset_coco.json" is named "coco".
  const name =
    root.dataset ??
    (basename(source)
      .replace(/^dataset_?/, "")
      .replace(/\.json$/, "") ||
      "dataset");
  if (typeof name !== "string") fail("dataset", "expected a string");
  if (!Array.isArray(root.images)) return fail("images", "expected an array");

  const imageIds = new Map<number, string>();
  const sentenceIds = new Map<number, string>();
  const images = root.images.map((value: unknown, i: number): ImageEntry => {
    const at = `images[${i}]`;
    const image = asObject(value, at, fail);
    const filename = image.filename;
    if (typeof filename !== "string" || filename === "") {
      fail(`${at}.filename`, "expected a non-empty string");
    }
    const filepath = image.filepath;
    if (filepath !== undefined && typeof filepath !== "string") {
      fail(`${at}.filepath`, "expected a string");
    }
    const id = integer(image.imgid, `${at}.imgid`, fail);
    const first = imageIds.get(id);
    if (first !== undefined) fail(`${at}.imgid`, `${id} already used by ${first}`);
    imageIds.set(id, at);
    const split = image.split;
    if (typeof split !== "string") fail(`${at}.split`, "expected a string");
    if (!SPLITS.includes(split as Split)) {
      fail(`${at}.split`, `unknown split "${split}" (expected one of ${SPLITS.join(", ")})`);
    }
    if (!Array.isArray(image.sentences)) return fail(`${at}.sentences`, "expected an array");
    const sentences = image.sentences.map((sv: unknown, j: number): Sentence => {
      const sat = `${at}.sentences[${j}]`;
      const s = asObject(sv, sat, fail);
      const raw = s.raw;
      if (typeof raw !== "string") return fail(`${sat}.raw`, "expected a string");
      const sid = integer(s.sentid, `${sat}.sentid`, fail);
      const firstSentence = sentenceIds.get(sid);
      if (firstSentence !== undefined)
        fail(`${sat}.sentid`, `${sid} already used by ${firstSentence}`);
      sentenceIds.set(sid, sat);
      if (s.imgid !== undefined && s.imgid !== id) {
        fail(`${sat}.imgid`, `${JSON.stringify(s.imgid)} differs from the image's imgid ${id}`);
      }
      let tokens: string[];
      if (s.tokens === undefined) {
        tokens = tokenize(raw);
        if (tokens.length === 0) fail(`${sat}.raw`, "no words in the caption");
      } else {
        if (!Array.isArray(s.tokens)) return fail(`${sat}.tokens`, "expected an array of strings");
        tokens = s.tokens.map((t: unknown, k: number) => {
          if (typeof t !== "string" || t === "")
            fail(`${sat}.tokens[${k}]`, "expected a non-empty string");
          return t as string;
        });
        if (tokens.length === 0) fail(`${sat}.tokens`, "expected at least one token");
      }
      return { id: sid, raw, tokens };
    });
    if (image.sentids !== undefined) {
      const expected = sentences.map((s) => s.id);
      if (
        !Array.isArray(image.sentids) ||
        image.sentids.length !== expected.length ||
        image.sentids.some((v: unknown, k: number) => v !== expected[k])
      ) {
        fail(`${at}.sentids`, `expected the sentences' sentids [${expected.join(", ")}]`);
      }
    }
    const file = filepath ? `${(filepath as string).replace(/\/+$/, "")}/${filename}` : filename;
    return { id, filename: file as string, split: split as Split, sentences };
  });
  return { name: name as string, images };
}

/** Writes `dataset` in the layout readKarpathyDataset reads, atomically. */
export function writeKarpathyDataset(path: string, dataset: Dataset): void {
  const json = {
    dataset: dataset.name,
    images: dataset.images.map((image) => ({
      filename: image.filename,
      imgid: image.id,
      split: image.split,
      sentids: image.sentences.map((s) => s.id),
      sentences: image.sentences.map((s) => ({
        tokens: s.tokens,
        raw: s.raw,
        imgid: image.id,
        sentid: s.id,
      })),
    })),
  };
  writeFileAtomic(path, `${JSON.stringify(json)}\n`);
}

function asObject(
  value: unknown,
  field: string,
  fail: (field: string, what: string) => never,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(field, "expected an object");
  }
  return value as Record<string, unknown>;
}

function integer(
  value: unknown,
  field: string,
  fail: (field: string, what: string) => never,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    return fail(field, "expected a non-negative integer");
  }
  return value;
}
