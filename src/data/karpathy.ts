import { basename } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { JsonFields, readJsonFile } from "../json-fields.js";
import { type Dataset, type ImageEntry, type Sentence, SPLITS } from "./dataset.js";
import { tokenize } from "./tokenizer.js";

/**
 * Reads Karpathy's `dataset.json` layout:
 * `{ dataset, images: [{ filename, filepath?, imgid, split, sentids?, sentences: [{ raw, tokens?,
 * imgid?, sentid }] }] }`. Every field is checked and an error names the file and field path.
 * `filepath` (COCO's "train2014/") is joined onto `filename`; missing `tokens` are derived from
 * `raw` with the paper's tokenizer; other fields (cocoid, ...) are ignored.
 */
export function readKarpathyDataset(path: string): Dataset {
  return parseKarpathyDataset(readJsonFile(path), path);
}

/** Validates an already parsed dataset.json value; `source` names it in error messages. */
export function parseKarpathyDataset(json: unknown, source: string): Dataset {
  const root = JsonFields.of(json, source);
  // Without a "dataset" field, "dataset_coco.json" is named "coco".
  const name = root.string("dataset", {
    fallback:
      basename(source)
        .replace(/^dataset_?/, "")
        .replace(/\.json$/, "") || "dataset",
    empty: true,
  });
  const id = { integer: true, min: 0 };
  const imageIds = new Map<number, string>();
  const sentenceIds = new Map<number, string>();
  const images = root.objects("images").map((image): ImageEntry => {
    const filename = image.string("filename");
    const filepath = image.optionalString("filepath", { empty: true });
    const imgid = image.number("imgid", id);
    const first = imageIds.get(imgid);
    if (first !== undefined) throw image.errorAt("imgid", `${imgid} already used by ${first}`);
    imageIds.set(imgid, image.path);
    const split = image.oneOf("split", SPLITS);
    const sentences = image.objects("sentences").map((s): Sentence => {
      const raw = s.string("raw", { empty: true, want: "a string" });
      const sid = s.number("sentid", id);
      const firstSentence = sentenceIds.get(sid);
      if (firstSentence !== undefined)
        throw s.errorAt("sentid", `${sid} already used by ${firstSentence}`);
      sentenceIds.set(sid, s.path);
      if (s.has("imgid") && s.get("imgid") !== imgid) {
        throw s.errorAt(
          "imgid",
          `${JSON.stringify(s.get("imgid"))} differs from the image's imgid ${imgid}`,
        );
      }
      let tokens: string[];
      if (s.has("tokens")) {
        tokens = s.strings("tokens", { minLength: 1 });
      } else {
        tokens = tokenize(raw);
        if (tokens.length === 0) throw s.errorAt("raw", "no words in the caption");
      }
      return { id: sid, raw, tokens };
    });
    if (image.has("sentids")) {
      const expected = sentences.map((s) => s.id);
      const sentids = image.get("sentids");
      if (
        !Array.isArray(sentids) ||
        sentids.length !== expected.length ||
        sentids.some((v: unknown, k: number) => v !== expected[k])
      ) {
        image.fail("sentids", `the sentences' sentids [${expected.join(", ")}]`);
      }
    }
    const file = filepath ? `${filepath.replace(/\/+$/, "")}/${filename}` : filename;
    return { id: imgid, filename: file, split, sentences };
  });
  return { name, images };
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
