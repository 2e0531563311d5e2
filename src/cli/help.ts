/** One row of a help page's table: a flag (or a positional argument) and what it does. */
export interface FlagHelp {
  /** As typed, with its value's name: "--limit N", "--json", "DATASET". */
  readonly flag: string;
  readonly text: string;
  /** What applies when the flag is absent, shown as "(default: ...)". */
  readonly default?: string | number;
}

/** What `imagesent COMMAND --help` prints, as data; {@link renderHelp} lays it out. */
export interface HelpPage {
  /** Usage lines after "imagesent ", the first one the command itself: "features --images DIR ...". */
  readonly usage: readonly string[];
  /** One paragraph: what the command does. */
  readonly description: string;
  /** The positional arguments, if any. */
  readonly args?: readonly FlagHelp[];
  readonly flags: readonly FlagHelp[];
  /** More tables in the flags' layout, each under its heading: the files a command writes, ... */
  readonly tables?: readonly { readonly heading: string; readonly rows: readonly FlagHelp[] }[];
  /** Paragraphs after the table (files the command holds, where models are found, ...). */
  readonly notes?: readonly string[];
  /** Command lines a user can copy, each written from "imagesent ...". */
  readonly examples: readonly string[];
}

/** Help pages wrap at this many columns. */
export const HELP_WIDTH = 100;

/** The flag column is at most this wide; a longer flag puts its text on the next line. */
const MAX_FLAG_COLUMN = 24;

/**
 * Lays out a help page, the same for every command:
 *
 *   usage: imagesent CMD ...
 *
 *   description paragraph
 *
 *   arguments:            (when it takes any)
 *   flags:                (one table: each flag, its text, "(default: ...)")
 *
 *   more tables           (say "writes:", laid out as the flags are)
 *
 *   notes paragraphs
 *
 *   examples:
 *     imagesent CMD ...
 *
 * Text given over several source lines is rewrapped, so a page is written without counting columns.
 */
export function renderHelp(page: HelpPage): string {
  const [first, ...more] = page.usage;
  if (first === undefined) throw new Error("a help page needs a usage line");
  const usage = [
    ...usageLines(`usage: imagesent ${first}`),
    ...more.flatMap((u) => usageLines(`       imagesent ${u}`)),
  ];
  const rows = [...(page.args ?? []), ...page.flags];
  const width = (group: readonly FlagHelp[]) =>
    Math.min(MAX_FLAG_COLUMN, Math.max(0, ...group.map((r) => r.flag.length)));
  const column = width(rows);
  // Arguments and flags share one column; another table has its own.
  const table = (heading: string, group: readonly FlagHelp[], at = column) =>
    group.length === 0 ? [] : ["", `${heading}:`, ...group.flatMap((r) => tableRow(r, at))];
  const sections = [
    usage.join("\n"),
    wrap(page.description, HELP_WIDTH).join("\n"),
    [...table("arguments", page.args ?? []), ...table("flags", page.flags)].slice(1).join("\n"),
    ...(page.tables ?? []).map((t) => table(t.heading, t.rows, width(t.rows)).slice(1).join("\n")),
    ...(page.notes ?? []).map((n) => wrap(n, HELP_WIDTH).join("\n")),
    ["examples:", ...page.examples.map((e) => `  imagesent ${e}`)].join("\n"),
  ];
  return sections.filter((s) => s !== "").join("\n\n");
}

const KEEP = "\u0000";

/**
 * A usage line wrapped at HELP_WIDTH, continued under the command's first argument; a bracketed
 * or quoted group ("[--split S]", "(--dataset D | --world W)"), or a flag and its value's name,
 * is never split.
 */
function usageLines(line: string): string[] {
  const words: string[] = line.trimStart().match(/(?:\[[^\]]*\]|\([^)]*\)|"[^"]*"|\S)+/g) ?? [];
  // A flag stays with its value's name: "--gallery N".
  const units = words.reduce<string[]>((out, w) => {
    const last = out[out.length - 1];
    if (last?.startsWith("-") && !last.includes(" ") && /^[A-Z]/.test(w))
      out[out.length - 1] += ` ${w}`;
    else out.push(w);
    return out;
  }, []);
  const lead = line.length - line.trimStart().length;
  // "usage: imagesent CMD" or "imagesent CMD": continuation lines start under what follows CMD.
  const head = units.indexOf("imagesent") + 2;
  const indent = " ".repeat(lead + units.slice(0, head).join(" ").length + 1);
  const lines: string[] = [];
  let current = " ".repeat(lead) + units.slice(0, head).join(" ");
  for (const unit of units.slice(head)) {
    if (current.length + 1 + unit.length > HELP_WIDTH && current.trim() !== "") {
      lines.push(current);
      current = indent + unit;
    } else current += ` ${unit}`;
  }
  lines.push(current);
  return lines;
}

/** One flag's lines: the flag padded to `column`, its text (and default) wrapped beside it. */
function tableRow(row: FlagHelp, column: number): string[] {
  const indent = 2 + column + 2;
  // A default is kept on one line where it fits one: its spaces are held through the wrap.
  const said = row.default === undefined ? "" : ` (default: ${row.default})`;
  const held = said.length < HELP_WIDTH - indent ? said.replace(/ /g, KEEP) : said;
  const lines = wrap(`${row.text}${held.replace(KEEP, " ")}`, HELP_WIDTH - indent).map((l) =>
    l.replaceAll(KEEP, " "),
  );
  const pad = " ".repeat(indent);
  if (row.flag.length > column) {
    return [`  ${row.flag}`, ...lines.map((l) => pad + l)];
  }
  return lines.map((l, i) => (i === 0 ? `  ${row.flag.padEnd(column)}  ${l}` : pad + l));
}

/** `text`'s words (any whitespace between them) in lines of at most `width` columns. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
