/**
 * Search that scales (docs/search.md): an index of Flickr8k's images with their real regions
 * (the feature store features/flickr8k-proposals, or --features), and indexes of synthetic images
 * whose region vectors are made from the real ones (each region a random mix of two real regions
 * of the same slot, plus noise of a tenth of the real vectors' spread per dimension: the real
 * vectors' means, spreads and correlations, but no two images alike). Queries: --queries val
 * sentences of Flickr8k. For each index: the build rate from stored codes (images/s), its size on
 * disk, recall@10 of the search against the exact fused S_kl over every image (float32 vectors),
 * query latency p50/p99 in a warm process (a fresh one that then runs every query), its resident
 * memory and its time from start to a Searcher that answers (ready), and a cold `imagesent
 * search` (a new process, one query, end to end).
 *
 *   npm run bench:search [-- --sizes real,100000,1000000] [--queries 200] [--codec int8-residual|int8|fp16]
 *                        [--pool 2000] [--dir /tmp/x] [--keep] [--reuse] [--write-calibration] [--json]
 *                        [--candidates N] [--scan-below N] [--shortlist N] [--shortlist-share F]
 *                        [--sketched N] [--sketched-share F] [--refine N]
 *
 * --keep leaves each index in --dir with its exact top 10 per query beside it (NAME.truth.json);
 * --reuse measures such a kept index again instead of building it (same queries and codec), so a
 * change to the search can be measured without the build.
 * --pool: the real images the synthetic ones are mixed from (2,000): 10^5 images of a pool of 200
 * are as dense in near copies as 10^6 of 2,000, so the exact stage's codes can be judged at the
 * density of the 10^6-image index without building it.
 * --candidates, --scan-below, --shortlist, --shortlist-share, --sketched, --sketched-share and
 * --refine override DEFAULT_RANKING's.
 * --write-calibration also writes the packaged bundle's search-calibration.json from Flickr8k val.
 * Prints a table and, with --json, one JSON object on the last line. Skips (exit 0) without
 * ../shared (IMAGESENT_SHARED) or the feature store.
 */

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_CODEC, ImageIndex, type IndexSpec } from "../src/app/image-index.js";
import { loadBundle, type ModelBundle } from "../src/app/model-bundle.js";
import type { RegionCodec } from "../src/app/region-codes.js";
import { RegionEmbedder } from "../src/app/region-vectors.js";
import { calibrateSearch, writeCalibration } from "../src/app/search-calibration.js";
import { type RankingOptions, Searcher } from "../src/app/searcher.js";
import { kernels } from "../src/core/kernels/index.js";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/load.js";
import { tokenize } from "../src/data/tokenizer.js";
import { packageRoot } from "../src/package-root.js";
import { FeatureStore, type StoredImage } from "../src/vision/feature-store.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "real,100000" },
    queries: { type: "string", default: "200" },
    // The first N real images only, for a quick run.
    limit: { type: "string" },
    codec: { type: "string", default: DEFAULT_CODEC },
    // The real images the synthetic ones are mixed from.
    pool: { type: "string", default: "2000" },
    features: { type: "string" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
    reuse: { type: "boolean", default: false },
    candidates: { type: "string" },
    "scan-below": { type: "string" },
    shortlist: { type: "string" },
    "shortlist-share": { type: "string" },
    sketched: { type: "string" },
    "sketched-share": { type: "string" },
    refine: { type: "string" },
    "write-calibration": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    // Internal: the warm query process (a fresh process, the index opened once).
    "query-child": { type: "string" },
  },
});

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const shared = process.env.IMAGESENT_SHARED ?? join(packageRoot, "..", "shared");
const flickr8k = join(shared, "data/flickr8k");
// The regions the packaged bundle's alignment models were trained on (its detector,
// yolox-nano-proposals).
const storeDir = values.features ?? join(packageRoot, "features/flickr8k-proposals");
const BUNDLE = join(packageRoot, "bundles/flickr8k");
const K = 10;

if (values["query-child"]) {
  await queryChild(values["query-child"]);
  process.exit(0);
}

for (const p of [flickr8k, join(storeDir, "store.json")]) {
  if (!existsSync(p)) {
    console.error(`bench:search: ${p} not found (set IMAGESENT_SHARED or --features); skipping`);
    process.exit(0);
  }
}

const bundle = loadBundle(BUNDLE);
const dataset = loadDataset(flickr8k);
const store = FeatureStore.open(storeDir);
const R = store.meta.regionsPerImage;
const DIM = store.meta.dim;
const embedder = new RegionEmbedder(bundle.search, R);
const val = dataset.images.filter((im) => im.split === "val");
const queryCount = Number(values.queries);
const rng = new Rng(7);
const queries = pick(
  val.flatMap((im) => im.sentences.map((s) => s.raw)),
  queryCount,
  rng,
);
const work = values.dir ?? mkdtempSync(join(tmpdir(), "imagesent-bench-search-"));
const codec = values.codec as RegionCodec;
const pool = Number(values.pool);
const ranking: RankingOptions = Object.fromEntries(
  (
    [
      ["candidates", values.candidates],
      ["scanBelow", values["scan-below"]],
      ["shortlist", values.shortlist],
      ["shortlistShare", values["shortlist-share"]],
      ["sketched", values.sketched],
      ["sketchedShare", values["sketched-share"]],
      ["refine", values.refine],
    ] as const
  )
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, Number(v)]),
);

interface Row {
  readonly index: string;
  readonly images: number;
  readonly buildImagesPerSecond: number;
  readonly optimizeSeconds: number;
  readonly indexBytes: number;
  readonly recallAt10: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Median CPU time of a query (all threads): what the latency is on an idle machine, roughly. */
  readonly p50CpuMs: number;
  readonly queryRssMB: number;
  /** A fresh process's time to a Searcher that answers (bundle loaded, index opened). */
  readonly readyMs: number;
  readonly coldSearchMs: number | null;
}

const rows: Row[] = [];
const buildStats = new Map<string, { imagesPerSecond: number; optimizeMs: number }>();
const realImages = [...store.entries()].slice(0, values.limit ? Number(values.limit) : undefined);
for (const size of values.sizes.split(",")) {
  const name = size === "real" ? "flickr8k" : `synthetic-${size}`;
  const dir = join(work, name);
  const count = size === "real" ? realImages.length : Number(size);
  const kept = values.reuse ? keptTruth(dir, count) : undefined;
  let truth: string[][];
  if (kept) {
    truth = kept.truth;
    buildStats.set(dir, kept.stats);
    // A writer brings an index kept by an earlier version up to this one's files.
    await (await ImageIndex.openForWriting(dir, indexSpec())).close();
  } else {
    rmSync(dir, { recursive: true, force: true });
    truth = await build(dir, count, size === "real");
    if (values.keep) {
      writeFileSync(
        `${dir}.truth.json`,
        JSON.stringify({ queries, codec, pool, count, truth, stats: buildStats.get(dir) }),
      );
    }
  }
  rows.push(await measure(name, dir, truth, size === "real"));
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
if (values["write-calibration"]) calibrate();
if (!values.keep && !values.dir) rmSync(work, { recursive: true, force: true });

console.log(
  `\nsearch, ${queries.length} Flickr8k val sentences, codec ${codec}, ${kernels().name} kernels`,
);
console.log(
  "index               images  build img/s  optimize s  size MB  recall@10  p50 ms  p99 ms  p50 cpu ms  RSS MB  ready ms  cold ms",
);
for (const r of rows) {
  console.log(
    `${r.index.padEnd(18)} ${String(r.images).padStart(7)}  ${r.buildImagesPerSecond.toFixed(0).padStart(11)}  ${r.optimizeSeconds.toFixed(1).padStart(10)}  ${(r.indexBytes / 1e6).toFixed(0).padStart(7)}  ${r.recallAt10.toFixed(3).padStart(9)}  ${r.p50Ms.toFixed(1).padStart(6)}  ${r.p99Ms.toFixed(1).padStart(6)}  ${r.p50CpuMs.toFixed(1).padStart(10)}  ${r.queryRssMB.toFixed(0).padStart(6)}  ${r.readyMs.toFixed(0).padStart(8)}  ${r.coldSearchMs === null ? "-" : r.coldSearchMs.toFixed(0).padStart(7)}`,
  );
}
if (values.json) console.log(JSON.stringify({ codec, queries: queries.length, ranking, rows }));

/**
 * Writes an index of `count` images (the real ones, or synthetic ones made from them) and returns
 * the exact top-10 keys of every query, from float32 vectors.
 */
async function build(dir: string, count: number, real: boolean): Promise<string[][]> {
  const index = await ImageIndex.openForWriting(dir, indexSpec());
  const qs = queries.map((q) => embedder.words(tokenize(q)).queries);
  const best = queries.map(() => [] as { key: string; score: number }[]);
  const source = real ? undefined : syntheticSource();
  const zeros = new Float32Array(R * DIM);
  let writing = 0;
  const batch = 500;
  for (let at = 0; at < count; at += batch) {
    const n = Math.min(batch, count - at);
    let images: StoredImage[];
    let vs: Float32Array[];
    // The build rate counts embedding the stored codes (real images) and writing the tables.
    const t0 = performance.now();
    if (real) {
      images = realImages.slice(at, at + n);
      const features = new Float32Array(n * R * DIM);
      images.forEach((im, k) => {
        features.set(im.features, k * R * DIM);
      });
      vs = embedder.embed(features, n);
    } else {
      const t1 = performance.now();
      ({ images, vs } = source!(at, n, zeros));
      writing -= performance.now() - t1;
    }
    const news = images.map((im) => ({
      key: im.filename,
      size: -1,
      mtime: -1,
      width: im.width,
      height: im.height,
      regions: im.regions,
      features: im.features,
    }));
    await index.addEmbedded(news, vs, embedder);
    writing += performance.now() - t0;
    embedder.scoreEach(vs, n, qs).forEach((S, i) => {
      for (let k = 0; k < n; k++) best[i].push({ key: images[k].filename, score: S[k] });
      best[i].sort((a, b) => b.score - a.score);
      best[i].length = Math.min(best[i].length, K);
    });
    process.stderr.write(`\rbench:search: ${dir}: ${at + n} of ${count} images`);
  }
  process.stderr.write("\n");
  const t0 = performance.now();
  await index.optimize();
  const optimizeMs = performance.now() - t0;
  await index.close();
  buildStats.set(dir, { imagesPerSecond: count / (writing / 1000), optimizeMs });
  return best.map((b) => b.map((x) => x.key));
}

/** What the bench's indexes hold. */
function indexSpec(): IndexSpec {
  return {
    bundle: embedder.fingerprint(),
    bundleName: "flickr8k",
    vision: {
      encoder: store.meta.encoder,
      dim: DIM,
      regionsPerImage: R,
      detector: store.meta.detector,
    },
    members: embedder.members.map((m) => ({ regions: m.regions, embed: m.model.config.embed })),
    weights: embedder.members.map((m) => m.weight),
    codec,
  };
}

/**
 * Synthetic images from the real ones: image j takes the regions (boxes, labels) of a random real
 * image and, for each member and region slot, mixes that slot's vectors of two random real
 * images (weight a ~ U(0.5, 1)) and adds Gaussian noise of a tenth of each dimension's spread.
 */
function syntheticSource(): (
  at: number,
  n: number,
  zeros: Float32Array,
) => { images: StoredImage[]; vs: Float32Array[] } {
  const poolSize = Math.min(pool, realImages.length);
  const mixed = realImages.slice(0, poolSize);
  const features = new Float32Array(poolSize * R * DIM);
  mixed.forEach((im, k) => {
    features.set(im.features, k * R * DIM);
  });
  const real = embedder.embed(features, poolSize);
  const spread = embedder.members.map((m, i) => {
    const e = m.model.config.embed;
    const rowsN = poolSize * m.regions;
    const mean = new Float64Array(e);
    const sq = new Float64Array(e);
    for (let r = 0; r < rowsN; r++) {
      for (let j = 0; j < e; j++) {
        const x = real[i][r * e + j];
        mean[j] += x;
        sq[j] += x * x;
      }
    }
    return Float32Array.from(mean, (mu, j) =>
      Math.sqrt(Math.max(sq[j] / rowsN - (mu / rowsN) ** 2, 0)),
    );
  });
  const srng = new Rng(11);
  return (at, n, zeros) => {
    const images: StoredImage[] = [];
    const vs = embedder.members.map((m) => new Float32Array(n * m.regions * m.model.config.embed));
    for (let k = 0; k < n; k++) {
      const a = Math.floor(srng.uniform() * poolSize);
      const b = Math.floor(srng.uniform() * poolSize);
      const w = 0.5 + 0.5 * srng.uniform();
      images.push({ ...mixed[a], filename: `synthetic-${at + k}`, features: zeros });
      embedder.members.forEach((m, i) => {
        const e = m.model.config.embed;
        const [to, from, sd] = [vs[i], real[i], spread[i]];
        for (let r = 0; r < m.regions; r++) {
          const out = (k * m.regions + r) * e;
          const fa = (a * m.regions + r) * e;
          const fb = (b * m.regions + r) * e;
          for (let j = 0; j < e; j++) {
            to[out + j] = w * from[fa + j] + (1 - w) * from[fb + j] + 0.1 * sd[j] * srng.normal();
          }
        }
      });
    }
    return { images, vs };
  };
}

async function measure(name: string, dir: string, truth: string[][], real: boolean): Promise<Row> {
  const queryFile = join(work, "queries.json");
  writeFileSync(queryFile, JSON.stringify(queries));
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      "--query-child",
      `${dir}\n${queryFile}\n${JSON.stringify(ranking)}`,
    ],
    { encoding: "utf8", maxBuffer: 1 << 28 },
  );
  if (child.status !== 0) throw new Error(`query process failed:\n${child.stderr}`);
  const out = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as {
    hits: string[][];
    latencies: number[];
    cpu: number[];
    maxRssKB: number;
    readyMs: number;
  };
  let found = 0;
  truth.forEach((t, i) => {
    const got = new Set(out.hits[i]);
    found += t.filter((k) => got.has(k)).length;
  });
  const sorted = [...out.latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  let coldSearchMs: number | null = null;
  if (real) {
    // `imagesent search` as a person runs it: a new process, the bundle loaded, one query, the
    // top 3 hits with their phrases.
    const main = join(here, "..", "src", "cli", `main${ext}`);
    const script = `import { main } from ${JSON.stringify(main)}; process.exitCode = await main(process.argv.slice(1));`;
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = spawnSync(
        process.execPath,
        [
          ...process.execArgv,
          "--input-type=module",
          "-e",
          script,
          "search",
          dir,
          queries[i],
          "--bundle",
          BUNDLE,
        ],
        { encoding: "utf8" },
      );
      if (r.status !== 0) throw new Error(`imagesent search failed:\n${r.stderr}`);
      times.push(performance.now() - t0);
    }
    coldSearchMs = times.sort((a, b) => a - b)[1];
  }
  const stats = buildStats.get(dir)!;
  return {
    index: name,
    images: real ? realImages.length : Number(name.split("-")[1]),
    buildImagesPerSecond: stats.imagesPerSecond,
    optimizeSeconds: stats.optimizeMs / 1000,
    indexBytes: folderBytes(dir),
    recallAt10: found / (truth.length * K),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    p50CpuMs: [...out.cpu].sort((a, b) => a - b)[Math.floor(out.cpu.length / 2)],
    queryRssMB: out.maxRssKB / 1024,
    readyMs: out.readyMs,
    coldSearchMs,
  };
}

/** The warm query process: opens the index once, runs every query, prints hits and timings. */
async function queryChild(arg: string): Promise<void> {
  const [dir, queryFile, rankingJson] = arg.split("\n");
  const options = { withPhrases: 0, ...(JSON.parse(rankingJson) as RankingOptions) };
  const qs = JSON.parse(readFileSync(queryFile, "utf8")) as string[];
  const searcher = Searcher.open(loadBundle(BUNDLE), dir);
  await searcher.size();
  // From the process's start to a searcher that answers: the bundle loaded, the index open.
  const readyMs = performance.now();
  await searcher.search(qs[0], K, options);
  const hits: string[][] = [];
  const latencies: number[] = [];
  const cpu: number[] = [];
  for (const q of qs) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const found = await searcher.search(q, K, options);
    latencies.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    hits.push(found.hits.map((h) => h.image));
  }
  await searcher.close();
  const maxRssKB = peakResidentKB();
  console.log(JSON.stringify({ hits, latencies, cpu, maxRssKB, readyMs }));
}

/**
 * This process's peak resident memory (KB): VmHWM of /proc/self/status, which is this process's
 * own. getrusage's maxRSS is not: across the spawn it keeps the parent's peak, which here holds
 * the real images' codes (820 MB for Flickr8k), so the RSS column of earlier runs was the bench's.
 */
function peakResidentKB(): number {
  const status = existsSync("/proc/self/status") ? readFileSync("/proc/self/status", "utf8") : "";
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
}

/** The packaged bundle's search calibration, from Flickr8k val (bundles/flickr8k/search-calibration.json). */
function calibrate(): void {
  const byName = new Map(realImages.map((im) => [im.filename, im]));
  const images = val.filter((im) => byName.has(im.filename));
  const features = new Float32Array(images.length * R * DIM);
  images.forEach((im, k) => {
    features.set(byName.get(im.filename)!.features, k * R * DIM);
  });
  const sentences = images.flatMap((im) => im.sentences.map((s) => s.tokens));
  const imageOf = Int32Array.from(images.flatMap((im, k) => im.sentences.map(() => k)));
  const c = calibrateSearch(
    (bundle as ModelBundle).search,
    bundle.alignment,
    "val",
    features,
    images.length,
    sentences,
    imageOf,
  );
  writeCalibration(BUNDLE, c);
  console.error(
    `bench:search: wrote ${join(BUNDLE, "search-calibration.json")}: ${JSON.stringify(c)}`,
  );
}

/**
 * The exact top 10 and build figures kept beside `dir` by an earlier --keep run, when they are of
 * these queries, codec, pool and image count; undefined (the index is built again) otherwise.
 */
function keptTruth(
  dir: string,
  count: number,
): { truth: string[][]; stats: { imagesPerSecond: number; optimizeMs: number } } | undefined {
  const path = `${dir}.truth.json`;
  if (!existsSync(join(dir, "index.json")) || !existsSync(path)) return undefined;
  const kept = JSON.parse(readFileSync(path, "utf8")) as {
    queries: string[];
    codec: string;
    pool?: number;
    count: number;
    truth: string[][];
    stats: { imagesPerSecond: number; optimizeMs: number };
  };
  const same =
    kept.codec === codec &&
    (kept.pool ?? 2000) === pool &&
    kept.count === count &&
    kept.queries.length === queries.length &&
    kept.queries.every((q, i) => q === queries[i]);
  if (!same) {
    console.error(`bench:search: ${path} is of other queries, codec, pool or size; building again`);
    return undefined;
  }
  console.error(`bench:search: reusing ${dir} (built before with --keep)`);
  return kept;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    const st = statSync(join(dir, String(f)));
    if (st.isFile()) total += st.size;
  }
  return total;
}

function pick<T>(xs: readonly T[], n: number, r: Rng): T[] {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}
