import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import type { ImageEntry } from "./dataset.js";
import { tokenize } from "./tokenizer.js";

/**
 * Flickr30k Entities (Plummer et al., ICCV 2015): for each Flickr30k image, `Annotations/<id>.xml`
 * (the image size and, per object, the entity chains it belongs to with either a box or the
 * scene / no-box flags) and `Sentences/<id>.txt` (its captions, one a line, phrases marked
 * `[/EN#<chain>/<type>[/<type>...] words]`). Chain 0 is "notvisual" and was never boxed.
 *
 * The reader joins them to a Flickr8k (or Karpathy) dataset by image: a Flickr8k file is named
 * `<flickr30k id>_<secret>.jpg`, so the file name gives the annotation files (the data folder's
 * `matches.tsv` lists the same pairs and is not needed, so the release's own folder works).
 * When the folder has `caption_alignment.tsv`, it says which dataset caption each Sentences line
 * is.
 */

/** A box in the annotated image's pixels, half-open: [x1, x2) x [y1, y2). */
export interface EntityBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** One `Annotations/<id>.xml`. */
export interface EntityAnnotation {
  readonly width: number;
  readonly height: number;
  /** The boxes of each chain that has at least one. */
  readonly boxes: ReadonlyMap<string, readonly EntityBox[]>;
  /** Chains with an object flagged `<scene>1</scene>`. */
  readonly scene: ReadonlySet<string>;
  /** Chains with an object flagged `<nobndbox>1</nobndbox>`. */
  readonly noBox: ReadonlySet<string>;
}

/** The chain id of "notvisual" phrases, which have no box by construction. */
export const NOT_VISUAL_CHAIN = "0";

/** A marked phrase: tokens [start, end) of its sentence. */
export interface EntityPhrase {
  readonly chain: string;
  /** One or more of people, clothing, bodyparts, animals, vehicles, instruments, scene, other, notvisual. */
  readonly types: readonly string[];
  readonly start: number;
  readonly end: number;
}

/** One line of `Sentences/<id>.txt`. */
export interface EntitySentence {
  /** The caption without its markup. */
  readonly raw: string;
  /** tokenize(raw), piece by piece so phrase boundaries are token boundaries. */
  readonly tokens: readonly string[];
  readonly phrases: readonly EntityPhrase[];
  /** The dataset sentence this line is (caption_alignment.tsv), or null when unknown. */
  readonly sentenceId: number | null;
}

/** A dataset image with its Flickr30k Entities annotation. */
export interface EntityImage {
  readonly image: ImageEntry;
  readonly flickr30kId: string;
  readonly annotation: EntityAnnotation;
  readonly sentences: readonly EntitySentence[];
}

export const CAPTION_ALIGNMENT_FILE = "caption_alignment.tsv";

/** The Flickr30k id in a Flickr8k file name (`<id>_<secret>.jpg`), or undefined. */
export function flickr30kIdOf(filename: string): string | undefined {
  return /^(\d+)_[0-9a-z]+\.jpg$/i.exec(filename)?.[1];
}

/**
 * Reads the annotations of `images` from `dir` (Annotations/ and Sentences/). Returns the images
 * that have both files, and the file names of those that do not (or whose name is not a Flickr8k
 * name). A malformed file is an InputError naming the file and line.
 */
export function readEntities(
  dir: string,
  images: readonly ImageEntry[],
): { images: EntityImage[]; missing: string[] } {
  for (const sub of ["Annotations", "Sentences"]) {
    if (!existsSync(join(dir, sub))) {
      throw new InputError(`${dir}: not a Flickr30k Entities folder (no ${sub}/)`);
    }
  }
  const alignment = readCaptionAlignment(join(dir, CAPTION_ALIGNMENT_FILE), images);
  const out: EntityImage[] = [];
  const missing: string[] = [];
  for (const image of images) {
    const id = flickr30kIdOf(image.filename);
    const xml = join(dir, "Annotations", `${id}.xml`);
    const txt = join(dir, "Sentences", `${id}.txt`);
    if (id === undefined || !existsSync(xml) || !existsSync(txt)) {
      missing.push(image.filename);
      continue;
    }
    const lines = readEntitySentences(txt);
    const ids = alignment.get(image.filename);
    out.push({
      image,
      flickr30kId: id,
      annotation: readEntityAnnotation(xml),
      sentences: lines.map((s, i) => ({ ...s, sentenceId: ids?.get(i) ?? null })),
    });
  }
  return { images: out, missing };
}

/**
 * caption_alignment.tsv as file name -> (Sentences line -> dataset sentence id), for the images
 * given; empty when the file is absent.
 */
function readCaptionAlignment(
  path: string,
  images: readonly ImageEntry[],
): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  if (!existsSync(path)) return out;
  const byName = new Map(images.map((im) => [im.filename, im]));
  const lines = readFileSync(path, "utf8").split(/\r?\n/);
  const header = lines[0].split("\t");
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new InputError(`${path}:1: no column ${name}`);
    return i;
  };
  const [fileCol, captionCol, lineCol] = [
    col("flickr8k_filename"),
    col("flickr8k_caption_idx"),
    col("f30ke_sentence_line"),
  ];
  lines.forEach((text, i) => {
    if (i === 0 || text.trim() === "") return;
    const where = `${path}:${i + 1}`;
    const f = text.split("\t");
    const image = byName.get(f[fileCol]);
    if (!image) return;
    const caption = wholeNumber(f[captionCol], where, "flickr8k_caption_idx");
    const line = wholeNumber(f[lineCol], where, "f30ke_sentence_line");
    if (caption >= image.sentences.length) {
      throw new InputError(
        `${where}: flickr8k_caption_idx ${caption}, but ${image.filename} has ${image.sentences.length} captions`,
      );
    }
    const ids = out.get(image.filename) ?? new Map<number, number>();
    ids.set(line, image.sentences[caption].id);
    out.set(image.filename, ids);
  });
  return out;
}

function wholeNumber(text: string | undefined, where: string, field: string): number {
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new InputError(
      `${where}: ${field}: expected a whole number, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

const PHRASE = /^\[\/EN#(\d+)((?:\/[a-z]+)+) ([^[\]]+)\]/;

/**
 * Parses one Sentences file, caption i on line i + 1 (caption_alignment.tsv counts lines from 0);
 * errors name the file and line.
 */
export function readEntitySentences(path: string): Omit<EntitySentence, "sentenceId">[] {
  const lines = readFileSync(path, "utf8").split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((line, i) => {
    const where = `${path}:${i + 1}`;
    if (line.trim() === "") throw new InputError(`${where}: empty line where a caption should be`);
    return parseEntitySentence(line, where);
  });
}

/** Parses one marked caption; `where` (file:line) names it in errors. */
export function parseEntitySentence(
  line: string,
  where: string,
): Omit<EntitySentence, "sentenceId"> {
  const tokens: string[] = [];
  const phrases: EntityPhrase[] = [];
  const raw: string[] = [];
  let rest = line;
  while (rest.length > 0) {
    const open = rest.indexOf("[");
    const close = rest.indexOf("]");
    if (close >= 0 && (open < 0 || close < open)) {
      throw new InputError(`${where}: "]" without a phrase opened before it`);
    }
    const plain = open < 0 ? rest : rest.slice(0, open);
    raw.push(plain);
    tokens.push(...tokenize(plain));
    if (open < 0) break;
    rest = rest.slice(open);
    const m = PHRASE.exec(rest);
    if (!m) {
      const shown = rest.length > 40 ? `${rest.slice(0, 40)}...` : rest;
      throw new InputError(
        `${where}: expected a phrase [/EN#<chain>/<type> words], got "${shown}"`,
      );
    }
    const words = tokenize(m[3]);
    phrases.push({
      chain: String(Number(m[1])),
      types: m[2].slice(1).split("/"),
      start: tokens.length,
      end: tokens.length + words.length,
    });
    raw.push(m[3]);
    tokens.push(...words);
    rest = rest.slice(m[0].length);
  }
  return { raw: raw.join(""), tokens, phrases };
}

/** A parsed XML element with the line its start tag is on. */
interface XmlElement {
  readonly name: string;
  readonly line: number;
  readonly children: XmlElement[];
  text: string;
}

/**
 * Parses one Annotations file (the release's PASCAL-VOC-like layout); errors name the file and
 * line. Elements the layout does not use are ignored.
 */
export function readEntityAnnotation(path: string): EntityAnnotation {
  const root = parseXml(readFileSync(path, "utf8"), path);
  const fail = (e: XmlElement, message: string): never => {
    throw new InputError(`${path}:${e.line}: ${message}`);
  };
  if (root.name !== "annotation") fail(root, `expected <annotation>, got <${root.name}>`);
  const only = (parent: XmlElement, name: string): XmlElement => {
    const found = parent.children.filter((c) => c.name === name);
    if (found.length !== 1) {
      fail(parent, `<${parent.name}> has ${found.length} <${name}> elements, expected 1`);
    }
    return found[0];
  };
  const integer = (parent: XmlElement, name: string, min: number): number => {
    const e = only(parent, name);
    const text = e.text.trim();
    if (!/^-?\d+$/.test(text) || Number(text) < min) {
      fail(e, `<${name}>: expected a whole number >= ${min}, got "${text}"`);
    }
    return Number(text);
  };
  const size = only(root, "size");
  const width = integer(size, "width", 1);
  const height = integer(size, "height", 1);
  const boxes = new Map<string, EntityBox[]>();
  const scene = new Set<string>();
  const noBox = new Set<string>();
  for (const object of root.children.filter((c) => c.name === "object")) {
    const names = object.children
      .filter((c) => c.name === "name")
      .map((n) => {
        const chain = n.text.trim();
        if (!/^\d+$/.test(chain)) fail(n, `<name>: expected a chain id, got "${chain}"`);
        return String(Number(chain));
      });
    if (names.length === 0) fail(object, "<object> has no <name>");
    const box = object.children.find((c) => c.name === "bndbox");
    if (box) {
      const xmin = integer(box, "xmin", 1);
      const ymin = integer(box, "ymin", 1);
      const xmax = integer(box, "xmax", xmin);
      const ymax = integer(box, "ymax", ymin);
      if (xmax > width || ymax > height) {
        fail(
          box,
          `box ${xmin},${ymin},${xmax},${ymax} reaches outside the ${width}x${height} image`,
        );
      }
      // 1-based inclusive pixel indices -> half-open coordinates from 0.
      for (const n of names) {
        const list = boxes.get(n) ?? [];
        list.push({ x1: xmin - 1, y1: ymin - 1, x2: xmax, y2: ymax });
        boxes.set(n, list);
      }
      continue;
    }
    const flag = (name: string): boolean => {
      const e = object.children.find((c) => c.name === name);
      if (!e) return false;
      const text = e.text.trim();
      if (text !== "0" && text !== "1") fail(e, `<${name}>: expected 0 or 1, got "${text}"`);
      return text === "1";
    };
    const isScene = flag("scene");
    const isNoBox = flag("nobndbox");
    if (!isScene && !isNoBox)
      fail(object, "<object> has neither a <bndbox> nor a scene/nobndbox flag");
    for (const n of names) {
      if (isScene) scene.add(n);
      if (isNoBox) noBox.add(n);
    }
  }
  return { width, height, boxes, scene, noBox };
}

/**
 * A small strict XML parser for element-only documents: start and end tags without attributes,
 * text, an optional `<?xml ...?>` declaration and comments. Enough for the fixed annotation layout;
 * anything else (a stray `<`, a mismatched end tag, text outside the root) is an error with the line.
 */
function parseXml(text: string, path: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let line = 1;
  let i = 0;
  const fail = (message: string): never => {
    throw new InputError(`${path}:${line}: ${message}`);
  };
  const advance = (to: number) => {
    for (let k = i; k < to; k++) if (text.charCodeAt(k) === 10) line++;
    i = to;
  };
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (chunk.includes(">")) fail(`stray ">"`);
    if (stack.length > 0) stack[stack.length - 1].text += chunk;
    else if (chunk.trim() !== "")
      fail(`text outside the root element: "${chunk.trim().slice(0, 40)}"`);
    advance(lt < 0 ? text.length : lt);
    if (lt < 0) break;
    const skip = (open: string, close: string) => {
      if (!text.startsWith(open, i)) return false;
      const end = text.indexOf(close, i);
      if (end < 0) fail(`${open} without ${close}`);
      advance(end + close.length);
      return true;
    };
    if (skip("<?", "?>") || skip("<!--", "-->")) continue;
    const gt = text.indexOf(">", i);
    if (gt < 0) fail("tag without a closing >");
    const tag = text.slice(i + 1, gt);
    const m = /^(\/?)([A-Za-z_][\w.-]*)\s*(\/?)$/.exec(tag);
    if (!m) fail(`malformed tag <${tag}> (attributes are not expected)`);
    const [, closing, name, selfClosing] = m!;
    if (closing) {
      const open = stack.pop();
      if (!open) fail(`</${name}> closes nothing`);
      if (open!.name !== name) fail(`</${name}> closes <${open!.name}> (line ${open!.line})`);
    } else {
      if (root && stack.length === 0) fail(`a second root element <${name}>`);
      const e: XmlElement = { name, line, children: [], text: "" };
      if (stack.length > 0) stack[stack.length - 1].children.push(e);
      else root = e;
      if (!selfClosing) stack.push(e);
    }
    advance(gt + 1);
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    fail(`<${open.name}> (line ${open.line}) is never closed`);
  }
  if (!root) fail("no root element");
  return root!;
}

/**
 * A box of an annotated width x height image in the pixels of the same image stored at
 * toWidth x toHeight (stretched, as the stored Flickr8k images are).
 */
export function scaleEntityBox(
  box: EntityBox,
  from: { readonly width: number; readonly height: number },
  toWidth: number,
  toHeight: number,
): EntityBox {
  const x = (v: number) => (v * toWidth) / from.width;
  const y = (v: number) => (v * toHeight) / from.height;
  return { x1: x(box.x1), y1: y(box.y1), x2: x(box.x2), y2: y(box.y2) };
}
