import type { ErrorClass } from "../json-fields.js";
import { JsonFields } from "../json-fields.js";
import type {
  AssociationEntry,
  WordClassAssociation,
  WordTable,
} from "./word-class-association.js";

/**
 * The word-class table as a grounding file of version 2 stores it: the words in a list, how many
 * classes each has (`counts`), then for every (word, class) pair the class's index and
 * [naming, lift, given], as base64 of little-endian uint16 and float64 arrays:
 *
 *   {"classes": [...], "words": [...], "counts": B64(u16), "classIds": B64(u16),
 *    "values": B64(f64 x 3 per pair)}
 *
 * Version 1's {word: {class: [naming, lift, given]}} took a cold search ~60 ms to parse (its
 * ~24,000 small arrays); this parses in a few, is checked whole when read, and a word's row is
 * built the first time it is looked up.
 */
export interface PackedAssociation {
  readonly classes: readonly string[];
  readonly words: readonly string[];
  readonly counts: string;
  readonly classIds: string;
  readonly values: string;
}

/** Values stored per (word, class) pair: naming, lift, given. */
const PER_PAIR = 3;

export function packAssociation(assoc: WordClassAssociation): PackedAssociation {
  const classIndex = new Map(assoc.classes.map((c, i) => [c, i]));
  const words: string[] = [];
  const counts: number[] = [];
  const classIds: number[] = [];
  const values: number[] = [];
  for (const [word, row] of assoc.words) {
    words.push(word);
    counts.push(row.size);
    for (const [c, e] of row) {
      const id = classIndex.get(c);
      if (id === undefined) throw new RangeError(`packAssociation: ${word}: unknown class ${c}`);
      classIds.push(id);
      values.push(e.naming, e.lift, e.given);
    }
  }
  return {
    classes: assoc.classes,
    words,
    counts: base64Of(Uint16Array.from(counts)),
    classIds: base64Of(Uint16Array.from(classIds)),
    values: base64Of(Float64Array.from(values)),
  };
}

/**
 * Reads packAssociation's output, checked whole (every class index in range, every value finite,
 * the lengths in agreement); errors name `where` and the field's path in it.
 */
export function unpackAssociation(
  value: unknown,
  where: string,
  options: { path?: string; error?: ErrorClass } = {},
): WordClassAssociation {
  const r = JsonFields.of(value, where, options);
  const classes = r.strings("classes", { want: "a list of class names" });
  const words = r.strings("words", { want: "a list of words" });
  const counts = decodedArray(r, "counts", Uint16Array);
  const classIds = decodedArray(r, "classIds", Uint16Array);
  const values = decodedArray(r, "values", Float64Array);
  if (counts.length !== words.length) {
    throw r.errorAt("counts", `${counts.length} counts for ${words.length} words`);
  }
  const pairs = counts.reduce((sum, n) => sum + n, 0);
  if (classIds.length !== pairs) {
    throw r.errorAt(
      "classIds",
      `${classIds.length} class indices for ${pairs} pairs (the counts' sum)`,
    );
  }
  if (values.length !== PER_PAIR * pairs) {
    throw r.errorAt("values", `${values.length} values for ${pairs} pairs (${PER_PAIR} each)`);
  }
  const badClass = classIds.findIndex((c) => c >= classes.length);
  if (badClass >= 0) {
    throw r.errorAt(
      "classIds",
      `class index ${classIds[badClass]} (pair ${badClass}) is not below ${classes.length}`,
    );
  }
  const badValue = values.findIndex((v) => !Number.isFinite(v));
  if (badValue >= 0) {
    throw r.errorAt("values", `value ${values[badValue]} (number ${badValue}) is not finite`);
  }
  if (new Set(words).size !== words.length) r.fail("words", "a list of distinct words");
  return { classes, words: new PackedWordTable(classes, words, counts, classIds, values) };
}

/** A typed array from field `key`'s base64 of its little-endian bytes. */
export function decodedArray<T extends Uint16Array | Float64Array>(
  r: JsonFields,
  key: string,
  Kind: { new (b: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
): T {
  const text = r.string(key, { empty: true, want: "base64" });
  const bytes = Buffer.from(text, "base64");
  if (bytes.length % Kind.BYTES_PER_ELEMENT !== 0 || bytes.toString("base64") !== text) {
    r.fail(key, `base64 of ${Kind.BYTES_PER_ELEMENT}-byte values`, `${bytes.length} bytes`);
  }
  // A copy: the decoded bytes may not start at an offset the typed array can view.
  return new Kind(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The base64 of a typed array's little-endian bytes. */
export function base64Of(a: Uint16Array | Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

/** The table of a packed association; a word's row is made on its first lookup. */
class PackedWordTable implements WordTable {
  /** Each word's first pair and its number of pairs. */
  private readonly spans = new Map<string, { readonly at: number; readonly n: number }>();
  private readonly made = new Map<string, ReadonlyMap<string, AssociationEntry>>();

  constructor(
    private readonly classes: readonly string[],
    words: readonly string[],
    counts: Uint16Array,
    private readonly classIds: Uint16Array,
    private readonly values: Float64Array,
  ) {
    let at = 0;
    words.forEach((w, i) => {
      this.spans.set(w, { at, n: counts[i] });
      at += counts[i];
    });
  }

  get size(): number {
    return this.spans.size;
  }

  has(word: string): boolean {
    return this.spans.has(word);
  }

  get(word: string): ReadonlyMap<string, AssociationEntry> | undefined {
    const made = this.made.get(word);
    if (made) return made;
    const span = this.spans.get(word);
    if (!span) return undefined;
    const row = new Map<string, AssociationEntry>();
    for (let k = span.at; k < span.at + span.n; k++) {
      const v = PER_PAIR * k;
      row.set(this.classes[this.classIds[k]], {
        naming: this.values[v],
        lift: this.values[v + 1],
        given: this.values[v + 2],
      });
    }
    this.made.set(word, row);
    return row;
  }

  *[Symbol.iterator](): Iterator<readonly [string, ReadonlyMap<string, AssociationEntry>]> {
    for (const w of this.spans.keys()) yield [w, this.get(w)!];
  }
}
