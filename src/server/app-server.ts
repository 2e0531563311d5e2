import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { basename, resolve, sep } from "node:path";
import type { Describer } from "../app/describer.js";
import type { ImageIndex } from "../app/image-index.js";
import type { Searcher } from "../app/searcher.js";
import { CorruptFileError, InputError } from "../errors.js";
import { DescribeQueue } from "./describe-queue.js";
import { HttpError } from "./http-error.js";
import { APP_PAGE, APP_PAGE_CSP } from "./page.js";
import { LARGE_VIEW_SIZE, THUMBNAIL_SIZE, Thumbnails } from "./thumbnails.js";
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_PIXELS, readImageUpload } from "./upload.js";

/** Results a search returns when the request does not say (`k`), and the most it may ask for. */
export const DEFAULT_SEARCH_RESULTS = 12;
export const MAX_SEARCH_RESULTS = 50;
/** Indexed images one page of GET /api/images lists when the request does not say (`limit`); at most MAX_SEARCH_RESULTS. */
export const DEFAULT_LIBRARY_PAGE = 12;
/** Longest query accepted, in characters. */
const MAX_QUERY_LENGTH = 500;
/** Describes run at once, and waiting, when the options do not say (`imagesent serve --max-concurrent`). */
export const DEFAULT_CONCURRENT_DESCRIBES = 2;
export const DEFAULT_QUEUED_DESCRIBES = 8;

/** What the app needs of a Describer and a Searcher (tests may stand in for them). */
export type ImageDescriber = Pick<Describer, "describe" | "describesRegions">;
export type SentenceSearcher = Pick<Searcher, "search" | "similar">;

export interface AppServerOptions {
  readonly describer: ImageDescriber;
  /** Sentence search over an index; without it the page's search is off. */
  readonly search?: {
    readonly searcher: SentenceSearcher;
    readonly index: ImageIndex;
    /** Folder that images indexed by name (not by path) are read from, for thumbnails. */
    readonly imagesDir?: string;
  };
  /** Shown on the page: the bundle's name or folder. */
  readonly bundleName: string;
  /** Largest upload in bytes (default DEFAULT_MAX_UPLOAD_BYTES). */
  readonly maxUploadBytes?: number;
  /** Most pixels of an upload, by its header, checked before decoding (default DEFAULT_MAX_UPLOAD_PIXELS). */
  readonly maxUploadPixels?: number;
  /** Describes run at once (default DEFAULT_CONCURRENT_DESCRIBES). */
  readonly maxConcurrentDescribes?: number;
  /** Describes that wait for a turn before more are refused with 503 (default DEFAULT_QUEUED_DESCRIBES). */
  readonly maxQueuedDescribes?: number;
  /** Where server errors (500s) are logged (default console.error). */
  readonly log?: (message: string) => void;
  /**
   * Host names the requests must be addressed to (the Host header, port aside); others are
   * refused with 400. A server on the loopback address lists its own names here, so that a web
   * page whose domain was re-pointed at 127.0.0.1 (DNS rebinding) cannot use it.
   */
  readonly hostnames?: readonly string[];
}

/** The names a server on a loopback address is reached by. */
export const LOOPBACK_HOSTNAMES: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

interface Route {
  readonly method: "GET" | "POST";
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

/**
 * The web app's HTTP server (node:http, no framework): the page, and the JSON routes it calls.
 *
 *   GET  /                 the page (page.ts)
 *   GET  /api/info         the bundle's name, whether it describes regions, the index's size, the upload limits
 *   POST /api/describe     body: a JPEG, PNG or WebP file; answer: the Describer's ImageDescription
 *   GET  /api/search?q=S&k=N   the N indexed images that best match S, each with its phrases' regions,
 *                          the query's words the vocabulary lacks and whether anything matches well
 *   GET  /api/similar?image=KEY&k=N   the N indexed images most like the indexed image KEY
 *   GET  /api/images?offset=I&limit=N  one page of the indexed images' names, in index order
 *   GET  /thumbnail?image=KEY[&size=large]  a JPEG thumbnail (or larger view) of an indexed image (thumbnails.ts)
 *
 * A bad request is answered 400, 403, 404, 405, 413, 415 or 431 with {"error": message}, and a
 * describe while the queue is full 503 with Retry-After (describe-queue.ts). A POST sent by a page
 * of another origin is refused (403): the browser sends a text/plain or form POST from any page
 * without asking, and this server has no credentials to check. Anything else that goes wrong,
 * a corrupt index included (CorruptFileError), is a 500 with the error's message, logged, and
 * the server keeps serving.
 */
export function createAppServer(options: AppServerOptions): Server {
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const maxUploadPixels = options.maxUploadPixels ?? DEFAULT_MAX_UPLOAD_PIXELS;
  const describes = new DescribeQueue(
    options.maxConcurrentDescribes ?? DEFAULT_CONCURRENT_DESCRIBES,
    options.maxQueuedDescribes ?? DEFAULT_QUEUED_DESCRIBES,
  );
  const log = options.log ?? ((message: string) => console.error(message));
  const search = options.search;
  const thumbnails = search ? new Thumbnails(search.index, search.imagesDir) : undefined;

  const routes: Route[] = [
    {
      method: "GET",
      path: "/",
      async handle(_req, res) {
        res.writeHead(200, {
          "Content-Type": "text/html; charset=utf-8",
          "Content-Security-Policy": APP_PAGE_CSP,
          "Cache-Control": "no-store",
        });
        res.end(APP_PAGE);
      },
    },
    {
      method: "GET",
      path: "/api/info",
      async handle(_req, res) {
        sendJson(res, 200, {
          bundle: options.bundleName,
          describesRegions: options.describer.describesRegions,
          index: search ? { images: search.index.size } : null,
          maxUploadBytes,
          maxUploadPixels,
          maxSearchResults: MAX_SEARCH_RESULTS,
          queryExample: queryExample(search?.index.manifest.vision.encoder),
        });
      },
    },
    {
      method: "POST",
      path: "/api/describe",
      async handle(req, res) {
        const { bytes } = await readImageUpload(req, {
          maxBytes: maxUploadBytes,
          maxPixels: maxUploadPixels,
        });
        const gone = new AbortController();
        res.once("close", () => gone.abort());
        const description = await describes.run(
          () => options.describer.describe(bytes, { name: "the upload" }),
          gone.signal,
        );
        sendJson(res, 200, description);
      },
    },
    {
      method: "GET",
      path: "/api/search",
      async handle(_req, res, url) {
        if (!search) {
          throw new HttpError(404, "search is off: start imagesent serve with --index INDEX");
        }
        const query = (url.searchParams.get("q") ?? "").trim();
        if (query === "") throw new HttpError(400, "type a sentence to search for (q=...)");
        if (query.length > MAX_QUERY_LENGTH) {
          throw new HttpError(400, `the sentence is longer than ${MAX_QUERY_LENGTH} characters`);
        }
        const k = resultCount(url.searchParams.get("k"));
        let found: Awaited<ReturnType<SentenceSearcher["search"]>>;
        try {
          found = await search.searcher.search(query, k, { withPhrases: k });
        } catch (err) {
          throw indexFault(err, search.index.dir);
        }
        sendJson(res, 200, {
          query,
          hits: found.hits.map((hit) => ({ ...hit, ...imageLinks(hit.image) })),
          unknownWords: found.unknownWords,
          goodMatch: found.goodMatch,
        });
      },
    },
    {
      method: "GET",
      path: "/api/similar",
      async handle(_req, res, url) {
        if (!search) {
          throw new HttpError(404, "search is off: start imagesent serve with --index INDEX");
        }
        const key = url.searchParams.get("image");
        if (!key) throw new HttpError(400, "say which indexed image: /api/similar?image=KEY");
        // Only indexed images: a key is never read as a path of this machine.
        if (!(await search.index.has(key))) {
          throw new HttpError(404, `${key}: not an indexed image`);
        }
        const k = resultCount(url.searchParams.get("k"));
        let hits: Awaited<ReturnType<SentenceSearcher["similar"]>>;
        try {
          hits = await search.searcher.similar(key, k);
        } catch (err) {
          throw indexFault(err, search.index.dir);
        }
        sendJson(res, 200, {
          image: key,
          hits: hits.map((hit) => ({ ...hit, ...imageLinks(hit.image) })),
        });
      },
    },
    {
      method: "GET",
      path: "/api/images",
      async handle(_req, res, url) {
        if (!search) {
          throw new HttpError(404, "no index: start imagesent serve with --index INDEX");
        }
        const offset = wholeNumber(url.searchParams.get("offset"), "offset", 0, 0, 1e9);
        const limit = wholeNumber(
          url.searchParams.get("limit"),
          "limit",
          DEFAULT_LIBRARY_PAGE,
          1,
          MAX_SEARCH_RESULTS,
        );
        const keys = await search.index.keys(offset, limit);
        sendJson(res, 200, {
          total: search.index.size,
          offset,
          images: keys.map((key) => ({ image: key, ...imageLinks(key) })),
        });
      },
    },
    {
      method: "GET",
      path: "/thumbnail",
      async handle(_req, res, url) {
        if (!thumbnails) {
          throw new HttpError(404, "no index: start imagesent serve with --index INDEX");
        }
        const key = url.searchParams.get("image");
        if (!key) throw new HttpError(400, "say which image: /thumbnail?image=KEY");
        const size = url.searchParams.get("size");
        if (size !== null && size !== "large") {
          throw new HttpError(400, `size: expected "large" or nothing, got "${size}"`);
        }
        const jpeg = await thumbnails.get(key, size === "large" ? LARGE_VIEW_SIZE : THUMBNAIL_SIZE);
        res.writeHead(200, {
          "Content-Type": "image/jpeg",
          "Content-Length": jpeg.length,
          "Cache-Control": "private, max-age=3600",
        });
        res.end(jpeg);
      },
    },
  ];

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("X-Content-Type-Options", "nosniff");
    try {
      checkHost(req.headers.host, options.hostnames);
      if (req.method !== "GET" && req.method !== "HEAD") checkOrigin(req);
      const url = new URL(req.url ?? "/", "http://localhost");
      const forPath = routes.filter((r) => r.path === url.pathname);
      if (forPath.length === 0) throw new HttpError(404, `no such page: ${url.pathname}`);
      const route = forPath.find((r) => r.method === req.method);
      if (!route) {
        const allowed = forPath.map((r) => r.method).join(", ");
        res.setHeader("Allow", allowed);
        throw new HttpError(405, `${req.method} ${url.pathname}: use ${allowed}`);
      }
      await route.handle(req, res, url);
    } catch (err) {
      answerError(req, res, err, log);
    }
  }

  // Without a Host header a request is refused by checkHost, with a message, not by node:http.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    void dispatch(req, res);
  });
  server.requestTimeout = 120_000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // Once an answer has been written (the error is in a body after it), none can follow.
    if (!socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const [status, reason, message] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", "the request line and headers are too long"]
        : [400, "Bad Request", "not a well-formed HTTP request"];
    const json = JSON.stringify({ error: message });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  });
  return server;
}

/** Refuses a request addressed to a host name not in `hostnames` (when given). */
function checkHost(host: string | undefined, hostnames: readonly string[] | undefined): void {
  if (hostnames === undefined) return;
  const name = (host ?? "").replace(/:\d+$/, "").toLowerCase();
  if (!hostnames.includes(name)) {
    throw new HttpError(
      400,
      `this server answers requests for ${hostnames.join(", ")}, not for "${host ?? ""}"`,
    );
  }
}

/**
 * Refuses (403) a request sent by a page of another origin: one whose Sec-Fetch-Site is neither
 * same-origin nor none (typed by the user), or whose Origin is not this server's own scheme,
 * host and port, as the Host header names them. Clients that are not browsers send neither.
 */
function checkOrigin(req: IncomingMessage): void {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new HttpError(
      403,
      `${req.method} from another site (Sec-Fetch-Site: ${site}) is refused; use this server's own page`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, req.headers.host)) {
    throw new HttpError(
      403,
      `${req.method} from the origin ${origin} is refused; use this server's own page`,
    );
  }
}

function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return origin === new URL(`http://${host}`).origin;
  } catch {
    return false;
  }
}

/**
 * An error met while searching, as the index's fault: a CorruptFileError for an InputError that
 * names a file of the index (a shard or store.json that no longer reads back, an index made with
 * another encoder), which is not the request's fault; other errors as they are.
 */
function indexFault(err: unknown, indexDir: string): unknown {
  if (!(err instanceof InputError) || err instanceof CorruptFileError) return err;
  const root = resolve(indexDir);
  const message = err.message;
  const about = message.startsWith(`${root}${sep}`) || message.startsWith(`${root}:`);
  return about ? new CorruptFileError(message, { cause: err }) : err;
}

/** The `k` parameter: absent means DEFAULT_SEARCH_RESULTS; else an integer 1..MAX_SEARCH_RESULTS. */
function resultCount(value: string | null): number {
  return wholeNumber(value, "k", DEFAULT_SEARCH_RESULTS, 1, MAX_SEARCH_RESULTS);
}

/** A whole-number query parameter: absent means `absent`; else an integer from..to, or a 400. */
function wholeNumber(
  value: string | null,
  name: string,
  absent: number,
  from: number,
  to: number,
): number {
  if (value === null) return absent;
  const n = Number(value);
  if (!/^\d{1,10}$/.test(value) || n < from || n > to) {
    throw new HttpError(
      400,
      `${name}: expected a whole number from ${from} to ${to}, got "${value}"`,
    );
  }
  return n;
}

/** An indexed image's shown name and its thumbnail's URL. */
function imageLinks(key: string): { name: string; thumbnail: string } {
  return { name: basename(key), thumbnail: `/thumbnail?image=${encodeURIComponent(key)}` };
}

/**
 * The example sentence the page's search box shows, by what the index was made with: the
 * synthetic world's shapes for the weight-free pixel-statistics encoder (`imagesent demo`), a
 * photo's sentence for a real encoder, and a plain hint without an index.
 */
export function queryExample(encoder: string | undefined): string {
  if (encoder === undefined) return "a sentence";
  if (encoder.startsWith("pixel-stats"))
    return "a sentence, e.g. a red circle next to a blue square";
  return "a sentence, e.g. a dog runs on the beach";
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
    "Cache-Control": "no-store",
  });
  res.end(json);
}

/**
 * Answers a failed request: refusals with their status, the user's input errors 400, and the
 * server's faults (bugs, a corrupt index) 500, logged.
 */
function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  log: (message: string) => void,
): void {
  let status: number;
  let message: string;
  if (err instanceof HttpError) {
    status = err.status;
    message = err.message;
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    if (err.closeConnection) {
      res.setHeader("Connection", "close");
      res.on("finish", () => req.destroy());
    }
  } else if (err instanceof InputError && !(err instanceof CorruptFileError)) {
    status = 400;
    message = err.message;
  } else {
    status = 500;
    message = `the server failed: ${((err as Error)?.message ?? String(err)).split("\n")[0]}`;
    log(`imagesent serve: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
  }
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: message });
}

/** Starts `server` on host:port (port 0: any free port) and returns the URL it answers on. */
export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}/`);
    });
  });
}
