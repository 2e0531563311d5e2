/**
 * Hostile requests against the web app: one server on 127.0.0.1 over the tiny trained world,
 * each case its own test. Every case checks the status, that a refusal is one line of JSON
 * {"error": ...}, that nothing outside the index and --images leaks, and that the server still
 * answers a normal search afterwards. The only 5xx answers are the 503s of a full describe queue
 * and the 500 of a corrupt index.
 */
import assert from "node:assert/strict";
import {
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
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { ImageIndex } from "../../src/app/image-index.js";
import { Searcher } from "../../src/app/searcher.js";
import { createAppServer, listen } from "../../src/server/app-server.js";
import { RETRY_AFTER_SECONDS } from "../../src/server/describe-queue.js";
import { type ServedApp, serveTrainedWorld } from "../server/fixtures.js";
import { assertClearError, runCli } from "../support/cli-run.js";

const LIMIT = 1_000_000;
const SECRET = "TOP-SECRET-7f3a";

let dir: string;
let app: ServedApp;
let port: string;
let jpeg: Buffer;
let png: Buffer;
/** A 16000 x 16000 single-colour PNG of a few hundred KB: 768 MB once decoded. */
let hugePng: Buffer;
const serverLog: string[] = [];
/** Describes wait for this before they start (the concurrency cases hold them here). */
let gate: Promise<void> = Promise.resolve();
let describesStarted = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "imagesent-hostile-"));
  const imagesDir = join(dir, "named");
  const outsideDir = join(dir, "outside");
  mkdirSync(imagesDir);
  mkdirSync(outsideDir);
  const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3c3" } })
    .jpeg()
    .toBuffer();
  writeFileSync(join(imagesDir, "inside.jpg"), small);
  writeFileSync(join(dir, "outside.jpg"), small);
  writeFileSync(join(outsideDir, "secret.jpg"), small);
  writeFileSync(join(dir, "secret.txt"), SECRET);
  symlinkSync(join(dir, "outside.jpg"), join(imagesDir, "link.jpg"));
  symlinkSync(outsideDir, join(imagesDir, "out-dir"));
  const named = ["inside.jpg", "../outside.jpg", "link.jpg", "out-dir/secret.jpg"];
  const [served, huge] = await Promise.all([
    serveTrainedWorld(dir, {
      indexed: 6,
      named: named.map((name) => ({ name, image: new Uint8Array(small) })),
      imagesDir,
      maxUploadBytes: LIMIT,
      maxConcurrentDescribes: 1,
      maxQueuedDescribes: 1,
      describer: (trained) => ({
        describesRegions: trained.describesRegions,
        async describe(image, options) {
          describesStarted++;
          await gate;
          return trained.describe(image, options);
        },
      }),
      log: (line) => serverLog.push(line),
    }),
    sharp({ create: { width: 16_000, height: 16_000, channels: 3, background: "#777" } })
      .toColourspace("b-w")
      .png({ compressionLevel: 9 })
      .toBuffer(),
  ]);
  app = served;
  hugePng = huge;
  port = new URL(app.url).port;
  jpeg = readFileSync(app.indexed[0]);
  png = await sharp(jpeg).png().toBuffer();
});

after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly millis: number;
}

/** One request on its own connection, the path sent as it is (no normalising). */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Uint8Array } = {},
): Promise<Answer> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            millis: performance.now() - start,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * Bytes written on a raw connection (for requests node:http will not send) and the answer, read
 * until the server closes (the requests ask it to) or, with `halfClose`, after this side ends.
 */
function sendRaw(bytes: string | Buffer, options: { halfClose?: boolean } = {}): Promise<Answer> {
  return openRaw(bytes, options).answer;
}

function openRaw(
  bytes: string | Buffer,
  options: { halfClose?: boolean } = {},
): { socket: Socket; answer: Promise<Answer> } {
  const start = performance.now();
  const socket = connect({ host: "127.0.0.1", port: Number(port) });
  const answer = new Promise<Answer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(":");
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers,
        body: rest.join("\r\n\r\n"),
        millis: performance.now() - start,
      });
    });
    if (options.halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
  return { socket, answer };
}

function describe(
  body: Uint8Array,
  headers: Record<string, string | number> = { "Content-Type": "application/octet-stream" },
): Promise<Answer> {
  return send("/api/describe", { method: "POST", headers, body });
}

/** Asserts a refusal: the status, one line of JSON {"error": message}, and nothing leaked. */
function assertRefused(answer: Answer, status: number, message?: RegExp): void {
  assert.equal(answer.status, status, answer.body);
  assert.match(String(answer.headers["content-type"]), /^application\/json/);
  assert.doesNotMatch(answer.body, /\n/, "one line");
  const json = JSON.parse(answer.body) as { error?: unknown };
  assert.deepEqual(Object.keys(json), ["error"]);
  assert.equal(typeof json.error, "string");
  assert.ok((json.error as string).length > 0);
  if (message) assert.match(json.error as string, message);
  assertNothingLeaked(answer);
}

function assertNothingLeaked(answer: Answer): void {
  assert.ok(!answer.body.includes(SECRET), "the secret file leaked");
  assert.doesNotMatch(answer.body, /root:.*:0:0:/, "/etc/passwd leaked");
}

/** The server still answers a normal search, quickly. */
async function assertStillServing(): Promise<void> {
  const res = await send("/api/search?q=red&k=1");
  assert.equal(res.status, 200, res.body);
  assert.equal((JSON.parse(res.body) as { hits: unknown[] }).hits.length, 1);
}

const thumbnail = (key: string) => `/thumbnail?image=${encodeURIComponent(key)}`;

// Path traversal through /thumbnail: the key is looked up in the index before any path is built.
const thumbnailCases: [string, () => string, number, RegExp][] = [
  ["an absolute path", () => thumbnail("/etc/passwd"), 404, /not an indexed image/],
  ["a file beside the test folder", () => thumbnail(join(dir, "secret.txt")), 404, /not an/],
  ["/proc/self/environ", () => thumbnail("/proc/self/environ"), 404, /not an indexed image/],
  ["plain ../", () => "/thumbnail?image=../../../../etc/passwd", 404, /not an indexed image/],
  ["encoded ../", () => "/thumbnail?image=..%2f..%2f..%2fetc%2fpasswd", 404, /not an indexed/],
  ["%2e%2e", () => "/thumbnail?image=%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404, /not an indexed/],
  ["double-encoded ../", () => "/thumbnail?image=%252e%252e%252fetc%252fpasswd", 404, /not an/],
  ["backslashes", () => "/thumbnail?image=..%5c..%5c..%5cetc%5cpasswd", 404, /not an indexed/],
  ["a Windows path", () => "/thumbnail?image=C:%5cWindows%5cwin.ini", 404, /not an indexed/],
  ["NUL after a name", () => "/thumbnail?image=inside.jpg%00", 404, /not an indexed image/],
  ["NUL then ../", () => "/thumbnail?image=inside.jpg%00/../../secret.txt", 404, /not an/],
  ["a file: URL", () => thumbnail("file:///etc/passwd"), 404, /not an indexed image/],
  ["~ for home", () => thumbnail("~/.ssh/id_rsa"), 404, /not an indexed image/],
  ["....//", () => thumbnail("....//....//etc/passwd"), 404, /not an indexed image/],
  ["./ before a name", () => thumbnail("./inside.jpg"), 404, /not an indexed image/],
  ["/ after a name", () => thumbnail("inside.jpg/"), 404, /not an indexed image/],
  [
    "an indexed path then ../",
    () => thumbnail(`${app.indexed[0]}/../../../../etc/passwd`),
    404,
    /not an/,
  ],
  [
    "an indexed name that climbs out",
    () => thumbnail("../outside.jpg"),
    403,
    /outside the image folder/,
  ],
  ["a symlink out of --images", () => thumbnail("link.jpg"), 403, /outside the image folder/],
  ["a symlinked folder out of --images", () => thumbnail("out-dir/secret.jpg"), 403, /outside the/],
  ["an empty key", () => "/thumbnail?image=", 400, /say which image/],
  ["no key", () => "/thumbnail", 400, /say which image/],
];
for (const [what, path, status, message] of thumbnailCases) {
  test(`thumbnail traversal: ${what} is refused (${status})`, async () => {
    assertRefused(await send(path()), status, message);
    await assertStillServing();
  });
}

test("thumbnail: an image inside --images is served, a JPEG", async () => {
  const res = await send(thumbnail("inside.jpg"));
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-type"], "image/jpeg");
  await assertStillServing();
});

// Path traversal in the request target itself: only the routes exist, no file is ever served.
const targetCases: [string, string, number, RegExp][] = [
  ["../ in the path", "/../../etc/passwd", 404, /no such page: \/etc\/passwd/],
  ["%2e%2e in the path", "/%2e%2e/%2e%2e/etc/passwd", 404, /no such page/],
  ["double-encoded %2e%2e", "/%252e%252e/%252e%252e/etc/passwd", 404, /no such page/],
  ["encoded slashes", "/..%2f..%2fetc%2fpasswd", 404, /no such page/],
  ["encoded backslashes", "/..%5c..%5cetc%5cpasswd", 404, /no such page/],
  ["../ after a route", "/thumbnail/../../etc/passwd", 404, /no such page/],
  ["an absolute file path", "/etc/passwd", 404, /no such page/],
  ["a protocol-relative path", "//etc/passwd", 404, /no such page/],
  ["an absolute-form target", "http://evil.example/etc/passwd", 404, /no such page/],
  ["the package's files", "/package.json", 404, /no such page/],
  ["the source files", "/src/server/app-server.ts", 404, /no such page/],
  ["a dot file", "/.env", 404, /no such page/],
  ["an encoded NUL", "/%00", 404, /no such page/],
  ["index.html", "/index.html", 404, /no such page/],
  [
    "../ into a route with a climbing key",
    "/api/../thumbnail?image=..%2foutside.jpg",
    403,
    /outside/,
  ],
];
for (const [what, path, status, message] of targetCases) {
  test(`request target: ${what} is refused (${status})`, async () => {
    assertRefused(await send(path), status, message);
    await assertStillServing();
  });
}

// Requests that are not well-formed HTTP, on a raw connection.
const rawCases: [string, () => string, number, RegExp][] = [
  [
    "a NUL in the request line",
    () => "GET /\0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    400,
    /well-formed/,
  ],
  [
    "raw backslashes in the path",
    () =>
      `GET /..\\..\\etc\\passwd HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    404,
    /no such page/,
  ],
  ["an unknown method", () => "FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, /well-formed/],
  [
    "garbage instead of HTTP",
    () => "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    400,
    /well-formed/,
  ],
  [
    "a Content-Length that is not a number",
    () => `POST /api/describe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: abc\r\n\r\n`,
    400,
    /well-formed/,
  ],
  [
    "both Content-Length and chunked",
    () =>
      `POST /api/describe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
    /well-formed/,
  ],
  [
    "headers over 16 KB",
    () => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    431,
    /too long/,
  ],
  [
    "no Host header",
    () => "GET /api/info HTTP/1.1\r\nConnection: close\r\n\r\n",
    400,
    /not for ""|well-formed/,
  ],
];
for (const [what, bytes, status, message] of rawCases) {
  test(`malformed HTTP: ${what} is refused (${status})`, async () => {
    assertRefused(await sendRaw(bytes()), status, message);
    await assertStillServing();
  });
}

/** A JPEG of `width` x `height` whose header (SOF0) claims other dimensions. */
function withJpegSize(bytes: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 2; i < out.length - 9; ) {
    const marker = out[i + 1];
    if (marker >= 0xc0 && marker <= 0xc3) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + out.readUInt16BE(i + 2);
  }
  throw new Error("no SOF marker");
}

/** A PNG whose IHDR claims `width` x `height` (with its CRC fixed). */
function withPngSize(bytes: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

const bytes = (s: string) => Buffer.from(s, "latin1");

// Upload bodies that are not an image the app takes.
const bodyCases: [string, () => Promise<Buffer> | Buffer, string, number, RegExp][] = [
  ["an empty body", () => Buffer.alloc(0), "image/png", 400, /the upload is empty/],
  ["plain text", () => bytes("hello, world"), "text/plain", 415, /starts with the bytes 68 65/],
  ["JSON", () => bytes('{"image": "aGVsbG8="}'), "application/json", 415, /expected a JPEG/],
  ["bad JSON", () => bytes('{"image": '), "application/json", 415, /expected a JPEG, PNG or WebP/],
  [
    "a multipart form holding a JPEG",
    () =>
      Buffer.concat([bytes("--x\r\nContent-Type: image/jpeg\r\n\r\n"), jpeg, bytes("\r\n--x--")]),
    "multipart/form-data; boundary=x",
    415,
    /expected a JPEG/,
  ],
  [
    "a URL-encoded form",
    () => bytes("image=%FF%D8%FF"),
    "application/x-www-form-urlencoded",
    415,
    /JPEG/,
  ],
  ["HTML", () => bytes("<html><script>alert(1)</script></html>"), "text/html", 415, /expected/],
  ["a GIF", () => sharp(jpeg).gif().toBuffer(), "image/gif", 415, /this file is a GIF image/],
  ["a TIFF", () => sharp(jpeg).tiff().toBuffer(), "image/tiff", 415, /this file is a TIFF image/],
  ["a PDF", () => bytes("%PDF-1.7\n1 0 obj\n"), "application/pdf", 415, /this file is a PDF/],
  ["a BMP header", () => bytes(`BM${"\0".repeat(60)}`), "image/bmp", 415, /this file is a BMP/],
  [
    "random bytes",
    () => Buffer.alloc(1000, 0x5a),
    "image/jpeg",
    415,
    /starts with the bytes 5a 5a/,
  ],
  ["a PNG signature alone", () => png.subarray(0, 8), "image/png", 400, /cannot decode/],
  ["a PNG cut after its header", () => png.subarray(0, 60), "image/png", 400, /cannot decode/],
  ["a PNG cut in half", () => png.subarray(0, png.length >> 1), "image/png", 400, /cannot decode/],
  ["a JPEG start marker alone", () => Buffer.from([0xff, 0xd8, 0xff]), "image/jpeg", 400, /cannot/],
  ["a JPEG cut after 100 bytes", () => jpeg.subarray(0, 100), "image/jpeg", 400, /cannot decode/],
  [
    "a WebP header alone",
    () => bytes("RIFF\x04\0\0\0WEBPVP8 "),
    "image/webp",
    400,
    /cannot decode/,
  ],
  [
    "a JPEG whose header claims 60000 x 60000",
    () => withJpegSize(jpeg, 60_000, 60_000),
    "image/jpeg",
    413,
    /60000 x 60000 pixels \(3600 megapixels\); the limit is 40 megapixels/,
  ],
  [
    "a PNG whose header claims 100000 x 100000",
    () => withPngSize(png, 100_000, 100_000),
    "image/png",
    413,
    /100000 x 100000 pixels/,
  ],
  [
    "an upload over the byte limit",
    () => Buffer.concat([jpeg, Buffer.alloc(LIMIT)]),
    "image/jpeg",
    413,
    /the limit is 1 MB/,
  ],
];
for (const [what, body, type, status, message] of bodyCases) {
  test(`upload: ${what} is refused (${status})`, async () => {
    assertRefused(await describe(await body(), { "Content-Type": type }), status, message);
    await assertStillServing();
  });
}

test("upload: a 16000 x 16000 PNG of a few hundred KB is refused with 413 before decoding", async () => {
  assert.ok(hugePng.length < LIMIT, `${hugePng.length} bytes`);
  const rss = process.memoryUsage().rss;
  const res = await describe(hugePng);
  assertRefused(
    res,
    413,
    /^the upload is 16000 x 16000 pixels \(256 megapixels\); the limit is 40 megapixels$/,
  );
  assert.ok(res.millis < 2_000, `${res.millis} ms`);
  assert.ok(process.memoryUsage().rss - rss < 200_000_000, "decoded: memory grew");
  await assertStillServing();
});

test("upload: declared far over the limit is answered 413 at once and the connection closed", async () => {
  const res = await send("/api/describe", {
    method: "POST",
    headers: { "Content-Length": 500_000_000 },
    body: jpeg.subarray(0, 16),
  });
  assertRefused(res, 413, /the upload is 500 MB; the limit is 1 MB/);
  assert.equal(res.headers.connection, "close");
  await assertStillServing();
});

test("upload: a chunked body over the limit is refused with 413", async () => {
  const res = await sendRaw(
    Buffer.concat([
      bytes(
        `POST /api/describe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      ),
      ...Array.from({ length: 3 }, () =>
        Buffer.concat([bytes("80000\r\n"), Buffer.alloc(0x80000, 0xff), bytes("\r\n")]),
      ),
      bytes("0\r\n\r\n"),
    ]),
  );
  assertRefused(res, 413, /the limit is 1 MB/);
  await assertStillServing();
});

test("upload: a body cut off before its declared length is a 400, and the server goes on", async () => {
  const res = await sendRaw(
    Buffer.concat([
      bytes(
        `POST /api/describe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 5000\r\n\r\n`,
      ),
      jpeg.subarray(0, 100),
    ]),
    { halfClose: true },
  );
  assertRefused(res, 400, /cut off|not a well-formed HTTP request/);
  await assertStillServing();
});

// Images that are valid but odd, sent in odd ways: described.
const acceptedCases: [string, () => Promise<Answer>][] = [
  [
    "a 1 x 1 PNG",
    async () =>
      describe(
        await sharp({ create: { width: 1, height: 1, channels: 3, background: "#f00" } })
          .png()
          .toBuffer(),
      ),
  ],
  [
    "a 1 x 1 JPEG",
    async () =>
      describe(
        await sharp({ create: { width: 1, height: 1, channels: 3, background: "#00f" } })
          .jpeg()
          .toBuffer(),
      ),
  ],
  [
    "a 2000 x 1 PNG",
    async () => describe(await sharp(jpeg).resize(2000, 1, { fit: "fill" }).png().toBuffer()),
  ],
  [
    "a JPEG labelled text/plain (types are sniffed)",
    async () => describe(jpeg, { "Content-Type": "text/plain" }),
  ],
  ["a JPEG with no Content-Type", async () => describe(jpeg, {})],
  [
    "a JPEG sent chunked",
    () =>
      sendRaw(
        Buffer.concat([
          bytes(
            `POST /api/describe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${jpeg.length.toString(16)}\r\n`,
          ),
          jpeg,
          bytes("\r\n0\r\n\r\n"),
        ]),
      ),
  ],
];
for (const [what, sendIt] of acceptedCases) {
  test(`upload: ${what} is described (200)`, async () => {
    const res = await sendIt();
    assert.equal(res.status, 200, res.body);
    const d = JSON.parse(res.body) as { caption: string; width: number };
    assert.equal(typeof d.caption, "string");
    assert.ok(d.width >= 1);
    await assertStillServing();
  });
}

// Search parameters.
const searchCases: [string, string, number, RegExp][] = [
  ["no q", "/api/search", 400, /type a sentence/],
  ["an empty q", "/api/search?q=", 400, /type a sentence/],
  ["a blank q", "/api/search?q=%20%20%09", 400, /type a sentence/],
  ["k=0", "/api/search?q=red&k=0", 400, /k: expected a whole number from 1 to 50, got "0"/],
  ["k=-1", "/api/search?q=red&k=-1", 400, /got "-1"/],
  ["k=1e9", "/api/search?q=red&k=1e9", 400, /got "1e9"/],
  ["k=1000000000", "/api/search?q=red&k=1000000000", 400, /got "1000000000"/],
  ["k=NaN", "/api/search?q=red&k=NaN", 400, /got "NaN"/],
  ["k=Infinity", "/api/search?q=red&k=Infinity", 400, /got "Infinity"/],
  ["k=1.5", "/api/search?q=red&k=1.5", 400, /got "1.5"/],
  ["k=51", "/api/search?q=red&k=51", 400, /got "51"/],
  ["k=0x10", "/api/search?q=red&k=0x10", 400, /got "0x10"/],
  ["k=+5", "/api/search?q=red&k=%2B5", 400, /got "\+5"/],
  ["an empty k", "/api/search?q=red&k=", 400, /got ""/],
  ["k of 100 digits", `/api/search?q=red&k=${"9".repeat(100)}`, 400, /k: expected a whole number/],
  ["q of 501 characters", `/api/search?q=${"r".repeat(501)}`, 400, /longer than 500 characters/],
  ["q of 10,000 characters", `/api/search?q=${"red%20".repeat(2000)}`, 400, /longer than 500/],
  ["words not in the vocabulary", "/api/search?q=zzz%20qqq", 400, /no word of "zzz qqq"/],
  ["a NUL in q", "/api/search?q=%00", 400, /no word of/],
  ["markup in q", "/api/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400, /no word of/],
  ["a broken percent-escape", "/api/search?q=%ZZ%E0%A4", 400, /no word of/],
  ["emoji", "/api/search?q=%F0%9F%94%A5%F0%9F%94%A5", 400, /no word of/],
];
for (const [what, path, status, message] of searchCases) {
  test(`search: ${what} is refused (${status})`, async () => {
    const res = await send(path);
    assertRefused(res, status, message);
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    await assertStillServing();
  });
}

test("search: q of 100,000 characters is refused (431) by the HTTP parser", async () => {
  const res = await sendRaw(
    `GET /api/search?q=${"a".repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
  );
  assertRefused(res, 431, /too long/);
  await assertStillServing();
});

const goodSearches: [string, string, number][] = [
  ["k=1", "/api/search?q=red&k=1", 1],
  ["k=50, more than the index holds", "/api/search?q=red&k=50", 10],
  ["a repeated k (the first counts)", "/api/search?q=red&k=2&k=abc", 2],
];
for (const [what, path, hits] of goodSearches) {
  test(`search: ${what} is answered`, async () => {
    const res = await send(path);
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { hits: unknown[] }).hits.length, hits);
  });
}

// Methods a route does not take.
const methodCases: [string, string, string][] = [
  ["GET", "/api/describe", "POST"],
  ["PUT", "/api/describe", "POST"],
  ["DELETE", "/", "GET"],
  ["POST", "/api/search", "GET"],
  ["PATCH", "/api/info", "GET"],
  ["OPTIONS", "/api/describe", "POST"],
  ["TRACE", "/", "GET"],
  ["POST", "/thumbnail", "GET"],
  ["PROPFIND", "/", "GET"],
  ["POST", "/", "GET"],
];
for (const [method, path, allow] of methodCases) {
  test(`method: ${method} ${path} is refused (405, Allow: ${allow})`, async () => {
    const res = await send(path, { method, body: method === "GET" ? undefined : jpeg });
    assertRefused(res, 405, new RegExp(`^${method} ${path.replace("/", "\\/")}: use ${allow}$`));
    assert.equal(res.headers.allow, allow);
    await assertStillServing();
  });
}

test("method: HEAD / is refused (405) without a body", async () => {
  const res = await send("/", { method: "HEAD" });
  assert.equal(res.status, 405);
  assert.equal(res.body, "");
  await assertStillServing();
});

// POSTs sent by a page of another origin: refused before the body is read.
const crossOriginCases: [string, () => Record<string, string>][] = [
  [
    "a text/plain POST from http://evil.example",
    () => ({ Origin: "http://evil.example", "Content-Type": "text/plain" }),
  ],
  [
    "a form POST from http://evil.example",
    () => ({ Origin: "http://evil.example", "Content-Type": "application/x-www-form-urlencoded" }),
  ],
  ["an octet-stream POST from http://evil.example", () => ({ Origin: "http://evil.example" })],
  ["Sec-Fetch-Site: cross-site", () => ({ "Sec-Fetch-Site": "cross-site" })],
  [
    "Sec-Fetch-Site: same-site from another port",
    () => ({ "Sec-Fetch-Site": "same-site", Origin: "http://localhost:3000" }),
  ],
  ["Sec-Fetch-Site: same-site alone", () => ({ "Sec-Fetch-Site": "same-site" })],
  ["Sec-Fetch-Site of an unknown value", () => ({ "Sec-Fetch-Site": "maybe" })],
  ["Origin: null (a sandboxed frame or a file)", () => ({ Origin: "null" })],
  ["the same host over https", () => ({ Origin: `https://127.0.0.1:${port}` })],
  ["the same host on another port", () => ({ Origin: `http://127.0.0.1:${Number(port) + 1}` })],
  ["localhost, when the request is for 127.0.0.1", () => ({ Origin: `http://localhost:${port}` })],
  ["an Origin that is not a URL", () => ({ Origin: "not a url" })],
  ["an Origin with a path", () => ({ Origin: `http://127.0.0.1:${port}/api` })],
  [
    "same-origin claimed with an evil Origin",
    () => ({ "Sec-Fetch-Site": "same-origin", Origin: "http://evil.example" }),
  ],
];
for (const [what, headers] of crossOriginCases) {
  test(`cross-origin: ${what} is refused (403)`, async () => {
    const before = describesStarted;
    assertRefused(await describe(jpeg, headers()), 403, /is refused; use this server's own page$/);
    assert.equal(describesStarted, before, "nothing was described");
    await assertStillServing();
  });
}

test("cross-origin: a POST from http://evil.example to an unknown path is refused (403)", async () => {
  const res = await send("/api/anything", {
    method: "POST",
    headers: { Origin: "http://evil.example" },
  });
  assertRefused(res, 403, /origin http:\/\/evil\.example is refused/);
  await assertStillServing();
});

test("cross-origin: a GET from another origin is answered without CORS headers", async () => {
  const res = await send("/api/search?q=red&k=1", { headers: { Origin: "http://evil.example" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers["access-control-allow-origin"], undefined);
});

test("cross-origin: a page of a rebound domain is refused by its Host (400)", async () => {
  const res = await describe(jpeg, {
    Host: `evil.example:${port}`,
    Origin: `http://evil.example:${port}`,
  });
  assertRefused(res, 400, /not for "evil\.example:\d+"/);
  await assertStillServing();
});

const sameOriginCases: [string, () => Record<string, string>][] = [
  [
    "the page's own POST",
    () => ({ Origin: `http://127.0.0.1:${port}`, "Sec-Fetch-Site": "same-origin" }),
  ],
  [
    "the page reached as localhost",
    () => ({ Host: `localhost:${port}`, Origin: `http://localhost:${port}` }),
  ],
  ["Sec-Fetch-Site: none (typed by the user)", () => ({ "Sec-Fetch-Site": "none" })],
  ["a client that is not a browser (no Origin)", () => ({})],
];
for (const [what, headers] of sameOriginCases) {
  test(`same origin: ${what} is described (200)`, async () => {
    const res = await describe(jpeg, headers());
    assert.equal(res.status, 200, res.body);
    assert.equal(typeof (JSON.parse(res.body) as { caption: unknown }).caption, "string");
  });
}

/** Holds every describe until the returned function is called. */
function holdDescribes(): () => void {
  let open!: () => void;
  gate = new Promise((resolve) => {
    open = resolve;
  });
  return () => {
    gate = Promise.resolve();
    open();
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const describeRequest = () =>
  bytes(
    `POST /api/describe HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${jpeg.length}\r\nConnection: close\r\n\r\n`,
  );

test("concurrency: describes past the one running and the one waiting get 503 with Retry-After; search answers meanwhile", {
  timeout: 20_000,
}, async () => {
  const release = holdDescribes();
  const started = describesStarted;
  const running = describe(jpeg);
  await until(() => describesStarted === started + 1);
  // Of 7 more, one waits its turn and 6 are refused at once.
  const more = Array.from({ length: 7 }, () => describe(jpeg));
  const answered: Answer[] = [];
  for (const m of more) void m.then((a) => answered.push(a));
  await until(() => answered.length === 6);
  for (const res of answered) {
    assertRefused(res, 503, /^the server is busy describing other images \(1 running, 1 waiting\)/);
    assert.equal(res.headers["retry-after"], String(RETRY_AFTER_SECONDS));
  }
  for (let i = 0; i < 3; i++) {
    const search = await send("/api/search?q=red&k=3");
    assert.equal(search.status, 200);
    assert.ok(search.millis < 1_000, `search took ${search.millis} ms`);
  }
  release();
  assert.equal((await running).status, 200);
  const all = await Promise.all(more);
  assert.deepEqual(all.map((a) => a.status).sort(), [200, 503, 503, 503, 503, 503, 503]);
  assert.equal(describesStarted, started + 2);
  await assertStillServing();
});

test("concurrency: a waiting describe whose client left gives its place to the next", {
  timeout: 20_000,
}, async () => {
  const release = holdDescribes();
  const started = describesStarted;
  const running = describe(jpeg);
  await until(() => describesStarted === started + 1);
  // Two uploads for the one place in the queue: the one not refused is waiting; it hangs up.
  const a = openRaw(Buffer.concat([describeRequest(), jpeg]));
  const b = openRaw(Buffer.concat([describeRequest(), jpeg]));
  const refused = await Promise.race([a.answer, b.answer]);
  assertRefused(refused, 503, /1 waiting/);
  const waiting = (await Promise.race([a.answer.then(() => b), b.answer.then(() => a)])).socket;
  waiting.destroy();
  // Once the server has seen it go, the place is free again: the next upload waits, not 503.
  let next: Promise<Answer> | undefined;
  for (let attempt = 0; attempt < 40 && next === undefined; attempt++) {
    const probe = openRaw(Buffer.concat([describeRequest(), jpeg]));
    const early = await Promise.race([
      probe.answer,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
    ]);
    if (early === undefined) next = probe.answer;
    else assertRefused(early, 503, /1 waiting/);
  }
  assert.ok(next, "the abandoned describe kept its place");
  release();
  assert.equal((await running).status, 200);
  assert.equal((await next).status, 200);
  assert.equal(describesStarted, started + 2, "the abandoned describe never ran");
});

test("concurrency: a burst of 8 real describes is answered 200 or 503, search staying responsive", {
  timeout: 30_000,
}, async () => {
  const large = await sharp(jpeg).resize(1200, 900).jpeg().toBuffer();
  const burst = Promise.all(Array.from({ length: 8 }, () => describe(large)));
  const searches: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await send("/api/search?q=red&k=2");
    assert.equal(res.status, 200);
    searches.push(res.millis);
  }
  const answers = await burst;
  for (const res of answers) {
    assert.ok(res.status === 200 || res.status === 503, `${res.status} ${res.body}`);
    if (res.status === 503) assertRefused(res, 503, /busy/);
  }
  assert.ok(answers.some((r) => r.status === 200));
  assert.ok(answers.some((r) => r.status === 503));
  assert.ok(Math.max(...searches) < 2_000, `searches took ${searches.join(", ")} ms`);
  await assertStillServing();
});

/** A copy of the served index whose images table's data files end in garbage. */
function corruptIndexCopy(name: string): string {
  const copy = join(dir, name);
  cpSync(app.indexDir, copy, { recursive: true });
  const data = join(copy, "db", "images.lance", "data");
  for (const f of readdirSync(data)) {
    const bytes = readFileSync(join(data, f));
    writeFileSync(join(data, f), bytes.fill(0xff, bytes.length - 64));
  }
  return copy;
}

test("corrupt index: search answers 500 with one line naming its tables, logs it, and keeps serving", async () => {
  const whole = join(dir, "corrupt-served");
  cpSync(app.indexDir, whole, { recursive: true });
  // Opened while whole (as serve does at start-up), damaged afterwards.
  const index = await ImageIndex.open(whole);
  rmSync(whole, { recursive: true, force: true });
  const copy = corruptIndexCopy("corrupt-served");
  const searcher = Searcher.open(app.trained.bundleDir, copy);
  const log: string[] = [];
  const server = createAppServer({
    describer: { describesRegions: false, describe: () => Promise.reject(new Error("unused")) },
    bundleName: "corrupt",
    search: { searcher, index },
    log: (line) => log.push(line),
  });
  const url = await listen(server, 0, "127.0.0.1");
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(new URL("api/search?q=red", url));
      assert.equal(res.status, 500);
      const body = await res.text();
      assert.doesNotMatch(body, /\n/);
      assert.match(
        JSON.parse(body).error,
        /^the server failed: \S+\/db: cannot read the index's tables/,
      );
    }
    assert.equal(log.length, 2);
    assert.equal((await fetch(new URL("api/info", url))).status, 200);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await searcher.close();
  }
});

test("corrupt index: imagesent serve stops at start-up with one line and exit 2", {
  timeout: 30_000,
}, async () => {
  const copy = corruptIndexCopy("corrupt-cli");
  const r = await runCli([
    "serve",
    "--bundle",
    app.trained.bundleDir,
    "--index",
    copy,
    "--port",
    "0",
  ]);
  assertClearError(r, /\/db: cannot read the index's tables/, "serve on a corrupt index");
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

test("no request to the hostile server was a server fault (nothing logged)", () => {
  assert.deepEqual(serverLog, []);
});
