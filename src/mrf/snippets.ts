import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CorruptFileError, InputError } from "../errors.js";
import { JsonFields, parseJson, readJsonFile, readTextFile } from "../json-fields.js";
import type { Region } from "../vision/image.js";
import type { Segment } from "./segments.js";

/**
 * The region-snippet dataset (section 4.3's training set for the region-level generator): one
 * JSON line per segment the chain MRF found,
 *
 *   {"filename": "1000268201_693b08cb0e.jpg", "imageId": 0, "sentenceId": 3, "region": 4,
 *    "box": [12, 40, 130, 210], "tokens": ["a", "little", "girl"], "start": 0, "end": 3,
 *    "score": 1.73}
 *
 * `region` is the row of the image's regions in the feature store (0 = whole image) and `box` its
 * box in the stored image's pixels ([x1, x2) x [y1, y2)); `tokens` are the sentence's words
 * [start, end); `score` is their mean region-word score v_region·s_j.
 */
export interface Snippet {
  readonly filename: string;
  readonly imageId: number;
  readonly sentenceId: number;
  readonly region: number;
  readonly box: readonly [number, number, number, number];
  readonly tokens: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly score: number;
}

/** The snippets of one aligned sentence: one per segment, with its region's box. */
export function sentenceSnippets(
  image: { readonly filename: string; readonly id: number },
  sentenceId: number,
  tokens: readonly string[],
  regions: readonly Region[],
  segments: readonly Segment[],
): Snippet[] {
  return segments.map((seg) => {
    const { x1, y1, x2, y2 } = regions[seg.region].box;
    return {
      filename: image.filename,
      imageId: image.id,
      sentenceId,
      region: seg.region,
      box: [x1, y1, x2, y2],
      tokens: tokens.slice(seg.start, seg.end),
      start: seg.start,
      end: seg.end,
      score: seg.score,
    };
  });
}

/** One snippet as its JSON line (no newline), fields in the documented order. */
export function formatSnippet(s: Snippet): string {
  return JSON.stringify({
    filename: s.filename,
    imageId: s.imageId,
    sentenceId: s.sentenceId,
    region: s.region,
    box: s.box,
    tokens: s.tokens,
    start: s.start,
    end: s.end,
    score: Math.round(s.score * 1e4) / 1e4,
  });
}

/** Parses and checks one line; `where` (file:line) prefixes every error. */
export function parseSnippetLine(line: string, where: string): Snippet {
  const o = JsonFields.of(parseJson(line, where), where);
  const int = (key: string, min: number) => o.number(key, { integer: true, min });
  const filename = o.string("filename");
  const imageId = int("imageId", -1);
  const sentenceId = int("sentenceId", 0);
  const region = int("region", 0);
  const box = o.numbers("box", {}, { length: 4, want: "[x1, y1, x2, y2]" });
  const [x1, y1, x2, y2] = box;
  if (!(x2 > x1 && y2 > y1)) throw o.errorAt("box", `empty box ${JSON.stringify(box)}`);
  const tokens = o.strings("tokens", { minLength: 1 });
  const start = int("start", 0);
  const end = int("end", start + 1);
  if (end - start !== tokens.length) {
    throw o.errorAt(
      "end",
      `[start, end) = [${start}, ${end}) does not span the ${tokens.length} tokens`,
    );
  }
  const score = o.number("score");
  return {
    filename,
    imageId,
    sentenceId,
    region,
    box: [x1, y1, x2, y2],
    tokens,
    start,
    end,
    score,
  };
}

/** Parses a whole snippet file's text; blank lines are skipped. */
export function parseSnippets(text: string, source: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    out.push(parseSnippetLine(line, `${source}:${i + 1}`));
  }
  return out;
}

/** Reads and checks a snippet file; an InputError names file:line and the field at fault. */
export function readSnippets(path: string): Snippet[] {
  return parseSnippets(readTextFile(path), path);
}

export function writeSnippets(path: string, snippets: readonly Snippet[]): void {
  writeFileAtomic(path, snippets.map((s) => `${formatSnippet(s)}\n`).join(""));
}

const PROGRESS_FORMAT = "imagesent-snippets-progress";

/** `SNIPPETS.progress`: how many bytes of the snippet file are committed, and by what run. */
interface ProgressMarker {
  readonly format: typeof PROGRESS_FORMAT;
  /** What made the snippets (model, features, beta, ...); a resume must match it. */
  readonly settings: Record<string, string | number>;
  readonly bytes: number;
}

/**
 * An append-only snippet file that a killed run resumes. Snippets are buffered a sentence at a
 * time; `commit` appends them, syncs, and then atomically rewrites the marker `PATH.progress`
 * with the new committed length. On reopening, anything past that length (a write cut off by the
 * kill) is truncated, and the sentences in the committed part are reported as done.
 */
export class SnippetAppender {
  private pending: Snippet[] = [];
  private readonly committed: Set<number>;

  private constructor(
    readonly path: string,
    private readonly settings: Record<string, string | number>,
    private bytes: number,
    committed: Iterable<number>,
  ) {
    this.committed = new Set(committed);
  }

  static markerPath(path: string): string {
    return `${path}.progress`;
  }

  /**
   * Opens `path` to add to it, creating it when absent. An existing file must come with its
   * marker from a run with the same `settings`, so one file never mixes two alignments.
   */
  static open(path: string, settings: Record<string, string | number>): SnippetAppender {
    const markerPath = SnippetAppender.markerPath(path);
    if (!existsSync(markerPath)) {
      if (existsSync(path) && statSync(path).size > 0) {
        throw new InputError(
          `${path}: exists but has no ${markerPath}, so it cannot be resumed; use another --out`,
        );
      }
      const appender = new SnippetAppender(path, settings, 0, []);
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, "");
      appender.writeMarker();
      return appender;
    }
    const marker = JsonFields.of(readJsonFile(markerPath, CorruptFileError), markerPath, {
      error: CorruptFileError,
    });
    marker.oneOf("format", [PROGRESS_FORMAT]);
    const bytes = marker.number("bytes", { integer: true, min: 0 });
    const made = marker.child("settings").fields;
    for (const key of new Set([...Object.keys(settings), ...Object.keys(made)])) {
      if (made[key] !== settings[key]) {
        throw new InputError(
          `${path}: was made with ${key} = ${made[key]}, this run has ${settings[key]}; use another --out`,
        );
      }
    }
    const size = existsSync(path) ? statSync(path).size : -1;
    if (size < bytes) {
      throw new InputError(
        `${path}: has ${Math.max(size, 0)} bytes but ${markerPath} says ${bytes} were written`,
      );
    }
    if (size > bytes) truncateSync(path, bytes);
    const snippets = parseSnippets(readFileSync(path, "utf8"), path);
    return new SnippetAppender(
      path,
      settings,
      bytes,
      snippets.map((s) => s.sentenceId),
    );
  }

  /** Ids of the sentences in the committed file. */
  get done(): ReadonlySet<number> {
    return this.committed;
  }

  /** Buffers one sentence's snippets (written by the next `commit`). */
  add(snippets: readonly Snippet[]): void {
    this.pending.push(...snippets);
  }

  /** Appends the buffered snippets durably and moves the marker past them. */
  commit(): void {
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.map((s) => `${formatSnippet(s)}\n`).join(""), "utf8");
    const fd = openSync(this.path, "r+");
    try {
      let offset = 0;
      while (offset < data.length) {
        offset += writeSync(fd, data, offset, data.length - offset, this.bytes + offset);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.bytes += data.length;
    for (const s of this.pending) this.committed.add(s.sentenceId);
    this.pending = [];
    this.writeMarker();
  }

  private writeMarker(): void {
    const marker: ProgressMarker = {
      format: PROGRESS_FORMAT,
      settings: this.settings,
      bytes: this.bytes,
    };
    writeFileAtomic(SnippetAppender.markerPath(this.path), `${JSON.stringify(marker, null, 2)}\n`);
  }
}
