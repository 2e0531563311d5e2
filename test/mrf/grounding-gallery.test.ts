import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { AlignmentModel } from "../../src/align/model.js";
import { loadDataset } from "../../src/data/load.js";
import { tokenize } from "../../src/data/tokenizer.js";
import { mrfSpanRegion } from "../../src/mrf/grounding-eval.js";
import { groundingView } from "../../src/mrf/grounding-gallery.js";
import {
  fitGroundingKnowledge,
  type GroundingKnowledge,
  saveGroundingKnowledge,
} from "../../src/mrf/grounding-knowledge.js";
import { alignScored, scoreSentence } from "../../src/mrf/phrase-alignment.js";
import {
  columnSums,
  groundPhrases,
  groundSpans,
  learnedRegion,
} from "../../src/mrf/phrase-grounding.js";
import { namesPlace } from "../../src/mrf/place-phrases.js";
import { probeScores } from "../../src/mrf/word-probe.js";
import { iou } from "../../src/vision/boxes.js";
import { FeatureStore, type StoredImage } from "../../src/vision/feature-store.js";
import type { Box, Region } from "../../src/vision/image.js";
import { assertClearError, runCli } from "../support/cli-run.js";
import { tinyAlignmentModel } from "../support/tiny-alignment-model.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-grounding-gallery-"));
after(() => rmSync(root, { recursive: true, force: true }));

const box = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });
const annotation = (objects: string) =>
  `<annotation>\n<size><width>200</width><height>100</height><depth>3</depth></size>\n${objects}</annotation>`;
const boxObject = (chain: number, [x1, y1, x2, y2]: number[]) =>
  `<object><name>${chain}</name><bndbox><xmin>${x1}</xmin><ymin>${y1}</ymin><xmax>${x2}</xmax><ymax>${y2}</ymax></bndbox></object>\n`;

/** The dog's true box once scaled from 200 x 100 to the stored 100 x 50: its detection's. */
const DOG = box(10, 10, 50, 40);
const WHOLE = box(0, 0, 100, 50);

/**
 * Two val images stored at 100 x 50 and annotated at 200 x 100, as eval-grounding's test has
 * them: 1000's "A dog" is exactly its dog detection (chain 2, "the beach", has no box; "today"
 * is notvisual), 2000's "The beach" is the whole image. 3000 is a train image with no annotation.
 * The image files are a few bytes each: the page embeds them without decoding.
 */
function writeData() {
  const dataset = join(root, "flickr8k");
  mkdirSync(dataset);
  writeFileSync(
    join(dataset, "Flickr8k.token.txt"),
    [
      "1000_ab.jpg#0\tA dog runs on the beach today .",
      "2000_cd.jpg#0\tThe beach .",
      "3000_ef.jpg#0\tA ball .",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dataset, "Flickr_8k.trainImages.txt"), "3000_ef.jpg\n");
  writeFileSync(join(dataset, "Flickr_8k.devImages.txt"), "1000_ab.jpg\n2000_cd.jpg\n");
  writeFileSync(join(dataset, "Flickr_8k.testImages.txt"), "");
  const entities = join(root, "entities");
  mkdirSync(join(entities, "Annotations"), { recursive: true });
  mkdirSync(join(entities, "Sentences"));
  writeFileSync(
    join(entities, "Annotations", "1000.xml"),
    annotation(
      `${boxObject(1, [21, 21, 100, 80])}<object><name>2</name><scene>1</scene><nobndbox>1</nobndbox></object>\n`,
    ),
  );
  writeFileSync(
    join(entities, "Sentences", "1000.txt"),
    "[/EN#1/animals A dog] runs on [/EN#2/scene the beach] [/EN#0/notvisual today] .\n",
  );
  writeFileSync(
    join(entities, "Annotations", "2000.xml"),
    annotation(boxObject(3, [1, 1, 200, 100])),
  );
  writeFileSync(join(entities, "Sentences", "2000.txt"), "[/EN#3/scene The beach] .\n");
  const images = join(root, "images");
  mkdirSync(images);
  for (const f of ["1000_ab.jpg", "2000_cd.jpg", "3000_ef.jpg"]) {
    writeFileSync(join(images, f), Buffer.from([0xff, 0xd8, 0xff]));
  }
  const features = join(root, "features");
  const store = FeatureStore.openForWriting(features, {
    encoder: "test",
    dim: 6,
    regionsPerImage: 3,
    detector: "test",
  });
  const whole: Region = { box: WHOLE, source: "whole" };
  const stored = (filename: string, id: number, regions: Region[]): StoredImage => ({
    filename,
    id,
    width: 100,
    height: 50,
    regions,
    features: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + id)),
  });
  const written = [
    stored("1000_ab.jpg", 1, [
      whole,
      { box: DOG, source: "detection", label: "dog", score: 0.9 },
      { box: box(50, 0, 100, 50), source: "fallback" },
    ]),
    stored("2000_cd.jpg", 2, [
      whole,
      { box: box(0, 0, 45, 50), source: "fallback" },
      { box: box(60, 0, 100, 50), source: "fallback" },
    ]),
  ];
  store.append(written);
  return { dataset, entities, images, features, stored: written };
}

let data: ReturnType<typeof writeData>;
let model: AlignmentModel;
let checkpoint: string;
let knowledge: GroundingKnowledge;
before(() => {
  data = writeData();
  model = tinyAlignmentModel(3);
  checkpoint = join(root, "model.ckpt");
  model.save(checkpoint);
  knowledge = fitGroundingKnowledge(
    loadDataset(data.dataset).images,
    FeatureStore.open(data.features),
    3,
  );
});

const base = () => [
  "show-alignment",
  "--model",
  checkpoint,
  "--features",
  data.features,
  "--images",
  data.images,
];
const gallery = (out: string, extra: string[] = []) => [
  ...base(),
  "--out",
  out,
  "--gallery",
  "2",
  "--split",
  "val",
  "--dataset",
  data.dataset,
  "--entities",
  data.entities,
  ...extra,
];

/** The page's figures, in order. */
function figures(html: string): string[] {
  return html.split("<figure>").slice(1);
}

/** The stroke colour of region r's solid box in a figure. */
function regionColour(figure: string, r: number): string | undefined {
  return new RegExp(`<g class="region" data-region="${r}"><rect [^>]*stroke="([^"]+)"`).exec(
    figure,
  )?.[1];
}

test("--entities draws each annotated phrase's true box dashed in its region's colour, marked as the protocol says", async () => {
  const out = join(root, "pages", "mrf.html");
  const r = await runCli(gallery(out));
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, "utf8");
  const [dog, beach] = figures(html);
  assert.equal(figures(html).length, 2);
  // "a dog" (tokens 0..2) only: the beach of 1000 has no box and "today" is notvisual. Its box,
  // scaled to 100 x 50 and drawn at 360 px (x 3.6), is the dog detection's.
  assert.equal((dog.match(/class="truth"/g) ?? []).length, 1);
  const truth =
    /<rect x="36\.0" y="36\.0" width="144\.0" height="108\.0" fill="none" class="truth" data-start="0" data-end="2" stroke="([^"]+)" stroke-width="2" stroke-dasharray="6 4"\/>/.exec(
      dog,
    );
  assert.ok(truth, dog);

  // The MRF puts "a dog" where its last known word went; it is right only on the detection.
  const tokens = tokenize("A dog runs on the beach today .");
  const stored = data.stored[0];
  const scores = scoreSentence(model, stored.features, tokens);
  const segments = alignScored(scores, 1);
  const region = segments.find((s) => s.start <= 1 && 1 < s.end)!.region;
  assert.equal(truth[1], regionColour(dog, region));
  assert.match(dog, region === 1 ? /class="mark right"/ : /class="mark wrong"/);
  assert.match(
    dog,
    new RegExp(`on their true box \\(IoU &#62;= 0\\.5\\): ${region === 1 ? 1 : 0}/1`),
  );
  // Every token is in the sentence, the notvisual "today" too.
  assert.match(dog, /today/);
  assert.equal((beach.match(/class="truth"/g) ?? []).length, 1);
  assert.match(html, /On this page: \d\/2 \(\d+%\)/);
});

test("--grounding puts each annotated phrase on learnedRegion's region; both are right here", async () => {
  const out = join(root, "pages", "learned.html");
  const r = await runCli(gallery(out, ["--grounding", "fit"]));
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, "utf8");
  const cases = [
    {
      figure: figures(html)[0],
      stored: data.stored[0],
      text: "a dog",
      raw: "A dog runs on the beach today .",
    },
    { figure: figures(html)[1], stored: data.stored[1], text: "the beach", raw: "The beach ." },
  ];
  for (const c of cases) {
    const tokens = tokenize(c.raw);
    const { matrix, positions } = scoreSentence(model, c.stored.features, tokens);
    const columns = positions.flatMap((p, t) => (p < 2 ? [t] : []));
    const expected = learnedRegion(
      c.stored.regions,
      columnSums(matrix.scores, matrix.regions, matrix.words, columns),
      knowledge.probe
        ? probeScores(
            knowledge.probe,
            c.stored.features,
            c.stored.regions.length,
            tokens.slice(0, 2),
          )
        : null,
      tokens.slice(0, 2),
      false,
      knowledge.association,
    );
    assert.match(
      c.figure,
      new RegExp(`<span class="phrase" data-region="${expected}"[^>]*>${c.text}<sub>`),
    );
    assert.equal(
      /class="truth" [^>]*stroke="([^"]+)"/.exec(c.figure)?.[1],
      regionColour(c.figure, expected),
    );
    assert.match(c.figure, /<span class="mark right"/);
  }
  // The dog on its detection, the beach on the whole image: 2 of 2, and the chooser is named.
  assert.match(cases[0].figure, /data-region="1"/);
  assert.match(cases[1].figure, /data-region="0"/);
  assert.match(html, /On this page: 2\/2 \(100%\)/);
  assert.match(
    html,
    /learned chooser \(fitted on flickr8k&#39;s train split\) on each annotated phrase/,
  );
});

test("--grounding FILE without --entities grounds a sentence's noun phrases as groundPhrases does", async () => {
  const file = join(root, "grounding.json");
  saveGroundingKnowledge(file, knowledge);
  const out = join(root, "pages", "noun.html");
  const sentence = "a red dog runs on the beach";
  const r = await runCli([...base(), "--out", out, "--grounding", file, "1000_ab.jpg", sentence]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, "utf8");
  const tokens = tokenize(sentence);
  const stored = data.stored[0];
  const grounded = groundPhrases(
    tokens,
    stored.regions,
    scoreSentence(model, stored.features, tokens),
    knowledge,
    stored.features,
  );
  assert.ok(grounded.length >= 2);
  const drawn = [
    ...html.matchAll(/<span class="phrase" data-region="(\d+)"[^>]*>([^<]+)<sub>([^<]+)</g),
  ];
  assert.deepEqual(
    drawn.map((m) => [Number(m[1]), m[2], m[3]]),
    grounded.map((g) => [
      g.region,
      tokens.slice(g.start, g.end).join(" "),
      g.confidence.toFixed(2),
    ]),
  );
  assert.doesNotMatch(html, /class="truth"|class="mark/);
  assert.match(html, /learned chooser \(grounding\.json\) on each noun phrase/);
});

test("show-alignment refuses flags that do not go together, and images without annotation", async () => {
  const out = join(root, "pages", "x.html");
  assertClearError(
    await runCli([...base(), "--out", out, "--entities", data.entities, "1000_ab.jpg", "a dog"]),
    "--entities needs --gallery N and --dataset D",
    "no gallery",
  );
  assertClearError(
    await runCli(gallery(out, ["--grounding", "fit", "--beta", "0"])),
    "--beta applies to the chain MRF, not to --grounding",
    "beta",
  );
  assertClearError(
    await runCli([...base(), "--out", out, "--grounding", "fit", "1000_ab.jpg", "a dog"]),
    "--grounding fit needs --dataset D",
    "fit without data",
  );
  assertClearError(
    await runCli(gallery(out, ["--split", "train"])),
    /has no annotation of 3000_ef\.jpg \(1 of the 1 train images shown\)/,
    "missing annotation",
  );
  assertClearError(
    await runCli(gallery(out, ["--grounding", join(root, "absent.json")])),
    /absent\.json: cannot read/,
    "absent grounding file",
  );
});

test("groundSpans is learnedRegion on each span, and on the noun phrases it is groundPhrases", () => {
  const stored = data.stored[0];
  const tokens = tokenize("a red dog runs on the beach");
  const scores = scoreSentence(model, stored.features, tokens);
  const nouns = groundPhrases(tokens, stored.regions, scores, knowledge, stored.features);
  assert.deepEqual(
    groundSpans(tokens, stored.regions, scores, nouns, knowledge, stored.features),
    nouns,
  );
  const spans = [
    { start: 1, end: 3 },
    { start: 5, end: 7 },
  ];
  groundSpans(tokens, stored.regions, scores, spans, knowledge, stored.features).forEach((g, k) => {
    const { matrix, positions } = scores;
    const columns = positions.flatMap((p, t) =>
      p >= spans[k].start && p < spans[k].end ? [t] : [],
    );
    assert.equal(
      g.region,
      learnedRegion(
        stored.regions,
        columnSums(matrix.scores, matrix.regions, matrix.words, columns),
        knowledge.probe
          ? probeScores(
              knowledge.probe,
              stored.features,
              stored.regions.length,
              tokens.slice(spans[k].start, spans[k].end),
            )
          : null,
        tokens.slice(spans[k].start, spans[k].end),
        namesPlace(
          knowledge,
          tokens.slice(spans[k].start, spans[k].end),
          tokens[spans[k].start - 1],
        ),
        knowledge.association,
      ),
    );
    assert.ok(g.confidence >= 0);
  });
});

test("mrfSpanRegion takes the segment of the span's last known word, else the whole image", () => {
  const regions: Region[] = [
    { box: DOG, source: "detection" },
    { box: WHOLE, source: "whole" },
  ];
  const segments = [
    { start: 0, end: 2, region: 0, score: 1 },
    { start: 2, end: 4, region: 1, score: 1 },
  ];
  // Tokens 0..4 known, token 4 unknown.
  const positions = [0, 1, 2, 3];
  assert.equal(mrfSpanRegion(segments, positions, regions, 0, 2), 0);
  assert.equal(mrfSpanRegion(segments, positions, regions, 1, 3), 1);
  assert.equal(mrfSpanRegion(segments, positions, regions, 1, 5), 1);
  assert.equal(
    mrfSpanRegion(segments, positions, regions, 4, 5),
    1,
    "no known word: the whole image",
  );
  const noWhole = regions.map((r) => ({ ...r, source: "fallback" as const }));
  assert.equal(mrfSpanRegion([], [], noWhole, 0, 1), 1, "no whole region: the largest");
});

test("groundingView marks each annotated phrase by IoU >= 0.5 with its chosen region's box", () => {
  const stored = data.stored[0];
  const tokens = tokenize("A dog runs on the beach today .");
  const near = box(12, 12, 50, 40);
  const far = box(60, 0, 100, 50);
  const view = groundingView(
    model,
    stored,
    join(data.images, stored.filename),
    tokens,
    { kind: "learned", knowledge },
    [
      { start: 0, end: 2, types: ["animals"], truth: near },
      { start: 4, end: 6, types: ["scene"], truth: far },
    ],
  );
  const regions = view.truthPhrases!.map((p) => p.region);
  // The dog on its detection (IoU 0.89 with `near`); the beach, after "on", on the whole image
  // (IoU 0.4 with `far`).
  assert.deepEqual(regions, [1, 0]);
  assert.deepEqual(
    view.truthPhrases!.map((p) => p.right),
    regions.map((r, k) => iou(stored.regions[r].box, [near, far][k]) >= 0.5),
  );
  assert.deepEqual(
    view.segments.map((s) => [s.start, s.end, s.region]),
    [
      [0, 2, regions[0]],
      [4, 6, regions[1]],
    ],
  );
  const right = view.truthPhrases!.filter((p) => p.right).length;
  assert.equal(
    view.note,
    `annotated phrases on their true box (IoU >= 0.5): ${right}/2 (${(50 * right).toFixed(0)}%)`,
  );
});
