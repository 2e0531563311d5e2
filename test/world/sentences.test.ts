import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.js";
import { tokenize } from "../../src/data/tokenizer.js";
import { COLOURS, SHAPES, sampleScene, type WorldObject } from "../../src/world/scene.js";
import { describeScene, referringSpans, relation } from "../../src/world/sentences.js";

const SIZE_WORDS = { small: ["small", "little"], big: ["big", "large"] };

const ATTRIBUTE_WORDS = new Set<string>([
  ...SHAPES,
  ...COLOURS,
  ...SIZE_WORDS.small,
  ...SIZE_WORDS.big,
]);

function attributeWords(o: WorldObject): string[] {
  return [...SIZE_WORDS[o.size], o.colour, o.shape];
}

test("each image gets five distinct sentences whose tokens are the tokenizer's", () => {
  const rng = new Rng(3);
  for (let i = 0; i < 100; i++) {
    const sentences = describeScene(sampleScene(rng), rng);
    assert.equal(sentences.length, 5);
    assert.equal(new Set(sentences.map((s) => s.raw)).size, 5);
    for (const s of sentences) {
      assert.deepEqual(s.tokens, tokenize(s.raw), s.raw);
      assert.equal(s.refs.length, s.tokens.length);
      assert.match(s.raw, /^[A-Z].*\.$/);
    }
  }
});

test("only attribute words refer, each to an object it describes, and every phrase names the shape", () => {
  const rng = new Rng(4);
  for (let i = 0; i < 200; i++) {
    const scene = sampleScene(rng);
    for (const s of describeScene(scene, rng)) {
      s.tokens.forEach((token, k) => {
        const ref = s.refs[k];
        if (ref === -1) {
          assert.ok(!ATTRIBUTE_WORDS.has(token), `"${token}" in "${s.raw}" names no object`);
          return;
        }
        const o = scene.objects[ref];
        assert.ok(o, `ref ${ref} in "${s.raw}"`);
        assert.ok(attributeWords(o).includes(token), `"${token}" names ${o.colour} ${o.shape}`);
      });
      for (const ref of new Set(s.refs.filter((r) => r >= 0))) {
        assert.ok(
          s.tokens.some((t, k) => s.refs[k] === ref && t === scene.objects[ref].shape),
          `"${s.raw}" mentions object ${ref} without its shape`,
        );
      }
    }
  }
});

test("the five sentences between them mention most objects", () => {
  const rng = new Rng(5);
  let objects = 0;
  let mentioned = 0;
  for (let i = 0; i < 100; i++) {
    const scene = sampleScene(rng);
    const refs = new Set(describeScene(scene, rng).flatMap((s) => s.refs));
    objects += scene.objects.length;
    mentioned += scene.objects.filter((_, k) => refs.has(k)).length;
  }
  assert.ok(mentioned / objects > 0.9, `${mentioned}/${objects}`);
});

test("relations are read from the viewer's side, the larger separation winning", () => {
  const at = (x: number, y: number) => ({ x1: x, y1: y, x2: x + 10, y2: y + 10 });
  assert.equal(relation(at(0, 0), at(50, 0)), "left");
  assert.equal(relation(at(50, 0), at(0, 0)), "right");
  assert.equal(relation(at(0, 0), at(0, 50)), "above");
  assert.equal(relation(at(0, 50), at(0, 0)), "below");
  assert.equal(relation(at(0, 0), at(20, 60)), "above");
  assert.equal(relation(at(0, 0), at(60, 20)), "left");
});

test("the same generator state gives the same sentences", () => {
  const scene = sampleScene(new Rng(6));
  assert.deepEqual(describeScene(scene, new Rng(9)), describeScene(scene, new Rng(9)));
});

test("referring spans are the runs of tokens naming one object", () => {
  assert.deepEqual(referringSpans([-1, 0, 0, 0, -1, -1, -1, 1, 1]), [
    { object: 0, start: 1, end: 4 },
    { object: 1, start: 7, end: 9 },
  ]);
  assert.deepEqual(referringSpans([2, 1, -1]), [
    { object: 2, start: 0, end: 1 },
    { object: 1, start: 1, end: 2 },
  ]);
  assert.deepEqual(referringSpans([-1, -1]), []);
});
