import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";

/**
 * The region-snippet set the MRF alignment writes (one JSON object per line): a stretch of a
 * sentence aligned to one region of its image. Region mode trains the generator on these, the
 * region's CNN code standing in for the whole image's.
 */
export interface Snippet {
  readonly filename: string;
  readonly imageId: number;
  readonly sentenceId: number;
  /** Row of the region in the feature store's entry for `filename` (0 = whole image). */
  readonly region: number;
  readonly box: readonly [number, number, number, number];
  readonly tokens: readonly string[];
  /** The snippet is tokens start..end-1 of its sentence. */
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

/** Reads a snippet file; a malformed line is an InputError naming file:line and the field. */
export function readSnippets(path: string): Snippet[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(`${path}: cannot read snippet file (${(err as Error).message})`);
  }
  return parseSnippets(text, path);
}

export function parseSnippets(text: string, source: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const where = `${source}:${i + 1}`;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new InputError(`${where}: expected a JSON object`);
    }
    const fail = (field: string, what: string): never => {
      throw new InputError(`${where}: ${field}: expected ${what}, got ${JSON.stringify(v[field])}`);
    };
    const int = (field: string, min: number): number => {
      const x = v[field];
      return typeof x === "number" && Number.isInteger(x) && x >= min
        ? x
        : fail(field, `an integer >= ${min}`);
    };
    if (typeof v.filename !== "string" || v.filename === "") fail("filename", "a file name");
    const tokens = v.tokens;
    if (
      !Array.isArray(tokens) ||
      tokens.length === 0 ||
      !tokens.every((t) => typeof t === "string" && t !== "")
    ) {
      fail("tokens", "a non-empty array of words");
    }
    const box = v.box;
    if (!Array.isArray(box) || box.length !== 4 || !box.every((x) => Number.isFinite(x))) {
      fail("box", "[x1, y1, x2, y2]");
    }
    const start = int("start", 0);
    const end = int("end", start + 1);
    const score = v.score;
    if (typeof score !== "number" || !Number.isFinite(score)) fail("score", "a number");
    out.push({
      filename: v.filename as string,
      imageId: int("imageId", -1),
      sentenceId: int("sentenceId", 0),
      region: int("region", 0),
      box: box as [number, number, number, number],
      tokens: tokens as string[],
      start,
      end,
      score: score as number,
    });
  }
  return out;
}
