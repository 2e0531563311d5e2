import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import type { ImageDescription, RegionDescription } from "../../src/app/describer.js";
import { contrastRatio, relativeLuminance } from "../../src/app/region-labels.js";
import { Rng } from "../../src/core/rng.js";
import { createAppServer, LOOPBACK_HOSTNAMES, listen } from "../../src/server/app-server.js";
import { allLoaded, findChromium, launchChromium } from "./browser-harness.js";

/**
 * The web app's region labels on a crowded photo, in headless Chromium at desktop and phone
 * width: 19 regions, 16 of them with a shown phrase, crowded into the middle of the photo. No
 * two labels may overlap, each lies on the photo, only shown phrases are labelled, and the text
 * contrasts with its label at 4.5:1 or more.
 */

const executable = findChromium();
const skip = executable
  ? false
  : "no Chromium found: install the 'chromium' package or set IMAGESENT_CHROMIUM to its executable";

const WIDTH = 1200;
const HEIGHT = 900;
const PHRASES = [
  "a man in a blue shirt",
  "a black dog",
  "a woman in a red jacket is standing on the beach",
  "two children",
  "a brown horse",
  "the water",
  "a group of people",
  "a little girl in a pink dress",
];

/** 19 regions crowded into the middle of the photo; the last three are not shown. */
function crowdedDescription(): ImageDescription {
  const rng = new Rng(9);
  const regions: RegionDescription[] = Array.from({ length: 19 }, (_, i) => {
    const x1 = 300 + rng.uniform() * 400;
    const y1 = 250 + rng.uniform() * 300;
    const box = { x1, y1, x2: x1 + 80 + rng.uniform() * 300, y2: y1 + 60 + rng.uniform() * 200 };
    const text = PHRASES[i % PHRASES.length];
    const shown = i < 16;
    return {
      box,
      source: i < 6 ? "detection" : "fallback",
      ...(i < 6 ? { label: "person", score: 0.9 - i / 20 } : {}),
      ...(shown ? { caption: text } : {}),
      phrase: { text, confidence: -1, shown, ...(shown ? {} : { hidden: "low-confidence" }) },
    } as RegionDescription;
  });
  return {
    width: WIDTH,
    height: HEIGHT,
    caption: "a crowd of people",
    phrases: [],
    regions,
    millis: { decode: 1, detect: 1, encode: 1, caption: 1, regionCaptions: 1, total: 5 },
  };
}

let server: Server;
let url: string;
let browser: Browser;
let photo: Buffer;

before(async () => {
  if (!executable) return;
  const description = crowdedDescription();
  server = createAppServer({
    describer: { describesRegions: true, describe: async () => description },
    bundleName: "labels-test",
    hostnames: LOOPBACK_HOSTNAMES,
  });
  url = await listen(server, 0, "127.0.0.1");
  browser = await launchChromium(executable);
  photo = await sharp({
    create: { width: WIDTH, height: HEIGHT, channels: 3, background: "#3a5a40" },
  })
    .jpeg()
    .toBuffer();
});

after(async () => {
  if (!executable) return;
  await browser.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface TagBox {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly colour: string;
  readonly background: string;
}

/** "rgb(r, g, b)" as channels. */
function rgb(css: string): [number, number, number] {
  const m = /^rgba?\((\d+), (\d+), (\d+)/.exec(css);
  assert.ok(m, css);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

for (const [name, viewport, least] of [
  ["desktop", { width: 1400, height: 1000 }, 10],
  ["phone", { width: 390, height: 844 }, 6],
] as const) {
  test(`${name} width: the labels of a crowded photo never overlap, lie on the photo and are readable`, {
    skip,
  }, async () => {
    const page = await browser.newPage({ viewport });
    page.setDefaultTimeout(60_000);
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    await page.goto(url);
    await page.locator("#about", { hasText: "labels-test" }).waitFor();
    await page.locator("#file").setInputFiles({
      name: "crowd.jpg",
      mimeType: "image/jpeg",
      buffer: photo,
    });
    await page.locator("#description").waitFor({ state: "visible" });
    await page.waitForFunction(allLoaded, "#photo");
    await page.locator("#tags .tag").first().waitFor();
    const tags: TagBox[] = await page.locator("#tags .tag").evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        // The project compiles without DOM types; this runs in the page.
        const style = (
          globalThis as unknown as {
            getComputedStyle(e: unknown): { color: string; backgroundColor: string };
          }
        ).getComputedStyle(e);
        return {
          text: e.textContent ?? "",
          x: r.x,
          y: r.y,
          width: r.width,
          height: r.height,
          colour: style.color,
          background: style.backgroundColor,
        };
      }),
    );
    const frame = await page.locator("#photo").boundingBox();
    assert.ok(frame);
    assert.ok(tags.length >= least, `${tags.length} labels`);
    assert.ok(tags.length <= 16, "only shown phrases are labelled");
    const numbers = tags.map((t) => Number(t.text.split(" ")[0]));
    assert.equal(new Set(numbers).size, numbers.length, "one label a region");
    assert.ok(
      numbers.every((n) => n >= 1 && n <= 16),
      numbers.join(","),
    );
    assert.ok(
      tags.some((t) => t.text.includes(" ")),
      "some labels carry their phrase, not just the number",
    );
    tags.forEach((a, i) => {
      assert.ok(a.width > 0 && a.height > 0, a.text);
      const eps = 0.5;
      assert.ok(
        a.x >= frame.x - eps &&
          a.y >= frame.y - eps &&
          a.x + a.width <= frame.x + frame.width + eps &&
          a.y + a.height <= frame.y + frame.height + eps,
        `"${a.text}" lies on the photo`,
      );
      for (const b of tags.slice(i + 1)) {
        const apart =
          a.x + a.width <= b.x + eps ||
          b.x + b.width <= a.x + eps ||
          a.y + a.height <= b.y + eps ||
          b.y + b.height <= a.y + eps;
        assert.ok(apart, `"${a.text}" and "${b.text}" overlap`);
      }
      const contrast = contrastRatio(
        relativeLuminance(rgb(a.colour)),
        relativeLuminance(rgb(a.background)),
      );
      assert.ok(contrast >= 4.5, `"${a.text}": contrast ${contrast.toFixed(2)}`);
    });
    // The list is the legend: every region, hidden phrases said to be so.
    assert.equal(await page.locator("#regions li").count(), 19);
    assert.equal(await page.locator("#regions .not-shown").count(), 3);
    assert.deepEqual(problems, []);
    await page.close();
  });
}
