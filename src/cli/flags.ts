import { type ParseArgsConfig, parseArgs } from "node:util";
import { InputError } from "../errors.js";
import { describeNumber, inRange, type NumberRange, plural, shown } from "../json-fields.js";

type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * `node:util` parseArgs, strict, where a bad flag is an InputError in imagesent's words (see
 * {@link flagError}). A command that takes flags only passes `{ positionals: false }`, and a stray
 * argument is refused as such.
 */
export function parseCommandArgs(
  args: string[],
  options: FlagOptions,
  usage: string,
  { positionals: allowPositionals = true }: { positionals?: boolean } = {},
): { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals,
      strict: true,
    });
    return {
      values: values as Record<string, string | string[] | boolean | undefined>,
      positionals,
    };
  } catch (err) {
    throw flagError(err, options, usage);
  }
}

/**
 * Turns an error thrown by `node:util` parseArgs into one line for the user: the flag at fault,
 * the nearest known flag for a mistyped one, and where the command's help is (the command is read
 * from the first line of `usage`, "usage: imagesent CMD ..."). Any other error is returned as is.
 */
export function flagError(err: unknown, options: FlagOptions, usage: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS_")) return err;
  const message = (err as Error).message;
  const command = /^usage: (imagesent(?: [a-z][a-z-]*)+)/.exec(usage)?.[1];
  const help = command ? `; see ${command} --help` : "";
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const known = Object.entries(options).flatMap(([name, o]) => [
        `--${name}`,
        ...(o.short ? [`-${o.short}`] : []),
      ]);
      const near = closest(quoted, known);
      return new InputError(
        `unknown flag ${quoted}${near ? ` (did you mean ${near}?)` : ""}${help}`,
      );
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // parseArgs names the option as "--name", "-n, --name" or "-n, --name <value>".
      const flag = /--[^\s',]+/.exec(message)?.[0] ?? quoted;
      if (/does not take an argument/.test(message)) {
        return new InputError(`${flag} takes no value${help}`);
      }
      if (/ambiguous/.test(message)) {
        return new InputError(
          `${flag}: a value starting with '-' must be written ${flag}=VALUE${help}`,
        );
      }
      return new InputError(`${flag} needs a value${help}`);
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new InputError(
        `unexpected argument '${quoted}' (this command takes flags only)${help}`,
      );
    default:
      return new InputError(`${message}${help}`);
  }
}

/**
 * The candidate nearest to a mistyped `word`, for "did you mean": within an edit distance of
 * about a third of its length (adjacent letters swapped count as one edit), or the only one that
 * `word` is the start of; undefined when none is near enough.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  // A name of one or two letters is near every other short name, so it gets no edit-distance guess.
  const bare = word.replace(/^-+/, "");
  const limit = bare.length < 3 ? 0 : Math.max(1, Math.floor(bare.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  if (bare.length < 2) return undefined;
  const prefixed = candidates.filter((c) => c.startsWith(word));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** How a flag's number is written: decimal digits for an integer, a plain decimal otherwise. */
const INTEGER_TEXT = /^-?[0-9]+$/;
const NUMBER_TEXT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

/**
 * The one validator of numeric flags: `value` as a number within `range`, written in decimal (an
 * integer in digits only: not "1e1", "7.0", "0x10" or " 7"; a real not Infinity, NaN or hex).
 * Absent (undefined) stays undefined, so a caller writes `numberFlag(...) ?? DEFAULT`. `flag`
 * (e.g. "--limit") names it in the error, which says the range: `--beam: expected an integer
 * from 1 to 100, got "101"`.
 */
export function numberFlag(value: string, flag: string, range?: NumberRange): number;
export function numberFlag(
  value: string | undefined,
  flag: string,
  range?: NumberRange,
): number | undefined;
export function numberFlag(
  value: string | undefined,
  flag: string,
  range: NumberRange = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = readNumber(value, range);
  if (n === undefined) {
    throw new InputError(`${flag}: expected ${describeNumber(range)}, got ${shown(value)}`);
  }
  return n;
}

/** A comma-separated list of numbers, each checked as {@link numberFlag} does. */
export function numberListFlag(value: string, flag: string, range?: NumberRange): number[];
export function numberListFlag(
  value: string | undefined,
  flag: string,
  range?: NumberRange,
): number[] | undefined;
export function numberListFlag(
  value: string | undefined,
  flag: string,
  range: NumberRange = {},
): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((item) => {
    const n = readNumber(item.trim(), range);
    if (n === undefined) {
      const what = plural(describeNumber(range));
      throw new InputError(
        `${flag}: expected comma-separated ${what}, got ${shown(item.trim())} in ${shown(value)}`,
      );
    }
    return n;
  });
}

/** `text` as a number within `range`, written as INTEGER_TEXT or NUMBER_TEXT says; else undefined. */
function readNumber(text: string, range: NumberRange): number | undefined {
  const n = Number(text);
  if (!(range.integer ? INTEGER_TEXT : NUMBER_TEXT).test(text) || !inRange(n, range)) {
    return undefined;
  }
  return n === 0 ? 0 : n;
}

/** A flag's value as a positive integer; `flag` (e.g. "--limit") names it in the error. */
export function positiveInt(value: string, flag: string): number {
  return numberFlag(value, flag, { integer: true, min: 1 });
}

/**
 * A flag's value as a positive integer of at most `max`, for flags that size work or memory
 * (beam widths, result counts, threads): a value past `max` is refused, not clamped.
 */
export function boundedInt(value: string, flag: string, max: number): number {
  return numberFlag(value, flag, { integer: true, min: 1, max });
}

/** A flag's value as a finite number >= `min`. */
export function finiteNumber(value: string, flag: string, min: number): number {
  return numberFlag(value, flag, { min });
}
