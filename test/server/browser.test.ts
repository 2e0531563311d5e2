import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  app = await serveTrainedWorld(dir, { indexed: 12 });
  browser = await launchChromium(executable);
});

after(async () => {
  if (!executable) return;
  await browser.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh page on the app, loaded and set up; `problems` collects script errors and CSP reports. */
async function openApp(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
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
