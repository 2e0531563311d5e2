import assert from "node:assert/strict";
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import sharp from "sharp";
import type { ImageDescription } from "../../src/app/describer.js";
import { ImageIndex } from "../../src/app/image-index.js";
import { type ImageHit, type PhraseRegion, Searcher } from "../../src/app/searcher.js";
import { CorruptFileError, InputError } from "../../src/errors.js";
import {
  type AppServerOptions,
  createAppServer,
  DEFAULT_LIBRARY_PAGE,
  type ImageDescriber,
  listen,
  queryExample,
} from "../../src/server/app-server.js";
import { REGION_COLOURS } from "../../src/server/page.js";
import { LARGE_VIEW_SIZE, THUMBNAIL_SIZE } from "../../src/server/thumbnails.js";
import { type ServedApp, serveTrainedWorld } from "./fixtures.js";

const LIMIT = 200_000;
const PIXEL_LIMIT = 100_000;

let dir: string;
let app: ServedApp;
let jpeg: Buffer;
const serverLog: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-serve-"));
  const imagesDir = join(dir, "named");
  mkdirSync(imagesDir);
  // An image inside the folder for named images, one outside it, and a link from inside to outside.
  const source = join(dir, "source.jpg");
  await sharp({ create: { width: 64, height: 48, channels: 3, background: "#c33" } })
    .jpeg()
    .toFile(source);
  copyFileSync(source, join(imagesDir, "inside.jpg"));
  copyFileSync(source, join(dir, "outside.jpg"));
  symlinkSync(join(dir, "outside.jpg"), join(imagesDir, "link.jpg"));
  const data = new Uint8Array(readFileSync(source));
  app = await serveTrainedWorld(dir, {
    indexed: 10,
    named: ["inside.jpg", "../outside.jpg", "link.jpg"].map((name) => ({ name, image: data })),
    imagesDir,
    maxUploadBytes: LIMIT,
    maxUploadPixels: PIXEL_LIMIT,
    log: (line) => serverLog.push(line),
  });
  jpeg = readFileSync(app.indexed[0]);
});

after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Refusal {
  readonly error: string;
}

interface SearchAnswer {
  readonly query: string;
  readonly hits: (ImageHit & { name: string; thumbnail: string; phrases: PhraseRegion[] })[];
}

async function post<T = Refusal>(body: Uint8Array, contentType = "application/octet-stream") {
  const res = await fetch(new URL("api/describe", app.url), {
    method: "POST",
    headers: { "Content-Type": contentType },
    body,
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** A raw request, for paths fetch would normalise and headers it would not send. */
function rawRequest(
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Buffer } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

test("the page is one self-contained document with a strict content security policy", async () => {
  const res = await fetch(app.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/html/);
  const csp = res.headers.get("content-security-policy")!;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
  const html = await res.text();
  assert.match(html, /<script>/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(html, /<script src=|<link rel="stylesheet"/);
});

test("info names the bundle, the index size and the upload limit", async () => {
  const info = await (await fetch(new URL("api/info", app.url))).json();
  assert.deepEqual(info, {
    bundle: "test-bundle",
    describesRegions: true,
    index: { images: 13 },
    maxUploadBytes: LIMIT,
    maxUploadPixels: PIXEL_LIMIT,
    maxSearchResults: 50,
    queryExample: "a sentence, e.g. a red circle next to a blue square",
  });
});

test("the search box's example is of shapes for the synthetic world, of a photo otherwise", () => {
  assert.match(queryExample("pixel-stats(dim=64,grid=4,seed=1)"), /red circle/);
  assert.equal(queryExample("resnet50-onnx"), "a sentence, e.g. a dog runs on the beach");
  assert.equal(queryExample(undefined), "a sentence");
});

test("region colours: at least 20 distinct before any repeats", () => {
  assert.ok(REGION_COLOURS.length >= 20);
  assert.equal(new Set(REGION_COLOURS).size, REGION_COLOURS.length);
});

test("the indexed images are listed page by page, in index order, before any query", async () => {
  const page = async (query: string) => {
    const res = await fetch(new URL(`api/images${query}`, app.url));
    assert.equal(res.status, 200, query);
    return (await res.json()) as {
      total: number;
      offset: number;
      images: { image: string; name: string; thumbnail: string }[];
    };
  };
  const first = await page("");
  assert.equal(first.total, 13);
  assert.equal(first.offset, 0);
  assert.equal(first.images.length, DEFAULT_LIBRARY_PAGE);
  assert.deepEqual(
    first.images.slice(0, 10).map((im) => im.image),
    app.indexed.slice(0, 10),
  );
  assert.equal(first.images[0].thumbnail, `/thumbnail?image=${encodeURIComponent(app.indexed[0])}`);
  const rest = await page("?offset=10&limit=5");
  assert.deepEqual(
    rest.images.map((im) => im.name),
    ["inside.jpg", "../outside.jpg", "link.jpg"].map((n) => n.replace("../", "")),
  );
  assert.deepEqual((await page("?offset=13")).images, []);
  assert.equal((await page("?limit=50")).images.length, 13);
  for (const bad of [
    "?limit=0",
    "?limit=51",
    "?offset=-1",
    "?offset=x",
    "?limit=1e3",
    "?offset=99999999999",
  ]) {
    const res = await fetch(new URL(`api/images${bad}`, app.url));
    assert.equal(res.status, 400, bad);
    assert.match(((await res.json()) as Refusal).error, /^(offset|limit): expected a whole number/);
  }
});

test("an uploaded JPEG, PNG or WebP is described: caption, regions with boxes and phrases", async () => {
  const png = await sharp(jpeg).png().toBuffer();
  const webp = await sharp(jpeg).resize(300, 200, { fit: "fill" }).webp().toBuffer();
  for (const [bytes, width, height] of [
    [jpeg, 224, 224],
    [png, 224, 224],
    [webp, 300, 200],
  ] as const) {
    const { status, json: d } = await post<ImageDescription>(bytes);
    assert.equal(status, 200, JSON.stringify(d));
    assert.equal(d.width, width);
    assert.equal(d.height, height);
    assert.match(d.caption, /^\w+( \w+)*$/);
    assert.equal(d.regions.length, 19);
    for (const r of d.regions) {
      assert.ok(r.box.x1 >= 0 && r.box.x2 <= width && r.box.y1 >= 0 && r.box.y2 <= height);
      assert.equal(typeof r.phrase?.text, "string");
      assert.equal(typeof r.phrase?.confidence, "number");
      assert.equal(r.caption, r.phrase?.shown ? r.phrase.text : undefined);
    }
  }
});

test("an upload that is not a JPEG, PNG or WebP is refused with 415, whatever it claims to be", async () => {
  const text = await post(Buffer.from("hello, world"), "image/jpeg");
  assert.equal(text.status, 415);
  assert.equal(
    text.json.error,
    "expected a JPEG, PNG or WebP image; this file starts with the bytes 68 65 6c 6c 6f 2c 20 77",
  );
  const pdf = await post(Buffer.from("%PDF-1.7\n..."));
  assert.equal(pdf.status, 415);
  assert.match(pdf.json.error, /this file is a PDF document/);
  const gif = await post(await sharp(jpeg).gif().toBuffer());
  assert.equal(gif.status, 415);
  assert.match(gif.json.error, /this file is a GIF image/);
});

test("an upload over the limit is refused with 413 saying both sizes", async () => {
  const big = Buffer.alloc(LIMIT + 100_000);
  jpeg.copy(big);
  const { status, json } = await post(big);
  assert.equal(status, 413);
  assert.equal(json.error, "the upload is 0.3 MB; the limit is 0.2 MB");
  // Declared far over the limit: answered at once, without reading the body, and not kept alive.
  const early = await rawRequest("/api/describe", {
    method: "POST",
    headers: { "Content-Length": 500_000_000 },
    body: jpeg.subarray(0, 16),
  });
  assert.equal(early.status, 413);
  assert.equal(early.headers.connection, "close");
  assert.match(JSON.parse(early.body).error, /the upload is 500 MB; the limit is 0.2 MB/);
});

test("an upload of more pixels than the limit is refused with 413 from its header", async () => {
  const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: "#888" } })
    .png()
    .toBuffer();
  const { status, json } = await post(png);
  assert.equal(status, 413);
  assert.equal(
    json.error,
    "the upload is 400 x 300 pixels (0.12 megapixels); the limit is 0.1 megapixels",
  );
  const within = await post(await sharp(png).resize(300, 300).png().toBuffer());
  assert.equal(within.status, 200);
});

test("an empty or undecodable upload is a 400 that says so", async () => {
  const empty = await post(new Uint8Array(0));
  assert.equal(empty.status, 400);
  assert.equal(empty.json.error, "the upload is empty: choose a JPEG, PNG or WebP image");
  const truncated = await post(jpeg.subarray(0, 40));
  assert.equal(truncated.status, 400);
  assert.match(truncated.json.error, /^the upload: cannot decode/);
});

test("unknown routes are 404 and wrong methods 405 with Allow", async () => {
  const missing = await fetch(new URL("no/such/page", app.url));
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "no such page: /no/such/page" });
  const get = await fetch(new URL("api/describe", app.url));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  assert.match(((await get.json()) as Refusal).error, /GET \/api\/describe: use POST/);
  const del = await fetch(app.url, { method: "DELETE" });
  assert.equal(del.status, 405);
});

test("search ranks the indexed images best first, each phrase on a region of its image", async () => {
  const im = app.trained.world.world.images[0];
  const query = im.sentences[0].tokens.join(" ");
  const res = await fetch(new URL(`api/search?q=${encodeURIComponent(query)}&k=5`, app.url));
  assert.equal(res.status, 200);
  const { query: echoed, hits } = (await res.json()) as SearchAnswer;
  assert.equal(echoed, query);
  assert.equal(hits.length, 5);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
  for (const hit of hits) {
    assert.equal(hit.thumbnail, `/thumbnail?image=${encodeURIComponent(hit.image)}`);
    assert.ok(hit.phrases.length >= 1);
    assert.equal(hit.phrases.map((p) => p.phrase).join(" "), query);
    for (const p of hit.phrases) assert.ok(p.box.x2 <= hit.width && p.box.y2 <= hit.height);
  }
  const all = await fetch(new URL(`api/search?q=${encodeURIComponent(query)}`, app.url));
  assert.equal(((await all.json()) as SearchAnswer).hits.length, 12);
});

test("bad searches are 400s that say what to fix", async () => {
  const cases: [string, RegExp][] = [
    ["api/search", /type a sentence/],
    ["api/search?q=%20%20", /type a sentence/],
    ["api/search?q=zzz%20qqq", /no word of "zzz qqq" is in the model's vocabulary/],
    ["api/search?q=red&k=0", /k: expected a whole number from 1 to 50, got "0"/],
    ["api/search?q=red&k=many", /got "many"/],
    [`api/search?q=${"red ".repeat(200)}`, /longer than 500 characters/],
  ];
  for (const [path, message] of cases) {
    const res = await fetch(new URL(path, app.url));
    assert.equal(res.status, 400, path);
    assert.match(((await res.json()) as Refusal).error, message, path);
  }
});

test("thumbnails of indexed images are small JPEGs", async () => {
  for (const key of [app.indexed[0], "inside.jpg"]) {
    const res = await fetch(new URL(`thumbnail?image=${encodeURIComponent(key)}`, app.url));
    assert.equal(res.status, 200, key);
    assert.equal(res.headers.get("content-type"), "image/jpeg");
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.equal(meta.format, "jpeg");
    assert.ok(meta.width! <= THUMBNAIL_SIZE && meta.height! <= THUMBNAIL_SIZE);
  }
});

test("the larger view of an indexed image is at most LARGE_VIEW_SIZE; other sizes are refused", async () => {
  const big = join(dir, "big.png");
  await sharp({ create: { width: 1600, height: 800, channels: 3, background: "#3c3" } })
    .png()
    .toFile(big);
  // An image not in the index is refused whatever the size.
  const missing = await fetch(
    new URL(`thumbnail?image=${encodeURIComponent(big)}&size=large`, app.url),
  );
  assert.equal(missing.status, 404);
  const key = app.indexed[0];
  const res = await fetch(
    new URL(`thumbnail?image=${encodeURIComponent(key)}&size=large`, app.url),
  );
  assert.equal(res.status, 200);
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  const original = await sharp(key).metadata();
  assert.equal(meta.format, "jpeg");
  assert.equal(
    Math.max(meta.width!, meta.height!),
    Math.min(LARGE_VIEW_SIZE, Math.max(original.width!, original.height!)),
  );
  const bad = await fetch(new URL(`thumbnail?image=${encodeURIComponent(key)}&size=9999`, app.url));
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as Refusal).error, /size: expected "large"/);
});

test("no file outside the index and the image folder is served (no path traversal)", async () => {
  const thumbnail = (key: string) => `/thumbnail?image=${encodeURIComponent(key)}`;
  const cases: [string, number, RegExp][] = [
    [thumbnail("/etc/passwd"), 404, /\/etc\/passwd: not an indexed image/],
    [thumbnail(`${app.indexed[0]}/../../../../etc/passwd`), 404, /not an indexed image/],
    [thumbnail("../../etc/passwd"), 404, /not an indexed image/],
    [thumbnail("../outside.jpg"), 403, /\.\.\/outside\.jpg: outside the image folder/],
    [thumbnail("link.jpg"), 403, /link\.jpg: outside the image folder/],
    ["/thumbnail", 400, /say which image/],
    ["/../../etc/passwd", 404, /no such page/],
    ["/%2e%2e/%2e%2e/etc/passwd", 404, /no such page/],
    ["/thumbnail/..%2f..%2fetc%2fpasswd", 404, /no such page/],
  ];
  for (const [path, status, message] of cases) {
    const res = await rawRequest(path);
    assert.equal(res.status, status, path);
    assert.match(JSON.parse(res.body).error, message, path);
    assert.doesNotMatch(res.body, /root:/);
  }
});

test("a request addressed to another host name is refused (DNS rebinding)", async () => {
  const port = new URL(app.url).port;
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
    assert.equal((await rawRequest("/api/info", { headers: { Host: host } })).status, 200, host);
  }
  const rebound = await rawRequest("/api/info", { headers: { Host: `attacker.example:${port}` } });
  assert.equal(rebound.status, 400);
  assert.match(
    JSON.parse(rebound.body).error,
    /answers requests for 127\.0\.0\.1, localhost, \[::1\], not for "attacker\.example:\d+"/,
  );
});

/** Runs `use` against a server of `options` (a stand-in describer by default) on a free port. */
async function withServer(
  options: Partial<AppServerOptions>,
  use: (url: string) => Promise<void>,
): Promise<void> {
  const server = createAppServer({
    describer: { describesRegions: false, describe: () => Promise.reject(new Error("unused")) },
    bundleName: "stand-in",
    ...options,
  });
  const url = await listen(server, 0, "127.0.0.1");
  try {
    await use(url);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

test("a POST from a page of another origin is refused with 403 before it is read", async () => {
  let described = 0;
  const describer: ImageDescriber = {
    describesRegions: false,
    describe: async () => {
      described++;
      return { caption: "x" } as unknown as ImageDescription;
    },
  };
  await withServer({ describer }, async (url) => {
    const own = new URL(url).origin;
    const refused: Record<string, string>[] = [
      { Origin: "http://evil.example", "Content-Type": "text/plain" },
      { Origin: "null" },
      { Origin: own.replace("http:", "https:") },
      { Origin: `http://localhost:${new URL(url).port}` },
      { "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-site", Origin: "http://localhost:3000" },
    ];
    for (const headers of refused) {
      const res = await fetch(new URL("api/describe", url), {
        method: "POST",
        headers,
        body: jpeg,
      });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(((await res.json()) as Refusal).error, /is refused; use this server's own page/);
    }
    assert.equal(described, 0);
    const allowed: Record<string, string>[] = [
      { Origin: own, "Sec-Fetch-Site": "same-origin" },
      {},
    ];
    for (const headers of allowed) {
      const res = await fetch(new URL("api/describe", url), {
        method: "POST",
        headers,
        body: jpeg,
      });
      assert.equal(res.status, 200, JSON.stringify(headers));
    }
    assert.equal(described, 2);
  });
});

test("describes past the running and waiting ones are refused with 503 and Retry-After", async () => {
  const held: (() => void)[] = [];
  let started = 0;
  const describer: ImageDescriber = {
    describesRegions: false,
    describe: () => {
      started++;
      return new Promise((resolve) =>
        held.push(() => resolve({ caption: "held" } as unknown as ImageDescription)),
      );
    },
  };
  await withServer({ describer, maxConcurrentDescribes: 1, maxQueuedDescribes: 1 }, async (url) => {
    const send = () =>
      fetch(new URL("api/describe", url), { method: "POST", body: jpeg }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get("retry-after"),
        json: (await r.json()) as Refusal & { caption?: string },
      }));
    const first = send();
    while (started === 0) await new Promise((r) => setTimeout(r, 5));
    const second = send();
    // The second must reach the queue before the three that are refused (under load it may not at once).
    await new Promise((r) => setTimeout(r, 200));
    const refused = await Promise.all([send(), send(), send()]);
    for (const r of refused) {
      assert.equal(r.status, 503);
      assert.equal(r.retryAfter, "2");
      assert.equal(
        r.json.error,
        "the server is busy describing other images (1 running, 1 waiting); try again in 2 s",
      );
    }
    assert.equal(started, 1);
    held.shift()!();
    assert.equal((await first).json.caption, "held");
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    held.shift()!();
    assert.equal((await second).status, 200);
    assert.equal(started, 2);
  });
});

test("a corrupt index is a 500 that names its file, logged; a bad query stays a 400", async () => {
  const copy = join(dir, "corrupt-index");
  cpSync(app.indexDir, copy, { recursive: true });
  const searcher = Searcher.open(app.trained.bundleDir, copy);
  const log: string[] = [];
  // Opened while whole; the images table's data is damaged afterwards.
  const index = await ImageIndex.open(copy);
  const data = join(copy, "db", "images.lance", "data");
  for (const f of readdirSync(data)) {
    const bytes = readFileSync(join(data, f));
    writeFileSync(join(data, f), bytes.fill(0xff, bytes.length - 64));
  }
  try {
    await withServer({ search: { searcher, index }, log: (l) => log.push(l) }, async (url) => {
      const bad = await fetch(new URL("api/search?q=zzz", url));
      assert.equal(bad.status, 400);
      const res = await fetch(new URL("api/search?q=red", url));
      assert.equal(res.status, 500);
      const { error } = (await res.json()) as Refusal;
      assert.match(error, /^the server failed: \S+\/db: cannot read the index's tables \(/);
      assert.ok(error.includes(join(copy, "db")), error);
      assert.match(log.join("\n"), /GET \/api\/search\?q=red: .*cannot read the index's tables/);
    });
  } finally {
    await searcher.close();
  }
  const named = `${copy}/features/store.json: not an imagesent-features store`;
  const thrown = [
    [new InputError(named), 500, /^the server failed: \S+\/store\.json: not an imagesent/],
    [
      new CorruptFileError("index.json: not JSON"),
      500,
      /^the server failed: index.json: not JSON$/,
    ],
    [new InputError("no word of it"), 400, /^no word of it$/],
    [new RangeError("out of range\n  at x"), 500, /^the server failed: out of range$/],
  ] as const;
  for (const [err, status, message] of thrown) {
    const stub = {
      search: () => Promise.reject(err),
      similar: () => Promise.reject(err),
    };
    await withServer({ search: { searcher: stub, index }, log: () => {} }, async (url) => {
      const res = await fetch(new URL("api/search?q=red", url));
      assert.equal(res.status, status, err.message);
      assert.match(((await res.json()) as Refusal).error, message);
    });
  }
});

test("a failing describer is a 500 with its message, and the server keeps serving", async () => {
  const log: string[] = [];
  const server = createAppServer({
    describer: {
      describesRegions: false,
      describe: () => Promise.reject(new Error("encoder exploded")),
    },
    bundleName: "broken",
    log: (line) => log.push(line),
  });
  const url = await listen(server, 0, "127.0.0.1");
  try {
    const res = await fetch(new URL("api/describe", url), { method: "POST", body: jpeg });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: "the server failed: encoder exploded" });
    assert.match(log.join("\n"), /POST \/api\/describe: Error: encoder exploded/);
    const info = await fetch(new URL("api/info", url));
    assert.equal(info.status, 200);
    assert.equal(((await info.json()) as { index: unknown }).index, null);
    const search = await fetch(new URL("api/search?q=red", url));
    assert.equal(search.status, 404);
    assert.match(
      ((await search.json()) as Refusal).error,
      /search is off: start imagesent serve with --index/,
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  assert.deepEqual(serverLog, []);
});
