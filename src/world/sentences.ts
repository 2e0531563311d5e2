import type { Rng } from "../core/rng.js";
import type { Box } from "../vision/image.js";
import type { Scene, WorldObject } from "./scene.js";

// The phrase spans of a sentence are the MRF evaluation's; the world's refs are what they read.
export { type ReferringSpan, referringSpans } from "../mrf/phrase-accuracy.js";

/**
 * Sentences about a scene, each word tagged with the object it names. Only the words that carry an
 * object's attributes (size, colour, shape) refer to it; articles, relations, counts and background
 * words refer to none (-1), the way "a" or "on" in a real caption names no region.
 */
export interface GroundedSentence {
  /** The sentence as written: capitalised, with commas and a full stop. */
  readonly raw: string;
  /** Lowercase words, exactly what the tokenizer makes of `raw`. */
  readonly tokens: readonly string[];
  /** Per token, the index of the object in the scene it refers to, or -1. */
  readonly refs: readonly number[];
}

/** A word, or a punctuation mark glued to the word before it. */
interface Piece {
  readonly text: string;
  readonly ref: number;
  readonly punct?: boolean;
}

export type Relation = "left" | "right" | "above" | "below";

const RELATION_WORDS: Readonly<Record<Relation, readonly string[]>> = {
  left: ["left of", "to the left of", "on the left of"],
  right: ["right of", "to the right of", "on the right of"],
  above: ["above", "over"],
  below: ["below", "under"],
};

const SIZE_WORDS = { small: ["small", "little"], big: ["big", "large"] } as const;
const COUNT_WORDS = ["zero", "one", "two", "three", "four", "five", "six"];
const KIND_WORDS = { plain: "plain", gradient: "shaded", striped: "striped", noisy: "noisy" };

/**
 * Where `a` lies relative to `b`, from the viewer's side. Boxes never overlap, so they are apart on
 * at least one axis; when on both, the axis with the larger gap between centres wins.
 */
export function relation(a: Box, b: Box): Relation {
  const horizontal = a.x2 <= b.x1 || b.x2 <= a.x1;
  const vertical = a.y2 <= b.y1 || b.y2 <= a.y1;
  const dx = (b.x1 + b.x2 - a.x1 - a.x2) / 2;
  const dy = (b.y1 + b.y2 - a.y1 - a.y2) / 2;
  const useX = horizontal && (!vertical || Math.abs(dx) >= Math.abs(dy));
  if (useX) return dx > 0 ? "left" : "right";
  return dy > 0 ? "above" : "below";
}

/** `count` distinct sentences about `scene` (fewer only if the templates run out). */
export function describeScene(scene: Scene, rng: Rng, count = 5): GroundedSentence[] {
  const mentions = new Array<number>(scene.objects.length).fill(0);
  // Objects mentioned least so far come first, so the five sentences cover every object.
  const pickObjects = (n: number): number[] => {
    const order = rng.shuffle(scene.objects.map((_, i) => i));
    order.sort((i, j) => mentions[i] - mentions[j]);
    const chosen = rng.shuffle(order.slice(0, n));
    for (const i of chosen) mentions[i]++;
    return chosen;
  };
  const seen = new Set<string>();
  const out: GroundedSentence[] = [];
  for (let attempt = 0; out.length < count && attempt < 50 * count; attempt++) {
    const saved = mentions.slice();
    const sentence = finish(sampleTemplate(scene, rng, pickObjects));
    if (seen.has(sentence.raw)) {
      mentions.splice(0, mentions.length, ...saved);
      continue;
    }
    seen.add(sentence.raw);
    out.push(sentence);
  }
  return out;
}

type Template = (scene: Scene, rng: Rng, pick: (n: number) => number[]) => Piece[] | undefined;

const TEMPLATES: readonly { weight: number; make: Template }[] = [
  // "a big red circle (is) left of a small blue square"
  {
    weight: 4,
    make: (scene, rng, pick) => {
      if (scene.objects.length < 2) return undefined;
      const [a, b] = pick(2);
      const rel = relation(scene.objects[a].box, scene.objects[b].box);
      const verb = rng.pick(["", "", "is", "there is"]);
      const head = verb === "there is" ? [...words("there is", -1)] : [];
      const det = verb === "is" ? "the" : "a";
      return [
        ...head,
        ...phrase(scene.objects[a], a, det, rng),
        ...(verb === "is" ? words("is", -1) : []),
        ...words(rng.pick(RELATION_WORDS[rel]), -1),
        ...phrase(scene.objects[b], b, det, rng),
      ];
    },
  },
  // "a red circle and a small blue square"
  {
    weight: 2,
    make: (scene, rng, pick) => {
      if (scene.objects.length < 2) return undefined;
      const chosen = pick(Math.min(scene.objects.length, 2 + rng.int(2)));
      const head = rng.uniform() < 0.3 ? words("there is", -1) : [];
      return [...head, ...list(scene, chosen, rng)];
    },
  },
  // "three shapes: a red circle, a blue square and a green star"
  {
    weight: 1,
    make: (scene, rng) => {
      const n = scene.objects.length;
      if (n < 2) return undefined;
      const all = rng.shuffle(scene.objects.map((_, i) => i));
      const noun = rng.pick(["shapes", "objects"]);
      return [...words(`${COUNT_WORDS[n]} ${noun}`, -1), punct(":"), ...list(scene, all, rng)];
    },
  },
  // "a small red circle on a dark striped background"
  {
    weight: 2,
    make: (scene, rng, pick) => {
      if (scene.objects.length === 0) return undefined;
      const chosen = pick(Math.min(scene.objects.length, 1 + rng.int(2)));
      return [...list(scene, chosen, rng), ...backgroundPhrase(scene, rng)];
    },
  },
  // "two shapes on a light plain background"
  {
    weight: 1,
    make: (scene, rng) => {
      const n = scene.objects.length;
      const head =
        n === 1 ? "a single shape" : `${COUNT_WORDS[n]} ${rng.pick(["shapes", "objects"])}`;
      return [...words(head, -1), ...backgroundPhrase(scene, rng)];
    },
  },
  // "a picture of a big yellow star"
  {
    weight: 1,
    make: (scene, rng, pick) => {
      if (scene.objects.length === 0) return undefined;
      const [a] = pick(1);
      const head = rng.pick(["a picture of", "an image of", "a drawing of", ""]);
      return [...words(head, -1), ...phrase(scene.objects[a], a, "a", rng)];
    },
  },
];

const TOTAL_WEIGHT = TEMPLATES.reduce((s, t) => s + t.weight, 0);

function sampleTemplate(scene: Scene, rng: Rng, pick: (n: number) => number[]): Piece[] {
  for (;;) {
    let r = rng.uniform() * TOTAL_WEIGHT;
    let k = 0;
    while (k < TEMPLATES.length - 1 && r >= TEMPLATES[k].weight) r -= TEMPLATES[k++].weight;
    const pieces = TEMPLATES[k].make(scene, rng, pick);
    if (pieces) return pieces;
  }
}

/** "a big red circle": an article, then size (sometimes), colour (mostly) and shape. */
function phrase(o: WorldObject, ref: number, det: "a" | "the", rng: Rng): Piece[] {
  const attrs: Piece[] = [];
  if (rng.uniform() < 0.6) attrs.push({ text: rng.pick(SIZE_WORDS[o.size]), ref });
  if (rng.uniform() < 0.9) attrs.push({ text: o.colour, ref });
  attrs.push({ text: o.shape, ref });
  return [{ text: article(det, attrs[0].text), ref: -1 }, ...attrs];
}

/** "A, B and C" over the chosen objects. */
function list(scene: Scene, chosen: readonly number[], rng: Rng): Piece[] {
  const out: Piece[] = [];
  chosen.forEach((i, k) => {
    if (k > 0 && k === chosen.length - 1) out.push(...words("and", -1));
    else if (k > 0) out.push(punct(","));
    out.push(...phrase(scene.objects[i], i, "a", rng));
  });
  return out;
}

function backgroundPhrase(scene: Scene, rng: Rng): Piece[] {
  const bg = scene.background;
  const tone = rng.uniform() < 0.7 ? `${bg.tone} ` : "";
  const kind = rng.uniform() < 0.8 ? `${KIND_WORDS[bg.kind]} ` : "";
  const adjectives = `${tone}${kind}`;
  return words(`on ${article("a", adjectives)} ${adjectives}background`, -1);
}

function article(det: "a" | "the", next: string): string {
  return det === "a" && /^[aeiou]/.test(next) ? "an" : det;
}

function words(text: string, ref: number): Piece[] {
  return text
    .split(" ")
    .filter((w) => w.length > 0)
    .map((w) => ({ text: w, ref }));
}

function punct(text: string): Piece {
  return { text, ref: -1, punct: true };
}

function finish(pieces: readonly Piece[]): GroundedSentence {
  let raw = "";
  for (const p of pieces) raw += p.punct || raw === "" ? p.text : ` ${p.text}`;
  raw = `${raw.charAt(0).toUpperCase()}${raw.slice(1)}.`;
  const tokenPieces = pieces.filter((p) => !p.punct);
  return { raw, tokens: tokenPieces.map((p) => p.text), refs: tokenPieces.map((p) => p.ref) };
}
