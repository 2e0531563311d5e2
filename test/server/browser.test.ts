import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { allLoaded, findChromium, launchChromium } from "./browser-harness.js";
import { type ServedApp, serveTrainedWorld } from "./fixtures.js";

/** The web app in headless Chromium: both flows and a refused upload, as a user does them. */

const executable = findChromium();
const skip = executable
  ? false
  : "no Chromium found: install the 'chromium' package or set IMAGESENT_CHROMIUM to its executable";

let dir: string;
let app: ServedApp;
let browser: Browser;

before(async () => {
  if (!executable) return;
  dir = mkdtempSync(join(tmpdir(), "imagesent-browser-"));
  app = await serveTrainedWorld(dir, { indexed: 30 });
  browser = await launchChromium(executable);
});

after(async () => {
  if (!executable) return;
  await browser.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh page on the app, loaded and set up; `problems` collects script errors and CSP reports. */
async function openApp(
  viewport = { width: 1400, height: 1000 },
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(60_000);
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(err.message));
  page.on("console", (msg) => {
    // The refused upload's 415 is logged by the browser as a failed resource; that is expected.
    if (msg.type() === "error" && !/status of 415/.test(msg.text())) problems.push(msg.text());
  });
  await page.goto(app.url);
  await page.locator("#about", { hasText: "test-bundle" }).waitFor();
  return { page, problems };
}

test("pick an image: its caption, region boxes and region phrases appear", { skip }, async () => {
  const { page, problems } = await openApp();
  const image = join(dir, "scene.png");
  await sharp(app.indexed[1]).resize(448, 448).png().toFile(image);
  await page.locator("#file").setInputFiles(image);
  await page.locator("#description").waitFor({ state: "visible" });
  assert.match((await page.locator("#caption").textContent()) ?? "", /^\w+( \w+)*$/);
  assert.equal(await page.locator("#boxes rect").count(), 19);
  assert.equal(await page.locator("#regions li").count(), 19);
  assert.equal(await page.locator("#boxes").getAttribute("viewBox"), "0 0 448 448");
  await page.waitForFunction(allLoaded, "#photo");
  assert.equal(await page.locator("#photo").getAttribute("alt"), "scene.png");
  // Hovering a region in the list singles out its box.
  await page.locator("#regions li").nth(2).hover();
  assert.match((await page.locator("#boxes rect").nth(2).getAttribute("class")) ?? "", /\bon\b/);
  assert.match((await page.locator("#boxes rect").nth(0).getAttribute("class")) ?? "", /\boff\b/);
  await page.mouse.move(0, 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test("type a sentence: ranked thumbnails with each phrase highlighted on its region", {
  skip,
}, async () => {
  const { page, problems } = await openApp();
  const query = app.trained.world.world.images[1].sentences[0].tokens.join(" ");
  await page.locator("#query").fill(query);
  await page.locator("#query").press("Enter");
  await page.locator(".hit").first().waitFor();
  const hits = page.locator(".hit");
  assert.equal(await hits.count(), 12);
  await page.waitForFunction(allLoaded, ".hit img");
  for (let i = 0; i < 12; i++) {
    const hit = hits.nth(i);
    const marks = await hit.locator("mark").allTextContents();
    assert.equal(marks.join(" "), query, `hit ${i + 1}`);
    assert.equal(await hit.locator("svg rect").count(), marks.length);
    assert.match((await hit.locator(".meta").textContent()) ?? "", new RegExp(`^#${i + 1} · `));
  }
  const scores = await hits.locator(".meta").allTextContents();
  const values = scores.map((s) => Number(s.split(" · ")[1]));
  for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] >= values[i], scores.join("|"));
  await hits.first().locator("mark").first().hover();
  assert.match(
    (await hits.first().locator("svg rect").first().getAttribute("class")) ?? "",
    /\bon\b/,
  );
  await page.mouse.move(0, 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a file that is not an image shows the server's message in the page", { skip }, async () => {
  const { page, problems } = await openApp();
  await page.locator("#file").setInputFiles({
    name: "notes.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("shopping list: eggs"),
  });
  const error = page.locator("#describe-error");
  await error.waitFor({ state: "visible" });
  assert.match(
    (await error.textContent()) ?? "",
    /^notes\.txt: expected a JPEG, PNG or WebP image; this file starts with the bytes 73 68 6f/,
  );
  assert.equal(await page.locator("#description").isVisible(), false);
  assert.deepEqual(problems, []);
  await page.close();
});

/**
 * Runs in the page: facts about its elements for the checks below (the project compiles without
 * DOM types, and a function passed to page.evaluate cannot use this module's names).
 */
function pageFacts(what: string): unknown {
  interface El {
    getClientRects(): { length: number };
    readonly id: string;
  }
  const g = globalThis as unknown as {
    document: {
      documentElement: { scrollWidth: number };
      activeElement: El | null;
      querySelectorAll(s: string): Iterable<El>;
    };
    getComputedStyle(e: El): Record<string, string>;
  };
  const d = g.document;
  if (what === "width") return d.documentElement.scrollWidth;
  if (what === "brokenPhrases") {
    return [...d.querySelectorAll("#regions li .phrase")].filter(
      (e) => e.getClientRects().length !== 1,
    ).length;
  }
  if (what === "focused") {
    const e = d.activeElement;
    if (!e) return null;
    const s = g.getComputedStyle(e);
    return { id: e.id, style: s.outlineStyle, width: s.outlineWidth, colour: s.outlineColor };
  }
  return [...d.querySelectorAll("#boxes rect")].map((r) => g.getComputedStyle(r).stroke);
}

/** Runs in the page: the outline style of the element given. */
function dropOutline(e: unknown): string {
  const g = globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } };
  return g.getComputedStyle(e).outlineStyle;
}

test("at phone width (390 px) nothing overflows and no region phrase breaks across lines", {
  skip,
}, async () => {
  const { page, problems } = await openApp({ width: 390, height: 844 });
  await page.locator(".hit").first().waitFor();
  const image = join(dir, "phone.png");
  await sharp(app.indexed[1]).resize(448, 448).png().toFile(image);
  await page.locator("#file").setInputFiles(image);
  await page.locator("#description").waitFor({ state: "visible" });
  await page.waitForFunction(allLoaded, "#photo");
  const query = app.trained.world.world.images[1].sentences[0].tokens.join(" ");
  await page.locator("#query").fill(query);
  await page.locator("#query").press("Enter");
  await page.locator(".hit mark").first().waitFor();
  await page.waitForFunction(allLoaded, ".hit img");
  assert.ok(
    ((await page.evaluate(pageFacts, "width")) as number) <= 390,
    "the page is wider than the phone",
  );
  for (const panel of ["#describe-panel", "#search-panel"]) {
    const box = (await page.locator(panel).boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `${panel}: ${JSON.stringify(box)}`);
  }
  // Each region's list item and phrase sits on one line box: no phrase is broken mid-phrase.
  const broken = await page.evaluate(pageFacts, "brokenPhrases");
  assert.equal(await page.locator("#regions li .phrase").count(), 19);
  assert.equal(broken, 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test("keyboard focus shows a visible ring", { skip }, async () => {
  const { page, problems } = await openApp();
  const focused = async () =>
    (await page.evaluate(pageFacts, "focused")) as { id: string; style: string } | null;
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    if ((await focused())?.id === "query") break;
  }
  assert.deepEqual(await focused(), {
    id: "query",
    style: "solid",
    width: "3px",
    colour: "rgb(251, 191, 36)",
  });
  // The hidden file input's ring is drawn on its drop zone.
  await page.locator("#query").focus();
  await page.keyboard.press("Shift+Tab");
  assert.equal((await focused())?.id, "file");
  assert.equal(await page.locator("#drop").evaluate(dropOutline), "solid");
  assert.deepEqual(problems, []);
  await page.close();
});

test("19 regions get 19 distinct colours", { skip }, async () => {
  const { page, problems } = await openApp();
  const image = join(dir, "colours.png");
  await sharp(app.indexed[2]).resize(448, 448).png().toFile(image);
  await page.locator("#file").setInputFiles(image);
  await page.locator("#description").waitFor({ state: "visible" });
  const strokes = (await page.evaluate(pageFacts, "strokes")) as string[];
  assert.equal(strokes.length, 19);
  assert.equal(new Set(strokes).size, 19, strokes.join(" "));
  assert.deepEqual(problems, []);
  await page.close();
});

test("the search box's example speaks of the synthetic world's shapes for its bundle", {
  skip,
}, async () => {
  const { page } = await openApp();
  assert.equal(
    await page.locator("#query").getAttribute("placeholder"),
    "a sentence, e.g. a red circle next to a blue square",
  );
  await page.close();
});

test("before any query the library is shown, 12 at a time, with More", { skip }, async () => {
  const { page, problems } = await openApp();
  const cards = page.locator(".hit");
  await cards.first().waitFor();
  assert.equal(await cards.count(), 12);
  assert.equal(await cards.nth(0).locator(".meta").textContent(), basename(app.indexed[0]));
  await page.locator("#more").click();
  await cards.nth(23).waitFor();
  await page.locator("#more").click();
  await cards.nth(29).waitFor();
  await page.locator("#more").waitFor({ state: "hidden" });
  assert.equal(await cards.count(), 30);
  assert.match((await page.locator("#search-status").textContent()) ?? "", /30 of 30/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("More ranks 12 more hits; a hit opens a larger view, closed with Escape", {
  skip,
}, async () => {
  const { page, problems } = await openApp();
  const query = app.trained.world.world.images[1].sentences[0].tokens.join(" ");
  await page.locator("#query").fill(query);
  await page.locator("#query").press("Enter");
  const hits = page.locator(".hit");
  await hits.locator("mark").first().waitFor();
  assert.equal(await hits.count(), 12);
  await page.locator("#more").click();
  await hits.nth(23).locator("mark").first().waitFor();
  assert.match((await hits.nth(12).locator(".meta").textContent()) ?? "", /^#13 · /);
  await page.locator("#more").click();
  await hits.nth(29).waitFor();
  await page.locator("#more").waitFor({ state: "hidden" });
  assert.equal(await hits.count(), 30);

  const meta = (await hits.first().locator(".meta").textContent()) ?? "";
  await hits.first().locator("button.open").click();
  const viewer = page.locator("#viewer");
  await viewer.waitFor({ state: "visible" });
  await page.waitForFunction(allLoaded, "#viewer-photo");
  assert.equal(await page.locator("#viewer-title").textContent(), meta);
  assert.equal((await page.locator("#viewer-sentence mark").allTextContents()).join(" "), query);
  assert.equal(
    await page.locator("#viewer-boxes rect").count(),
    await page.locator("#viewer-sentence mark").count(),
  );
  const shown = (await page.locator("#viewer-photo").boundingBox())!;
  const thumb = (await hits.first().locator("img").boundingBox())!;
  assert.ok(shown.width > thumb.width, `${shown.width} > ${thumb.width}`);
  await page.keyboard.press("Escape");
  await viewer.waitFor({ state: "hidden" });
  assert.deepEqual(problems, []);
  await page.close();
});
