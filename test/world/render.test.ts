import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { Rng } from "../../src/core/rng.js";
import { renderScene } from "../../src/world/render.js";
import { sampleScene } from "../../src/world/scene.js";

test("a rendered scene is a JPEG of its size with each object's colour at its centre", async () => {
  const rng = new Rng(11);
  for (let i = 0; i < 4; i++) {
    const scene = sampleScene(rng);
    const jpeg = await renderScene(scene);
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
    const { data, info } = await sharp(jpeg)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [scene.width, scene.height]);
    for (const o of scene.objects) {
      const x = Math.floor((o.box.x1 + o.box.x2) / 2);
      const y = Math.floor((o.box.y1 + o.box.y2) / 2);
      const p = (y * info.width + x) * 3;
      const diff = Math.max(...[0, 1, 2].map((c) => Math.abs(data[p + c] - o.rgb[c])));
      assert.ok(
        diff < 40,
        `${o.colour} ${o.shape}: [${[...data.subarray(p, p + 3)]}] vs [${o.rgb}]`,
      );
    }
  }
});

test("the same scene renders to the same bytes", async () => {
  const scene = sampleScene(new Rng(12));
  assert.ok((await renderScene(scene)).equals(await renderScene(scene)));
});
