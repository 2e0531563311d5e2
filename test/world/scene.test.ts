import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/core/rng.js";
import {
  COLOURS,
  DEFAULT_SCENE_OPTIONS,
  SHAPES,
  SIZES,
  sampleScene,
} from "../../src/world/scene.js";

test("scenes are the same for the same seed and differ for another", () => {
  const a = Array.from(
    { length: 5 },
    (
      (rng) => () =>
        sampleScene(rng)
    )(new Rng(7)),
  );
  const b = Array.from(
    { length: 5 },
    (
      (rng) => () =>
        sampleScene(rng)
    )(new Rng(7)),
  );
  const c = Array.from(
    { length: 5 },
    (
      (rng) => () =>
        sampleScene(rng)
    )(new Rng(8)),
  );
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("objects lie inside the image, do not overlap, and use the attribute words", () => {
  const rng = new Rng(1);
  const { width, height, minObjects, maxObjects } = DEFAULT_SCENE_OPTIONS;
  const counts = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const scene = sampleScene(rng);
    counts.add(scene.objects.length);
    assert.ok(scene.objects.length >= minObjects && scene.objects.length <= maxObjects);
    scene.objects.forEach((o, k) => {
      const { x1, y1, x2, y2 } = o.box;
      assert.ok(x1 >= 0 && y1 >= 0 && x2 <= width && y2 <= height, JSON.stringify(o.box));
      assert.ok(x2 > x1 && y2 > y1);
      assert.ok(SHAPES.includes(o.shape) && COLOURS.includes(o.colour) && SIZES.includes(o.size));
      for (const other of scene.objects.slice(k + 1)) {
        const apart =
          x2 <= other.box.x1 || other.box.x2 <= x1 || y2 <= other.box.y1 || other.box.y2 <= y1;
        assert.ok(apart, `${JSON.stringify(o.box)} overlaps ${JSON.stringify(other.box)}`);
      }
    });
  }
  assert.deepEqual([...counts].sort(), [1, 2, 3, 4]);
});

test("big objects are larger than small ones", () => {
  const rng = new Rng(2);
  const sides = { small: [] as number[], big: [] as number[] };
  for (let i = 0; i < 100; i++) {
    for (const o of sampleScene(rng).objects) sides[o.size].push(o.box.x2 - o.box.x1);
  }
  assert.ok(Math.max(...sides.small) < Math.min(...sides.big));
});
