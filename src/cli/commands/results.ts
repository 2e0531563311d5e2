import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { InputError } from "../../errors.js";
import { type ResultsSection, resultsMarkdown } from "../../report/results-markdown.js";
import type { Command } from "../command.js";

const USAGE = `usage: imagesent results [--sections DIR] [--out FILE]

Assembles the results page from the sections the model commands write (eval-retrieval,
mrf-grid and eval-gen with --markdown): retrieval, phrase alignment and captions first, then
any other section by name, under a list of contents; sections not made yet are named with the
command that makes them.

  --sections DIR  folder of section files (default docs/results)
  --out FILE      the page (default docs/results.md)`;

export const resultsCommand: Command = {
  name: "results",
  summary: "assemble docs/results.md from the sections the evaluation commands write",
  usage: USAGE,
  run(args) {
    let values: { sections?: string; out?: string };
    try {
      ({ values } = parseArgs({
        args,
        options: { sections: { type: "string" }, out: { type: "string" } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new InputError(`${(err as Error).message}\n\n${USAGE}`);
    }
    const dir = values.sections ?? "docs/results";
    const out = values.out ?? "docs/results.md";
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
