import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { after } from "node:test";
import type { ImageEntry } from "../../src/data/dataset.js";
import {
  flickr30kIdOf,
  parseEntitySentence,
  readEntities,
  readEntityAnnotation,
  readEntitySentences,
  scaleEntityBox,
} from "../../src/data/flickr30k-entities.js";
import { loadDataset } from "../../src/data/load.js";
import { InputError } from "../../src/errors.js";
import { sharedDir, skipUnlessShared } from "../support/shared.js";

const root = mkdtempSync(join(tmpdir(), "imagesent-f30ke-"));
after(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

function file(name: string, text: string): string {
  const path = join(root, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}

function object(names: string[], inner: string): string {
  return `\t<object>\n${names.map((n) => `\t\t<name>${n}</name>\n`).join("")}${inner}\t</object>\n`;
}

function bndbox(xmin: number, ymin: number, xmax: number, ymax: number): string {
  return `\t\t<bndbox>\n\t\t\t<xmin>${xmin}</xmin>\n\t\t\t<ymin>${ymin}</ymin>\n\t\t\t<xmax>${xmax}</xmax>\n\t\t\t<ymax>${ymax}</ymax>\n\t\t</bndbox>\n`;
}

const flags = (scene: number, nobox: number) =>
  `\t\t<scene>${scene}</scene>\n\t\t<nobndbox>${nobox}</nobndbox>\n`;

function annotationXml(objects: string, size = "<width>200</width><height>100</height>"): string {
  return `<annotation>\n\t<filename>1.jpg</filename>\n\t<size>${size}<depth>3</depth></size>\n${objects}</annotation>`;
}

const XML = annotationXml(
  object(["5"], bndbox(21, 11, 100, 60)) +
    object(["5", "6"], bndbox(1, 1, 200, 100)) +
    object(["7"], flags(1, 0)) +
    object(["8"], flags(0, 1)),
);

test("reads the image size and each chain's boxes, 1-based inclusive to half-open from 0", () => {
  const a = readEntityAnnotation(file("a.xml", XML));
  assert.equal(a.width, 200);
  assert.equal(a.height, 100);
  // Pixel columns 21..100 (1-based) are [20, 100) from 0.
  assert.deepEqual(a.boxes.get("5"), [
    { x1: 20, y1: 10, x2: 100, y2: 60 },
    { x1: 0, y1: 0, x2: 200, y2: 100 },
  ]);
  // An object with two <name>s is a box of both chains.
  assert.deepEqual(a.boxes.get("6"), [{ x1: 0, y1: 0, x2: 200, y2: 100 }]);
  assert.deepEqual([...a.boxes.keys()].sort(), ["5", "6"]);
  assert.deepEqual([...a.scene], ["7"]);
  assert.deepEqual([...a.noBox], ["8"]);
});

test("scales a box from the annotated size to the stored image's pixels", () => {
  const from = { width: 375, height: 500 };
  const b = scaleEntityBox({ x1: 7, y1: 151, x2: 108, y2: 340 }, from, 224, 224);
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-9, `${x} vs ${y}`);
  close(b.x1, (7 * 224) / 375);
  close(b.y1, (151 * 224) / 500);
  close(b.x2, (108 * 224) / 375);
  close(b.y2, (340 * 224) / 500);
  // The whole annotated image maps onto the whole stored image.
  assert.deepEqual(scaleEntityBox({ x1: 0, y1: 0, x2: 375, y2: 500 }, from, 224, 224), {
    x1: 0,
    y1: 0,
    x2: 224,
    y2: 224,
  });
});

test("parses phrase markup into tokens and token spans, with every type of a phrase", () => {
  const s = parseEntitySentence(
    "[/EN#18/people A little girl] in [/EN#19/clothing/other a pink dress] is [/EN#0/notvisual there] .",
    "x:1",
  );
  assert.equal(s.raw, "A little girl in a pink dress is there .");
  assert.deepEqual(s.tokens, ["a", "little", "girl", "in", "a", "pink", "dress", "is", "there"]);
  assert.deepEqual(s.phrases, [
    { chain: "18", types: ["people"], start: 0, end: 3 },
    { chain: "19", types: ["clothing", "other"], start: 4, end: 7 },
    { chain: "0", types: ["notvisual"], start: 8, end: 9 },
  ]);
});

test("a Sentences file is one caption a line; a trailing newline and CRLF are fine", () => {
  const path = file("s.txt", "[/EN#1/animals A dog] runs .\r\nTwo [/EN#2/people men] .\n");
  const lines = readEntitySentences(path);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1].tokens, ["two", "men"]);
  assert.deepEqual(lines[1].phrases, [{ chain: "2", types: ["people"], start: 1, end: 2 }]);
});

function assertInputError(fn: () => unknown, where: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `InputError expected, got ${err}`);
    assert.match(err.message, where);
    return true;
  });
}

test("malformed Sentences files fail naming the file and line", () => {
  const cases: [string, RegExp][] = [
    ["ok .\n[/EN#1/people A man runs .\n", /expected a phrase/],
    ["ok .\nA man] runs .\n", /"\]" without a phrase/],
    ["ok .\n[/EN#x/people A man] .\n", /expected a phrase/],
    ["ok .\n[/EN#1 A man] .\n", /expected a phrase/],
    ["ok .\n[/EN#1/people A [/EN#2/other b]] .\n", /expected a phrase/],
    ["ok .\n\nok .\n", /empty line/],
  ];
  for (const [text, message] of cases) {
    const path = file("bad.txt", text);
    assertInputError(() => readEntitySentences(path), new RegExp(`${path}:2: ${message.source}`));
  }
});

test("malformed Annotations files fail naming the file and the line at fault", () => {
  const box = (inner: string) => annotationXml(object(["1"], inner));
  const cases: [string, number, RegExp][] = [
    // Lines: 3 <size>, 4 <object>, 5 <name>, 6 <bndbox>, 7-10 xmin ymin xmax ymax, 11 </bndbox>.
    [box(bndbox(5, 5, 300, 50)), 6, /box 5,5,300,50 reaches outside the 200x100 image/],
    [box(bndbox(50, 5, 40, 50)), 9, /<xmax>: expected a whole number >= 50, got "40"/],
    [box(bndbox(0, 5, 40, 50)), 7, /<xmin>: expected a whole number >= 1, got "0"/],
    [
      box(bndbox(1, 5, 40, 50)).replace("<ymax>50", "<ymax>5o"),
      10,
      /<ymax>: expected a whole number >= 5, got "5o"/,
    ],
    [box(flags(0, 2)), 7, /<nobndbox>: expected 0 or 1, got "2"/],
    [box(flags(0, 0)), 4, /<object> has neither a <bndbox> nor a scene\/nobndbox flag/],
    [annotationXml(object([], bndbox(1, 1, 2, 2))), 4, /<object> has no <name>/],
    [
      box(bndbox(1, 1, 2, 2)).replace("</bndbox>", "</box>"),
      11,
      /<\/box> closes <bndbox> \(line 6\)/,
    ],
    [
      box(bndbox(1, 1, 2, 2)).replace("</annotation>", ""),
      13,
      /<annotation> \(line 1\) is never closed/,
    ],
    [box(`\t\t<bndbox kind="x">\n`), 6, /malformed tag <bndbox kind="x">/],
    [annotationXml("", "<width>200</width>"), 3, /<size> has 0 <height> elements, expected 1/],
    [`${XML}\n<annotation></annotation>`, XML.split("\n").length + 1, /a second root element/],
    ["stray text", 1, /text outside the root element: "stray text"/],
  ];
  for (const [text, line, message] of cases) {
    const path = file("bad.xml", text);
    assertInputError(
      () => readEntityAnnotation(path),
      new RegExp(`^${path}:${line}: ${message.source}`),
    );
  }
});

function image(id: number, filename: string, captions: number): ImageEntry {
  return {
    id,
    filename,
    split: "val",
    sentences: Array.from({ length: captions }, (_, k) => ({
      id: 10 * id + k,
      raw: `caption ${k}`,
      tokens: ["caption"],
    })),
  };
}

function entitiesDir(contents: Record<string, string>): string {
  const dir = join(root, `entities-${files++}`);
  mkdirSync(join(dir, "Annotations"), { recursive: true });
  mkdirSync(join(dir, "Sentences"), { recursive: true });
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
  return dir;
}

test("joins the annotations to dataset images by the Flickr30k id in the file name", () => {
  const dir = entitiesDir({
    "Annotations/1000.xml": XML,
    "Sentences/1000.txt": "[/EN#5/people A man] .\n[/EN#6/scene A park] .\n",
    "Annotations/2000.xml": XML,
    "Sentences/2000.txt": "[/EN#5/people A man] .\n",
    "caption_alignment.tsv": [
      "flickr8k_filename\tflickr8k_caption_idx\tflickr30k_id\tf30ke_sentence_line\tsimilarity\texact",
      "1000_abc123.jpg\t0\t1000\t1\t1.0\t1",
      "1000_abc123.jpg\t1\t1000\t0\t1.0\t1",
      "9999_ff.jpg\t0\t9999\t0\t1.0\t1",
      "",
    ].join("\n"),
  });
  const images = [
    image(1, "1000_abc123.jpg", 2),
    image(2, "2000_ff.jpg", 1),
    image(3, "3000_aa.jpg", 1),
    image(4, "odd.jpg", 1),
  ];
  const { images: joined, missing } = readEntities(dir, images);
  assert.deepEqual(missing, ["3000_aa.jpg", "odd.jpg"]);
  assert.deepEqual(
    joined.map((e) => [e.image.filename, e.flickr30kId]),
    [
      ["1000_abc123.jpg", "1000"],
      ["2000_ff.jpg", "2000"],
    ],
  );
  // Line 0 is caption 1 (sentence id 11), line 1 caption 0 (id 10); 2000 is not in the table.
  assert.deepEqual(
    joined[0].sentences.map((s) => s.sentenceId),
    [11, 10],
  );
  assert.deepEqual(
    joined[1].sentences.map((s) => s.sentenceId),
    [null],
  );
  assert.equal(joined[0].annotation.width, 200);
  assert.equal(flickr30kIdOf("1000268201_693b08cb0e.jpg"), "1000268201");
  assert.equal(flickr30kIdOf("000001.jpg"), undefined);
});

test("a folder without Annotations/, or a bad caption_alignment.tsv row, is refused with the place", () => {
  assertInputError(
    () => readEntities(root, []),
    /not a Flickr30k Entities folder \(no Annotations\/\)/,
  );
  const header = "flickr8k_filename\tflickr8k_caption_idx\tflickr30k_id\tf30ke_sentence_line";
  for (const [row, message] of [
    ["1000_a.jpg\t7\t1000\t0", /:2: flickr8k_caption_idx 7, but 1000_a.jpg has 1 captions/],
    ["1000_a.jpg\t0\t1000\tx", /:2: f30ke_sentence_line: expected a whole number, got "x"/],
  ] as const) {
    const dir = entitiesDir({ "caption_alignment.tsv": `${header}\n${row}\n` });
    assertInputError(() => readEntities(dir, [image(1, "1000_a.jpg", 1)]), message);
  }
  const dir = entitiesDir({ "caption_alignment.tsv": "a\tb\n" });
  assertInputError(
    () => readEntities(dir, []),
    /caption_alignment.tsv:1: no column flickr8k_filename/,
  );
});

test("reads real Flickr30k Entities files from ../shared and links them to Flickr8k captions", {
  skip: skipUnlessShared("data/flickr30k-entities/Annotations", "data/flickr8k"),
}, () => {
  const shared = sharedDir()!;
  const dir = join(shared, "data/flickr30k-entities");
  const dataset = loadDataset(join(shared, "data/flickr8k"));
  const names = ["1000268201_693b08cb0e.jpg", "1001773457_577c3a7d70.jpg"];
  const images = names.map((n) => dataset.images.find((im) => im.filename === n)!);
  const { images: joined, missing } = readEntities(dir, images);
  assert.deepEqual(missing, []);
  const [girl, dogs] = joined;
  assert.equal(girl.annotation.width, 375);
  assert.equal(girl.annotation.height, 500);
  // <name>18</name> xmin 8 ymin 152 xmax 108 ymax 340; chain 21 is flagged nobndbox.
  assert.deepEqual(girl.annotation.boxes.get("18"), [{ x1: 7, y1: 151, x2: 108, y2: 340 }]);
  assert.ok(girl.annotation.noBox.has("21"));
  assert.equal(girl.sentences.length, 5);
  assert.deepEqual(girl.sentences[0].phrases[0], {
    chain: "18",
    types: ["people"],
    start: 0,
    end: 2,
  });
  // Every line is linked to one of the image's captions, and an exact one has its tokens.
  for (const s of [...girl.sentences, ...dogs.sentences]) assert.notEqual(s.sentenceId, null);
  const first = girl.image.sentences.find((s) => s.id === girl.sentences[0].sentenceId)!;
  assert.deepEqual(first.tokens, girl.sentences[0].tokens);
  // An object of two chains gives both the box (1001773457: names 102 and 99).
  assert.ok(dogs.annotation.boxes.get("99")!.some((b) => b.x1 === 232 && b.x2 === 425));
});
