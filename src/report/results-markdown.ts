/** One results section as a model command wrote it (e.g. docs/results/retrieval.md). */
export interface ResultsSection {
  /** The file's base name without `.md`: `retrieval`, `mrf`, `captions`, ... */
  readonly name: string;
  readonly markdown: string;
}

/** The sections docs/results.md leads with, in the paper's order, and the command making each. */
export const KNOWN_SECTIONS: readonly { readonly name: string; readonly madeBy: string }[] = [
  { name: "retrieval", madeBy: "imagesent eval-retrieval --markdown docs/results/retrieval.md" },
  { name: "mrf", madeBy: "imagesent mrf-grid --markdown docs/results/mrf.md" },
  {
    name: "grounding",
    madeBy: "imagesent eval-grounding --markdown docs/results/grounding.md",
  },
  { name: "captions", madeBy: "imagesent eval-gen --markdown docs/results/captions.md" },
  { name: "regions", madeBy: "imagesent eval-regions --markdown docs/results/regions.md" },
];

/** Turns a section's own headings one level deeper, so its title sits under the page's. */
function demoteHeadings(markdown: string): string {
  let fenced = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (line.startsWith("```")) fenced = !fenced;
      return !fenced && /^#{1,5} /.test(line) ? `#${line}` : line;
    })
    .join("\n");
}

function titleOf(section: ResultsSection): string {
  const heading = section.markdown.split("\n").find((line) => line.startsWith("# "));
  return heading ? heading.slice(2).trim() : section.name;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function anchorOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/**
 * docs/results.md: the known sections in order, then any others by name, each under a contents
 * line; sections not produced yet are listed with the command that makes them.
 */
export function resultsMarkdown(sections: readonly ResultsSection[], command: string): string {
  const order = (s: ResultsSection) => {
    const i = KNOWN_SECTIONS.findIndex((k) => k.name === s.name);
    return i === -1 ? KNOWN_SECTIONS.length : i;
  };
  const sorted = [...sections].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  const missing = KNOWN_SECTIONS.filter((k) => !sections.some((s) => s.name === k.name));
  const lines = [
    "# Results",
    "",
    `Assembled by \`${command}\` from the sections under docs/results/, each written by the ` +
      "command named in it; `scripts/reproduce-flickr8k.sh` reruns them all on Flickr8k.",
    "",
    ...sorted.map((s) => `- [${titleOf(s)}](#${anchorOf(titleOf(s))})`),
  ];
  if (missing.length > 0) {
    lines.push("", "Not produced yet:", "", ...missing.map((k) => `- ${k.name}: \`${k.madeBy}\``));
  }
  for (const s of sorted) lines.push("", demoteHeadings(s.markdown.trim()));
  return `${lines.join("\n")}\n`;
}
