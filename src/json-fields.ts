import { readFileSync } from "node:fs";
import { InputError } from "./errors.js";

/**
 * The one checker of JSON files imagesent reads (bundle.json, store.json, checkpoint headers,
 * model configs, fusions, summaries, ...): a file's object is read field by field, each read
 * checked, and a field at fault is one line naming the file and the field's path:
 *
 *   bundle.json: captionRerank.beam: expected an integer from 2 to 100, got 1.5
 *
 * A reader rather than a declarative schema, because these files mix plain fields with defaults
 * taken from presets and checks across fields, which read best as code.
 */

/** What a number must be: whole (a safe integer) or any finite number, within [min, max]. */
export interface NumberRange {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
}

/** A range in words, as errors say it: "a positive integer", "a number from 0 to 1". */
export function describeNumber(range: NumberRange): string {
  const { integer = false, min, max } = range;
  const what = integer ? "an integer" : "a number";
  const low = min !== undefined && Number.isFinite(min) ? min : undefined;
  const high = max !== undefined && Number.isFinite(max) ? max : undefined;
  if (integer && low === 1 && high === undefined) return "a positive integer";
  if (low !== undefined && high !== undefined) return `${what} from ${low} to ${high}`;
  if (low !== undefined) return `${what} >= ${low}`;
  if (high !== undefined) return `${what} <= ${high}`;
  return integer ? what : "a finite number";
}

/** Whether `n` is a finite number (a safe integer when `range.integer`) within the range. */
export function inRange(n: unknown, range: NumberRange): n is number {
  return (
    typeof n === "number" &&
    Number.isFinite(n) &&
    (!range.integer || Number.isSafeInteger(n)) &&
    n >= (range.min ?? Number.NEGATIVE_INFINITY) &&
    n <= (range.max ?? Number.POSITIVE_INFINITY)
  );
}

/** A value as an error shows it: its JSON, cut short. */
export function shown(value: unknown): string {
  const text = value === undefined ? "nothing" : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The error class a reader throws: InputError, or CorruptFileError for files imagesent wrote. */
export type ErrorClass = new (message: string) => Error;

/** `text` parsed as JSON; invalid JSON is one error naming `where`. */
export function parseJson(text: string, where: string, error: ErrorClass = InputError): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new error(`${where}: invalid JSON (${(err as Error).message})`);
  }
}

/** The text of file `path`; a file that cannot be read is one InputError naming it. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new InputError(
      `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** The JSON in file `path`; a file that cannot be read, or is not JSON, is one error naming it. */
export function readJsonFile(path: string, error: ErrorClass = InputError): unknown {
  return parseJson(readTextFile(path), path, error);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields of one JSON object, each read checked; errors name `where` and the field's path. */
export class JsonFields {
  private constructor(
    /** The file (or request) the object came from. */
    readonly where: string,
    /** The object's path in it: "" for the top, "vision.encoder", "shards[3]". */
    readonly path: string,
    readonly fields: Readonly<Record<string, unknown>>,
    private readonly error: ErrorClass,
  ) {}

  /** `value` as an object's fields; anything else is an error naming `where` (and `path`). */
  static of(
    value: unknown,
    where: string,
    options: { path?: string; error?: ErrorClass } = {},
  ): JsonFields {
    const path = options.path ?? "";
    const error = options.error ?? InputError;
    if (!isObject(value)) {
      throw new error(`${prefix(where, path)}expected a JSON object, got ${shown(value)}`);
    }
    return new JsonFields(where, path, value, error);
  }

  /**
   * `value` as a list of objects (a file whose top is a list, or one at `path`), each read by its
   * own reader at path "[i]"; anything else is an error naming `where`.
   */
  static list(
    value: unknown,
    where: string,
    options: ListOptions & { path?: string; error?: ErrorClass } = {},
  ): JsonFields[] {
    const { path = "", error = InputError } = options;
    const top = new JsonFields(where, path, {}, error);
    return top
      .listOf(undefined, value, options, "objects")
      .map((item, i) => JsonFields.of(item, where, { path: top.pathOf(i), error }));
  }

  /** The path of field `key` (or of this object), for messages and nested readers. */
  pathOf(key?: string | number): string {
    if (key === undefined) return this.path;
    if (typeof key === "number") return `${this.path}[${key}]`;
    return this.path === "" ? key : `${this.path}.${key}`;
  }

  /** "FILE: path" of field `key`, as an error starts (for checks made outside this class). */
  label(key?: string | number): string {
    const path = this.pathOf(key);
    return path === "" ? this.where : `${this.where}: ${path}`;
  }

  /** The object's keys, for objects that map names to values (a word to its counts). */
  keys(): string[] {
    return Object.keys(this.fields);
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined;
  }

  /** A field's value, unchecked. */
  get(key: string): unknown {
    return this.fields[key];
  }

  /** Throws: field `key` is not `want` ("expected WANT, got VALUE"). */
  fail(key: string | number | undefined, want: string, value?: unknown): never {
    const v = value !== undefined || key === undefined ? value : this.valueAt(key);
    const got = v === undefined ? "missing" : `got ${shown(v)}`;
    throw this.errorAt(key, `expected ${want}, ${got}`);
  }

  /** An error for field `key` in words of the caller's ("FILE: path: MESSAGE"). */
  errorAt(key: string | number | undefined, message: string): Error {
    return new this.error(`${prefix(this.where, this.pathOf(key))}${message}`);
  }

  /** Refuses fields not in `known` (a typo in a hand-written file would otherwise be ignored). */
  only(known: readonly string[]): void {
    const unknown = Object.keys(this.fields).find((k) => !known.includes(k));
    if (unknown !== undefined) throw this.errorAt(unknown, "unknown field");
  }

  /**
   * A string, non-empty unless `empty`, matching `pattern` if given; `fallback` when absent
   * (required when no fallback is given). `want` says what it should be in the file's words.
   */
  string(
    key: string,
    options: { fallback?: string; pattern?: RegExp; want?: string; empty?: boolean } = {},
  ): string {
    const v = this.fields[key] ?? options.fallback;
    if (
      typeof v !== "string" ||
      (v === "" && !options.empty) ||
      (options.pattern && !options.pattern.test(v))
    ) {
      return this.fail(key, options.want ?? (options.empty ? "a string" : "a non-empty string"));
    }
    return v;
  }

  optionalString(
    key: string,
    options: { pattern?: RegExp; want?: string; empty?: boolean } = {},
  ): string | undefined {
    return this.has(key) ? this.string(key, options) : undefined;
  }

  /** A number within `range`; `fallback` when absent (required when no fallback is given). */
  number(key: string, range: NumberRange = {}, fallback?: number): number {
    const v = this.fields[key] ?? fallback;
    if (!inRange(v, range)) return this.fail(key, describeNumber(range));
    return v;
  }

  optionalNumber(key: string, range: NumberRange = {}): number | undefined {
    return this.has(key) ? this.number(key, range) : undefined;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const v = this.fields[key] ?? fallback;
    if (typeof v !== "boolean") return this.fail(key, "true or false");
    return v;
  }

  /** One of `options` (strings, numbers, or null); `fallback` when absent. */
  oneOf<const T extends string | number | null>(
    key: string,
    options: readonly T[],
    fallback?: T,
  ): T {
    const v = this.fields[key] === undefined ? fallback : this.fields[key];
    if (!options.includes(v as T)) return this.fail(key, oneOfWords(options));
    return v as T;
  }

  /** A list of numbers within `range`, of `length` items or at least `minLength`. */
  numbers(
    key: string,
    range: NumberRange = {},
    options: ListOptions & { fallback?: readonly number[] } = {},
  ): number[] {
    const each = describeNumber(range);
    const items = this.listOf(key, this.fields[key] ?? options.fallback, options, plural(each));
    const bad = items.findIndex((x) => !inRange(x, range));
    if (bad >= 0) this.fail(`${key}[${bad}]`, each, items[bad]);
    return items as number[];
  }

  /** A list of non-empty strings, of `length` items or at least `minLength`. */
  strings(key: string, options: ListOptions & { fallback?: readonly string[] } = {}): string[] {
    const v = this.fields[key] ?? options.fallback;
    const items = this.listOf(key, v, options, "non-empty strings");
    const bad = items.findIndex((x) => typeof x !== "string" || x === "");
    if (bad >= 0) {
      if (options.want) this.fail(key, options.want);
      this.fail(`${key}[${bad}]`, "a non-empty string", items[bad]);
    }
    return items as string[];
  }

  /** A list's raw items, checked only for its length. */
  list(key: string, options: ListOptions = {}): unknown[] {
    return this.listOf(key, this.fields[key], options, "items");
  }

  /** A list of objects, each read by its own reader (path "key[i]"). */
  objects(key: string, options: ListOptions = {}): JsonFields[] {
    return this.listOf(key, this.fields[key], options, "objects").map((item, i) =>
      JsonFields.of(item, this.where, { path: this.pathOf(`${key}[${i}]`), error: this.error }),
    );
  }

  /** A nested object's reader; an absent one reads as {} when `optional` (its fields' defaults apply). */
  child(key: string, options: { optional?: boolean; want?: string } = {}): JsonFields {
    const v = this.fields[key] ?? (options.optional ? {} : undefined);
    if (!isObject(v)) return this.fail(key, options.want ?? "an object");
    return new JsonFields(this.where, this.pathOf(key), v, this.error);
  }

  private valueAt(key: string | number): unknown {
    if (typeof key === "number") return undefined;
    const m = /^(.*)\[(\d+)\]$/.exec(key);
    if (m) {
      const list = this.fields[m[1]!];
      return Array.isArray(list) ? list[Number(m[2])] : undefined;
    }
    return this.fields[key];
  }

  private listOf(
    key: string | undefined,
    v: unknown,
    options: ListOptions,
    items: string,
  ): unknown[] {
    const { length, minLength = 0 } = options;
    const want =
      options.want ??
      (length !== undefined
        ? `a list of ${length} ${items}`
        : minLength === 1
          ? `a non-empty list of ${items}`
          : minLength > 1
            ? `a list of at least ${minLength} ${items}`
            : `a list of ${items}`);
    if (!Array.isArray(v)) return this.fail(key, want, v);
    if ((length !== undefined && v.length !== length) || v.length < minLength) {
      // A long list is shown by its length: its JSON, cut short, would not say what is wrong.
      const got = JSON.stringify(v).length <= 60 ? shown(v) : `a list of ${v.length}`;
      throw this.errorAt(key, `expected ${want}, got ${got}`);
    }
    return v;
  }
}

/** How long a list must be; `want` says what it should be in the file's words. */
export interface ListOptions {
  readonly length?: number;
  readonly minLength?: number;
  readonly want?: string;
}

/** "a positive integer" -> "positive integers", "an integer from 1 to 5" -> "integers from 1 to 5". */
export function plural(what: string): string {
  return what.replace(/^an? /, "").replace(/integer|number/, "$&s");
}

/** "FILE: path: " (or "FILE: " for the top object), as every error line starts. */
function prefix(where: string, path: string): string {
  return path === "" ? `${where}: ` : `${where}: ${path}: `;
}

function oneOfWords(options: readonly unknown[]): string {
  const words = options.map((o) => JSON.stringify(o));
  return words.length === 1 ? words[0]! : `one of ${words.join(", ")}`;
}
