import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { InputError } from "../../errors.js";
import { type ResultsSection, resultsMarkdown } from "../../report/results-markdown.js";
import type { Command } from "../command.js";
import { parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

const DEFAULT_SECTIONS = "docs/results";
const DEFAULT_PAGE = "docs/results.md";

const USAGE = renderHelp({
  usage: ["results [--sections DIR] [--out FILE]"],
  description: `Assembles the results page from the sections the model commands write
    (eval-retrieval, mrf-grid and eval-gen with --markdown): retrieval, phrase alignment and
    captions first, then any other section by name, under a list of contents; sections not made
    yet are named with the command that makes them.`,
  flags: [
    { flag: "--sections DIR", text: "folder of section files", default: DEFAULT_SECTIONS },
    { flag: "--out FILE", text: "the page", default: DEFAULT_PAGE },
  ],
  examples: ["results", "results --sections runs/flickr8k/results --out runs/flickr8k/results.md"],
});

export const resultsCommand: Command = {
  name: "results",
  usage: USAGE,
  run(args) {
    const values = parseCommandArgs(
      args,
      { sections: { type: "string" }, out: { type: "string" } },
      USAGE,
      { positionals: false },
    ).values as { sections?: string; out?: string };
    const dir = values.sections ?? DEFAULT_SECTIONS;
    const out = values.out ?? DEFAULT_PAGE;
    if (!existsSync(dir)) throw new InputError(`${dir}: no such folder of results sections`);
    const sections: ResultsSection[] = readdirSync(dir)
      .filter((f) => f.endsWith(".md"))
      .map((f) => ({ name: f.slice(0, -3), markdown: readFileSync(join(dir, f), "utf8") }));
    if (sections.length === 0) throw new InputError(`${dir}: holds no .md sections`);
    writeFileAtomic(out, resultsMarkdown(sections, ["imagesent results", ...args].join(" ")));
    console.log(`wrote ${out} (${sections.map((s) => s.name).join(", ")})`);
    return 0;
  },
};
