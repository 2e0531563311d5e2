import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import { Describer } from "../../../src/app/describer.js";
import { writeBundle } from "../../../src/app/model-bundle.js";
import { PIXEL_STATS_SETUP } from "../../../src/app/vision-setup.js";
import { type TrainedWorld, trainedWorld } from "../../app/fixtures.js";
import { assertClearError, runCli } from "../../support/cli-run.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-eval-regions-"));
after(() => rmSync(root, { recursive: true, force: true }));

type Rgb = [number, number, number];
const RED: Rgb = [220, 30, 30];
const BLUE: Rgb = [30, 40, 220];
const GREEN: Rgb = [30, 200, 40];
const YELLOW: Rgb = [230, 220, 30];

/** A 100 x 50 JPEG: its left half one colour, its right half another. */
async function halves(path: string, left: Rgb, right: Rgb): Promise<void> {
  const data = Buffer.alloc(100 * 50 * 3);
  for (let y = 0; y < 50; y++) {
    for (let x = 0; x < 100; x++) data.set(x < 50 ? left : right, (y * 100 + x) * 3);
  }
  await sharp(data, { raw: { width: 100, height: 50, channels: 3 } })
    .jpeg({ quality: 95 })
    .toFile(path);
}

/** An annotation at `scale` x the file's 100 x 50: chain 1 the left half, chain 2 the right. */
function annotation(scale: number): string {
  const box = (chain: number, x1: number, x2: number) =>
    `<object><name>${chain}</name><bndbox><xmin>${x1 * scale + 1}</xmin><ymin>1</ymin>` +
    `<xmax>${x2 * scale}</xmax><ymax>${50 * scale}</ymax></bndbox></object>\n`;
  return (
    `<annotation>\n<size><width>${100 * scale}</width><height>${50 * scale}</height><depth>3</depth></size>\n` +
    `${box(1, 0, 50)}${box(2, 50, 100)}<object><name>3</name><nobndbox>1</nobndbox></object>\n</annotation>\n`
  );
}

interface Data {
  readonly dataset: string;
  readonly images: string;
  readonly entities: string;
}

/**
 * Two train images (red | blue, green | yellow), annotated at their own size, and two val
 * images (green | blue), annotated at 4x theirs, so their boxes must be scaled to be the halves.
 * Each half is an entity named by its colour; val chain 1 is named twice, chain 3 has no box.
 */
async function writeData(): Promise<Data> {
  const dataset = join(root, "flickr8k");
  const images = join(root, "images");
  const entities = join(root, "entities");
  for (const d of [dataset, images, join(entities, "Annotations"), join(entities, "Sentences")]) {
    mkdirSync(d, { recursive: true });
  }
  const all = [
    { file: "1000_aa.jpg", id: "1000", colours: [RED, BLUE], names: ["red", "blue"], scale: 1 },
    {
      file: "1001_ab.jpg",
      id: "1001",
      colours: [GREEN, YELLOW],
      names: ["green", "yellow"],
      scale: 1,
    },
    { file: "2000_ba.jpg", id: "2000", colours: [GREEN, BLUE], names: ["green", "blue"], scale: 4 },
    { file: "2001_bb.jpg", id: "2001", colours: [GREEN, BLUE], names: ["green", "blue"], scale: 4 },
  ];
  for (const im of all) {
    await halves(join(images, im.file), im.colours[0] as Rgb, im.colours[1] as Rgb);
    writeFileSync(join(entities, "Annotations", `${im.id}.xml`), annotation(im.scale));
    const [a, b] = im.names;
    writeFileSync(
      join(entities, "Sentences", `${im.id}.txt`),
      `[/EN#1/other a ${a} square] beside [/EN#2/other a ${b} square] in [/EN#3/scene the frame] .\n` +
        `[/EN#1/other a ${a} square] [/EN#0/notvisual today] .\n`,
    );
  }
  writeFileSync(
    join(dataset, "Flickr8k.token.txt"),
    `${all.map((im) => `${im.file}#0\ta ${im.names[0]} square beside a ${im.names[1]} square .`).join("\n")}\n`,
  );
  writeFileSync(join(dataset, "Flickr_8k.trainImages.txt"), "1000_aa.jpg\n1001_ab.jpg\n");
  writeFileSync(join(dataset, "Flickr_8k.devImages.txt"), "2000_ba.jpg\n2001_bb.jpg\n");
  writeFileSync(join(dataset, "Flickr_8k.testImages.txt"), "");
  return { dataset, images, entities };
}

let data: Data;
let world: TrainedWorld;
before(async () => {
  data = await writeData();
  world = await trainedWorld(join(root, "world"), { images: 40 });
});

const args = (extra: string[] = [], over: Partial<Data & { bundle: string }> = {}) => [
  "eval-regions",
  "--bundle",
  over.bundle ?? world.bundleDir,
  "--dataset",
  over.dataset ?? data.dataset,
  "--images",
  over.images ?? data.images,
  "--entities",
  over.entities ?? data.entities,
  ...extra,
];

interface Row {
  kind: string;
  regions: number;
  metrics: Record<string, number>;
}

test("eval-regions describes each val entity's box as describe would and scores every row", async () => {
  const r = await runCli(args(["--json"]));
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.split, "val");
  assert.equal(json.images, 2);
  // Chains 1 and 2 of each val image; chain 3 has no box.
  assert.equal(json.regions, 4);
  assert.equal(json.poolRegions, 4);
  const rows = new Map<string, Row>(json.rows.map((row: Row) => [row.kind, row]));
  assert.deepEqual([...rows.keys()], ["region", "fullframe", "nearest", "human"]);
  for (const row of rows.values()) {
    for (const v of Object.values(row.metrics)) assert.ok(v >= 0 && v <= 10, `${row.kind}: ${v}`);
  }
  // The nearest train region of each scaled half is the half of its colour at the same place:
  // green left (of green | yellow), blue right (of red | blue); their phrases are the references.
  assert.deepEqual(
    json.samples.map((s: { phrases: { nearest: string } }) => s.phrases.nearest),
    ["a green square", "a blue square", "a green square", "a blue square"],
  );
  const close = (x: number, y: number, what: string) =>
    assert.ok(Math.abs(x - y) < 1e-6, `${what}: ${x}, expected ${y}`);
  close(rows.get("nearest")!.metrics.bleu1, 1, "nearest BLEU-1");
  // Three-word phrases have no 4-grams, so BLEU-3 is the longest that counts.
  close(rows.get("nearest")!.metrics.bleu3, 1, "nearest BLEU-3");
  // The human row: chain 1's first phrase against its second, in the two val images.
  assert.equal(rows.get("human")!.regions, 2);
  close(rows.get("human")!.metrics.bleu1, 1, "human BLEU-1");
  assert.deepEqual(json.samples[0].references, ["a green square", "a green square"]);
  assert.deepEqual(json.samples[1].references, ["a blue square"]);

  // The region generator's phrases are describe's for the same boxes in the file's pixels.
  const describer = await Describer.load(world.bundleDir);
  try {
    const d = await describer.describe(join(data.images, "2000_ba.jpg"), {
      regions: [
        { box: { x1: 0, y1: 0, x2: 100, y2: 50 }, source: "whole" },
        { box: { x1: 0, y1: 0, x2: 50, y2: 50 }, source: "detection" },
        { box: { x1: 50, y1: 0, x2: 100, y2: 50 }, source: "detection" },
      ],
    });
    assert.deepEqual(
      json.samples.slice(0, 2).map((s: { phrases: { region: string } }) => s.phrases.region),
      d.regions.map((x) => x.caption),
    );
  } finally {
    await describer.close();
  }
});

test("eval-regions --limit, --nn-images 0 and --markdown", async () => {
  const md = join(root, "out", "regions.md");
  const r = await runCli(args(["--limit", "1", "--nn-images", "0", "--markdown", md]));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| ours: region generator \(beam 3, length norm 0\.5\) \| 2 \|/);
  assert.match(
    r.stdout,
    /\| ours: full-frame generator on the same crops \(beam 7, length norm 0\.7\) \| 2 \|/,
  );
  assert.doesNotMatch(r.stdout, /nearest neighbour among/);
  assert.match(
    r.stdout,
    /\| paper: region RNN \| 9,000 snippets \| 35\.2 \| 23\.0 \| 16\.1 \| 14\.8 \| 15\.8 \| 35\.1 \| 61\.6 \|/,
  );
  const text = readFileSync(md, "utf8");
  assert.match(text, /^# Region descriptions on Flickr30k Entities \(val split\)/);
  assert.match(text, /2 annotated entity regions of 1 val images/);
  assert.match(text, /no nearest-neighbour row/);
  assert.ok(
    text.includes(
      `imagesent eval-regions ${args(["--limit", "1", "--nn-images", "0", "--markdown", md]).slice(1).join(" ")}`,
    ),
  );
});

test("eval-regions --region-length-norm 0 ranks the region beam by logProb, as the row says", async () => {
  const ranked = async (extra: string[]) => {
    const r = await runCli(args(["--limit", "1", "--nn-images", "0", "--json", ...extra]));
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).rows[0].name as string;
  };
  assert.equal(await ranked(["--region-length-norm", "0"]), "region generator (beam 3)");
  assert.equal(
    await ranked(["--region-beam", "2", "--region-length-norm", "1.5"]),
    "region generator (beam 2, length norm 1.5)",
  );
  assertClearError(
    await runCli(args(["--region-length-norm=-1"])),
    '--region-length-norm: expected a number >= 0, got "-1"',
    "length norm",
  );
});

test("eval-regions --region-rerank reranks the region beam by the bundle's search models, as the row says", async () => {
  const run = async (extra: string[]) => {
    const r = await runCli(args(["--limit", "1", "--nn-images", "0", "--json", ...extra]));
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).rows[0] as { name: string; metrics: Record<string, number> };
  };
  const plain = await run(["--region-beam", "4"]);
  const zero = await run(["--region-beam", "4", "--region-rerank", "0"]);
  assert.equal(zero.name, "region generator (beam 4, length norm 0.5)");
  assert.deepEqual(zero.metrics, plain.metrics, "weight 0 is no reranking");
  // Without --region-beam a rerank widens the beam to DEFAULT_REGION_RERANK's, as describe's does.
  assert.equal(
    (await run(["--region-rerank", "2.5"])).name,
    "region generator (beam 10, length norm 0.5, reranked by the alignment models at 2.5)",
  );
  assertClearError(
    await runCli(args(["--region-rerank=-1"])),
    '--region-rerank: expected a number >= 0, got "-1"',
    "rerank weight",
  );
  assertClearError(
    await runCli(args(["--region-consensus", "0.5"])),
    /--region-consensus: .* has no snippet consensus \(regionConsensus\)/,
    "consensus without one",
  );
  assert.equal(
    (await run(["--region-beam", "4", "--region-consensus", "0"])).name,
    "region generator (beam 4, length norm 0.5)",
    "weight 0 is no consensus, with or without one in the bundle",
  );
});

test("eval-regions refuses missing folders, malformed files and bundles without a region generator", async () => {
  assertClearError(
    await runCli(args([], { images: join(root, "nowhere") })),
    /--images: .*nowhere is not a folder/,
    "images",
  );
  assertClearError(
    await runCli(args([], { entities: join(root, "nowhere") })),
    /nowhere: not a Flickr30k Entities folder \(no Annotations\/\)/,
    "entities",
  );
  // An image file missing from the folder is named before anything is cropped.
  const fewer = join(root, "fewer-images");
  cpSync(data.images, fewer, { recursive: true });
  rmSync(join(fewer, "2001_bb.jpg"));
  assertClearError(
    await runCli(args([], { images: fewer })),
    /fewer-images: lacks 1 of the 2 images \(e\.g\. 2001_bb\.jpg\)/,
    "file",
  );
  // Annotations for only some of the split's images.
  const partial = join(root, "partial-entities");
  cpSync(data.entities, partial, { recursive: true });
  rmSync(join(partial, "Annotations", "2001.xml"));
  assertClearError(
    await runCli(args([], { entities: partial })),
    /lacks the annotations of 1 of the 2 val images \(e\.g\. 2001_bb\.jpg\)/,
    "partial",
  );
  const txt = join(partial, "Sentences", "2000.txt");
  const good = readFileSync(txt, "utf8");
  writeFileSync(txt, "[/EN#1/other a green square .\n");
  assertClearError(
    await runCli(args([], { entities: partial })),
    `${txt}:1: expected a phrase`,
    "sentences",
  );
  writeFileSync(txt, good);
  const xml = join(partial, "Annotations", "2000.xml");
  writeFileSync(xml, annotation(4).replace("<xmax>200</xmax>", "<xmax>two hundred</xmax>"));
  assertClearError(await runCli(args([], { entities: partial })), `${xml}:3: <xmax>`, "xml");

  const plain = join(root, "plain-bundle");
  writeBundle(plain, {
    alignment: world.alignment,
    generator: world.generator,
    vision: PIXEL_STATS_SETUP,
  });
  assertClearError(
    await runCli(args([], { bundle: plain })),
    /plain-bundle: the bundle has no region generator/,
    "bundle",
  );
  assertClearError(
    await runCli(args(["--limit", "0"])),
    '--limit: expected a positive integer, got "0"',
    "limit",
  );
  assertClearError(
    await runCli(["eval-regions", "--bundle", world.bundleDir]),
    "--dataset is required",
    "flags",
  );
});
