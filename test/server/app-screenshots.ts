import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { Describer } from "../../src/app/describer.js";
import { ImageIndex } from "../../src/app/image-index.js";
import { loadBundle } from "../../src/app/model-bundle.js";
import { Searcher } from "../../src/app/searcher.js";
import { writeFileAtomic } from "../../src/core/atomic-file.js";
import { createAppServer, listen } from "../../src/server/app-server.js";
import { allLoaded, findChromium, launchChromium } from "./browser-harness.js";

/**
 * Screenshots of the web app for docs/app/, over the models and index `imagesent demo` wrote:
 *
 *   npm run demo -- --out /tmp/imagesent-demo
 *   npm run build && node dist/test/server/app-screenshots.js /tmp/imagesent-demo docs/app
 *
 * It serves DEMO/bundle with DEMO/index (images from DEMO/world/images), describes the second
 * indexed image (enlarged twice), searches with the first indexed sentence, and saves the two
 * panels as OUT/describe.png and OUT/search.png at desktop width (1400 px), then the same two
 * flows at phone width (390 x 844) as OUT/phone-describe.png and OUT/phone-search.png (the
 * top of the page, as a phone shows it).
 */

const USAGE = "usage: node dist/test/server/app-screenshots.js DEMO_OUT_DIR SCREENSHOT_DIR";

async function main(args: string[]): Promise<number> {
  if (args.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  const [demoDir, outDir] = args.map((a) => resolve(a));
  const executable = findChromium();
  if (!executable) {
    console.error("no Chromium found: install the 'chromium' package or set IMAGESENT_CHROMIUM");
    return 1;
  }
  const bundle = loadBundle(join(demoDir, "bundle"));
  const indexDir = join(demoDir, "index");
  const imagesDir = join(demoDir, "world", "images");
  const index = await ImageIndex.open(indexDir);
  const key = (await index.keys(1, 1))[0];
  const second = key === undefined ? undefined : await index.get(key);
  const query = index.sentences()[0];
  if (!second || !query) {
    console.error(`${indexDir}: needs two images and a sentence; run imagesent demo first`);
    return 1;
  }
  const describer = await Describer.load(bundle);
  const searcher = Searcher.open(bundle, indexDir);
  const server = createAppServer({
    describer,
    bundleName: "demo",
    search: { searcher, index, imagesDir },
  });
  const work = mkdtempSync(join(tmpdir(), "imagesent-screenshots-"));
  const browser = await launchChromium(executable);
  try {
    const url = await listen(server, 0, "127.0.0.1");
    mkdirSync(outDir, { recursive: true });
    const image = join(work, second.key.replace(/\.\w+$/, ".png"));
    await sharp(join(imagesDir, second.key))
      .resize(second.width * 2, second.height * 2)
      .png()
      .toFile(image);
    const shoot = async (width: number, height: number, prefix: string) => {
      const page = await browser.newPage({ viewport: { width, height } });
      page.setDefaultTimeout(120_000);
      await page.goto(url);
      await page.locator("#about", { hasText: "demo" }).waitFor();
      await page.locator("#file").setInputFiles(image);
      await page.locator("#description").waitFor({ state: "visible" });
      await page.waitForFunction(allLoaded, "#photo");
      const describePng = join(outDir, `${prefix}describe.png`);
      const phone = width < 600;
      writeFileAtomic(
        describePng,
        phone ? await page.screenshot() : await page.locator("#describe-panel").screenshot(),
      );
      console.log(`wrote ${describePng} (${second.key})`);

      await page.locator("#query").fill(query);
      await page.locator("#query").press("Enter");
      await page.locator(".hit mark").first().waitFor();
      await page.waitForFunction(allLoaded, ".hit img");
      // Hover the top hit's last phrase, so the picture shows one region singled out.
      await page.locator(".hit").first().locator("mark").last().hover();
      const searchPng = join(outDir, `${prefix}search.png`);
      if (phone) {
        await page
          .locator("#search-panel")
          .evaluate((e) => (e as unknown as { scrollIntoView(): void }).scrollIntoView());
      }
      writeFileAtomic(
        searchPng,
        phone ? await page.screenshot() : await page.locator("#search-panel").screenshot(),
      );
      console.log(`wrote ${searchPng} ("${query}")`);
      await page.close();
    };
    await shoot(1400, 1000, "");
    await shoot(390, 844, "phone-");
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
    await describer.close();
    await searcher.close();
    rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
