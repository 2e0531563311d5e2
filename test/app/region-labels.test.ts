import assert from "node:assert/strict";
import { test } from "node:test";
import type { ImageDescription } from "../../src/app/describer.js";
import { descriptionPage } from "../../src/app/description-page.js";
import {
  contrastRatio,
  cssColourRgb,
  DARK_TEXT,
  type LabelRequest,
  LIGHT_TEXT,
  type PlacedLabel,
  placeLabels,
  regionColour,
  relativeLuminance,
  textColourOn,
} from "../../src/app/region-labels.js";
import { Rng } from "../../src/core/rng.js";
import { REGION_COLOURS } from "../../src/server/page.js";

function overlap(a: PlacedLabel, b: PlacedLabel): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function assertNoOverlap(placed: readonly (PlacedLabel | null)[], width: number, height: number) {
  const on = placed.filter((p): p is PlacedLabel => p !== null);
  on.forEach((a, i) => {
    assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.width <= width && a.y + a.height <= height, "inside");
    for (const b of on.slice(i + 1))
      assert.ok(!overlap(a, b), `${JSON.stringify(a)} x ${JSON.stringify(b)}`);
  });
}

/** 19 boxes crowded into the middle of a 420 x 315 photo, each with a phrase and a number label. */
function crowded(rng: Rng): LabelRequest[] {
  return Array.from({ length: 19 }, (_, i) => {
    const x1 = 120 + rng.uniform() * 120;
    const y1 = 90 + rng.uniform() * 100;
    const phrase = 60 + Math.floor(rng.uniform() * 120);
    return {
      box: { x1, y1, x2: x1 + 20 + rng.uniform() * 100, y2: y1 + 20 + rng.uniform() * 80 },
      sizes: [
        { width: phrase, height: 16 },
        { width: i < 9 ? 13 : 20, height: 16 },
      ],
    };
  });
}

test("in a crowded photo no two labels overlap, each stays inside it, and the crowd falls back to numbers", () => {
  let numberOnly = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const requests = crowded(new Rng(seed));
    const placed = placeLabels(requests, 420, 315);
    assert.equal(placed.length, 19);
    assertNoOverlap(placed, 420, 315);
    const full = placed.filter((p) => p?.size === 0).length;
    const numbers = placed.filter((p) => p?.size === 1).length;
    assert.ok(full >= 8, `seed ${seed}: ${full} labels with their phrase`);
    assert.ok(full + numbers >= 12, `seed ${seed}: ${full + numbers} of 19 labelled`);
    numberOnly += numbers;
    placed.forEach((p, i) => {
      if (p) assert.deepEqual([p.width, p.height], [requests[i].sizes[p.size].width, 16]);
    });
  }
  assert.ok(numberOnly > 20, `${numberOnly} labels fell back to their number`);
});

test("a label goes above its box's top-left corner when free, else inside, below, then right-aligned", () => {
  const size = [{ width: 50, height: 10 }];
  const box = { x1: 100, y1: 100, x2: 200, y2: 150 };
  const [first, second, third, fourth] = placeLabels(
    [box, box, box, box].map((b) => ({ box: b, sizes: size })),
    400,
    400,
    0,
  );
  assert.deepEqual([first?.x, first?.y], [100, 90], "above");
  assert.deepEqual([second?.x, second?.y], [100, 100], "inside the top");
  assert.deepEqual([third?.x, third?.y], [100, 150], "below");
  assert.deepEqual([fourth?.x, fourth?.y], [100, 140], "inside the bottom");
  // At the photo's top edge "above" is moved inside the photo.
  const [edge] = placeLabels([{ box: { x1: 380, y1: 0, x2: 400, y2: 20 }, sizes: size }], 400, 400);
  assert.deepEqual([edge?.x, edge?.y], [350, 0]);
});

test("the first size that fits is taken; a label that fits nowhere is null, for the legend", () => {
  const box = { x1: 0, y1: 0, x2: 100, y2: 20 };
  const [whole, short, none] = placeLabels(
    [
      { box, sizes: [{ width: 100, height: 20 }] },
      {
        box,
        sizes: [
          { width: 100, height: 20 },
          { width: 10, height: 20 },
        ],
      },
      { box, sizes: [{ width: 100, height: 20 }] },
    ],
    100,
    40,
    0,
  );
  assert.equal(whole?.size, 0);
  assert.deepEqual([short?.size, short?.y], [0, 20], "the one other place for the whole label");
  assert.equal(none, null);
  assert.deepEqual(placeLabels([{ box, sizes: [{ width: 500, height: 10 }] }], 100, 40), [null]);
});

test("label text is near-black or white, whichever contrasts more with the colour; at least 4.5:1 on every region colour", () => {
  assert.deepEqual(cssColourRgb("#ff8000"), [255, 128, 0]);
  assert.deepEqual(cssColourRgb("hsl(120, 100%, 50%)"), [0, 255, 0]);
  assert.deepEqual(cssColourRgb("hsl(240, 100%, 25%)"), [0, 0, 128]);
  assert.throws(() => cssColourRgb("red"), /not a #rrggbb or hsl\(\) colour/);
  assert.equal(textColourOn("#ffff00"), DARK_TEXT);
  assert.equal(textColourOn("#000080"), LIGHT_TEXT);
  assert.ok(Math.abs(contrastRatio(relativeLuminance([255, 255, 255]), 0) - 21) < 1e-9);
  assert.deepEqual(
    REGION_COLOURS,
    Array.from({ length: 24 }, (_, k) => regionColour(k)),
    "the web app's colours are the describe page's",
  );
  assert.equal(new Set(REGION_COLOURS).size, 24);
  for (const c of REGION_COLOURS) {
    const bg = relativeLuminance(cssColourRgb(c));
    const fg = relativeLuminance(cssColourRgb(textColourOn(c)));
    assert.ok(contrastRatio(bg, fg) >= 4.5, `${c}: ${contrastRatio(bg, fg).toFixed(2)}`);
  }
});

test("the describe page labels only the shown phrases, keeps the labels apart, and lists why the others are not shown", () => {
  const rng = new Rng(4);
  const regions: ImageDescription["regions"] = Array.from({ length: 19 }, (_, i) => {
    const x1 = 200 + rng.uniform() * 300;
    const y1 = 150 + rng.uniform() * 200;
    const box = { x1, y1, x2: x1 + 60 + rng.uniform() * 200, y2: y1 + 60 + rng.uniform() * 150 };
    const text = i % 3 === 0 ? "a man in a blue shirt" : "a black dog";
    const shown = i < 15;
    return {
      box,
      source: i < 4 || i === 18 ? "detection" : "fallback",
      ...(i < 4 ? { label: "person", score: 0.9 } : {}),
      ...(i === 18 ? { label: "horse", score: 0.9 } : {}),
      ...(shown ? { caption: text } : {}),
      phrase: {
        text,
        confidence: -1,
        shown,
        ...(shown ? {} : { hidden: i === 18 ? "contradicts-label" : "low-confidence" }),
      },
    } as ImageDescription["regions"][number];
  });
  const description: ImageDescription = {
    width: 1000,
    height: 750,
    caption: "a crowd",
    phrases: [],
    regions,
    millis: { decode: 0, detect: 0, encode: 0, caption: 0, regionCaptions: 0, total: 0 },
  };
  const page = descriptionPage("t", [{ title: "x.jpg", imageHref: "x.jpg", description }]);
  const labels = [
    ...page.matchAll(/<g class="label"><rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/g),
  ].map((m) => ({ x: +m[1], y: +m[2], width: +m[3], height: +m[4], size: 0 }));
  const texts = [...page.matchAll(/<g class="label">.*?<text [^>]*>([^<]*)<\/text>/g)].map(
    (m) => m[1],
  );
  assert.ok(labels.length >= 8 && labels.length <= 15, `${labels.length} labels`);
  assertNoOverlap(labels, 420, 315);
  const numbers = texts.map((t) => Number(t.split(" ")[0]));
  assert.ok(
    numbers.every((n) => n >= 1 && n <= 15),
    `only shown phrases: ${numbers}`,
  );
  assert.equal(new Set(numbers).size, numbers.length);
  assert.equal((page.match(/not shown: /g) ?? []).length, 4);
  assert.match(page, /names another class than the detector's horse/);
  assert.equal(
    (page.match(/no room for its label on the image/g) ?? []).length,
    15 - texts.filter((t) => t.includes(" ")).length,
  );
});
