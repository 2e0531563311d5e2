import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { AlignmentModel } from "../align/model.js";
import { AlignmentFusion, isFusionPath } from "../align/score-fusion.js";
import { writeFileAtomic } from "../core/atomic-file.js";
import { loadCheckpoint, saveCheckpoint } from "../core/checkpoint.js";
import { checkContainedName, containedPath } from "../core/contained-path.js";
import { Params } from "../core/params.js";
import { Tensor } from "../core/tensor.js";
import { InputError } from "../errors.js";
import { ensembleMember, type LoadedGenerator, loadGenerator } from "../generate/load-generator.js";
import { type ConsensusRerank, SnippetConsensus } from "../generate/snippet-consensus.js";
import { imagesentHome } from "../home-dir.js";
import { JsonFields, parseJson, shown } from "../json-fields.js";
import {
  type GroundingKnowledge,
  loadGroundingKnowledge,
  saveGroundingKnowledge,
} from "../mrf/grounding-knowledge.js";
import { DEFAULT_BETA } from "../mrf/phrase-alignment.js";
import { packageRoot } from "../package-root.js";
import { parseRegionPhrases, type RegionPhraseSetting } from "./region-phrase-filter.js";
import { parseVisionSetup, type VisionSetup } from "./vision-setup.js";

/**
 * A model bundle: one folder with everything describe and search need, so an app names one
 * thing. `bundle.json` (docs/bundle.md) names the checkpoints inside the folder, the chain MRF's
 * beta and the vision setup that made the features the models were trained on.
 */
export const BUNDLE_FORMAT = "imagesent-bundle";
export const BUNDLE_VERSION = 1;
export const BUNDLE_FILE = "bundle.json";

/**
 * The widest caption beam a bundle's captionRerank or a --beam flag may ask for: beam search's
 * time and memory grow with the beam, and the paper's beams are 7 to 20.
 */
export const MAX_BEAM = 100;

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: typeof BUNDLE_VERSION;
  /** Alignment checkpoint, relative to the bundle folder: the MRF's phrase-to-region model. */
  readonly alignment: string;
  /**
   * When search scores with several alignment models (fuse-align), each checkpoint and its
   * weight; the first is `alignment`. Absent: search scores with `alignment` alone.
   */
  readonly searchFusion?: readonly { readonly checkpoint: string; readonly weight: number }[];
  /** Full-frame generator checkpoint. */
  readonly generator: string;
  /**
   * More full-frame generators (same vocabulary and normaliser) that caption together with
   * `generator`, their word probabilities averaged (eval-gen --ensemble). Absent: one generator.
   */
  readonly generatorEnsemble?: readonly string[];
  /** Region generator checkpoint, when the bundle describes regions. */
  readonly regionGenerator?: string;
  /**
   * What phrase grounding learned from the training captions and detector labels
   * (mrf/grounding-knowledge.ts; `imagesent fit-grounding`), when the bundle grounds phrases.
   */
  readonly grounding?: string;
  /**
   * Which region phrases describe shows (app/region-phrase-filter.ts): the confidence threshold
   * chosen on val (`imagesent region-threshold`) and the detector score from which a phrase must
   * not name another class. Absent: DEFAULT_REGION_PHRASES.
   */
  readonly regionPhrases?: RegionPhraseSetting;
  /**
   * When set, describe decodes the whole-image caption with a beam of `beam` and reranks the
   * beam's captions with the search models at `weight` (generate/alignment-rerank.ts).
   */
  readonly captionRerank?: CaptionRerankSetting;
  /**
   * When set, describe decodes each region's phrase with a beam of `beam` and reranks it with the
   * search models' score of the phrase on that region at `weight` (generate/region-phrases.ts;
   * chosen on val with eval-regions --region-rerank).
   */
  readonly regionRerank?: CaptionRerankSetting;
  /**
   * When set, describe also ranks each region's beam by the phrase's consensus with the snippets
   * of the `neighbours` nearest train regions, at `weight` (generate/snippet-consensus.ts; the
   * file made by `imagesent fit-consensus`; chosen on val with eval-regions --region-consensus).
   */
  readonly regionConsensus?: RegionConsensusSetting;
  /** The chain MRF's reward for neighbouring words sharing a region. */
  readonly beta: number;
  readonly vision: VisionSetup;
  /** Free text: what the models were trained on. */
  readonly description?: string;
}

/** How describe reranks a beam of a bundle's whole-image captions or of its region phrases. */
export interface CaptionRerankSetting {
  readonly weight: number;
  readonly beam: number;
}

/** A bundle's snippet consensus file and how describe weighs it. */
export interface RegionConsensusSetting {
  readonly file: string;
  readonly weight: number;
  readonly neighbours: number;
}

/** The most train regions a consensus may be asked to compare a phrase with. */
export const MAX_CONSENSUS_NEIGHBOURS = 200;

/** Validates a parsed bundle.json; errors name `where` and the field. */
export function parseBundleManifest(json: unknown, where: string): BundleManifest {
  const r = JsonFields.of(json, where);
  r.oneOf("format", [BUNDLE_FORMAT]);
  if (r.get("version") !== BUNDLE_VERSION) {
    throw r.errorAt(
      "version",
      `this build reads version ${BUNDLE_VERSION}, got ${shown(r.get("version"))}`,
    );
  }
  const file = (key: string): string =>
    checkContainedName(r.string(key, { want: "a checkpoint file name" }), r.label(key));
  const beta = r.number("beta", { min: 0 });
  const description = r.optionalString("description", { empty: true });
  const regionGenerator = r.has("regionGenerator") ? file("regionGenerator") : undefined;
  const grounding = r.has("grounding")
    ? checkContainedName(
        r.string("grounding", { want: "a grounding file name" }),
        r.label("grounding"),
      )
    : undefined;
  const alignment = file("alignment");
  const searchFusion = r.has("searchFusion") ? readSearchFusion(r, alignment) : undefined;
  const ensemble = r.has("generatorEnsemble")
    ? r.strings("generatorEnsemble", { want: "a list of checkpoint file names" })
    : undefined;
  ensemble?.forEach((f, i) => {
    checkContainedName(f, r.label(`generatorEnsemble[${i}]`));
  });
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    alignment,
    ...(searchFusion ? { searchFusion } : {}),
    generator: file("generator"),
    ...(ensemble ? { generatorEnsemble: ensemble } : {}),
    ...(regionGenerator ? { regionGenerator } : {}),
    ...(grounding ? { grounding } : {}),
    ...(r.has("regionPhrases")
      ? { regionPhrases: parseRegionPhrases(r.get("regionPhrases"), r.label("regionPhrases")) }
      : {}),
    ...(r.has("captionRerank") ? { captionRerank: readRerank(r, "captionRerank") } : {}),
    ...(r.has("regionRerank") ? { regionRerank: readRerank(r, "regionRerank") } : {}),
    ...(r.has("regionConsensus") ? { regionConsensus: readConsensus(r) } : {}),
    beta,
    vision: parseVisionSetup(r.get("vision"), where, r.pathOf("vision")),
    ...(description !== undefined ? { description } : {}),
  };
}

/** A manifest's captionRerank or regionRerank object. */
function readRerank(manifest: JsonFields, key: string): CaptionRerankSetting {
  const r = manifest.child(key, { want: 'an object {"weight": W, "beam": N}' });
  return {
    weight: r.number("weight", { min: 0 }),
    beam: r.number("beam", { integer: true, min: 2, max: MAX_BEAM }),
  };
}

/** A manifest's regionConsensus object. */
function readConsensus(manifest: JsonFields): RegionConsensusSetting {
  const r = manifest.child("regionConsensus", {
    want: 'an object {"file": F, "weight": W, "neighbours": K}',
  });
  return {
    file: checkContainedName(r.string("file", { want: "a consensus file name" }), r.label("file")),
    weight: r.number("weight", { min: 0 }),
    neighbours: r.number("neighbours", { integer: true, min: 1, max: MAX_CONSENSUS_NEIGHBOURS }),
  };
}

/** A manifest's searchFusion list; its first member is the alignment model. */
function readSearchFusion(
  manifest: JsonFields,
  alignment: string,
): NonNullable<BundleManifest["searchFusion"]> {
  return manifest.objects("searchFusion", { minLength: 1 }).map((m, i) => {
    const checkpoint = checkContainedName(
      m.string("checkpoint", { want: "a checkpoint file name" }),
      m.label("checkpoint"),
    );
    if (i === 0 && checkpoint !== alignment) {
      m.fail("checkpoint", `"${alignment}" (the alignment model)`);
    }
    return { checkpoint, weight: m.number("weight") };
  });
}

/** The files of a bundle folder its manifest names, each with the bundle.json field naming it. */
function bundleFiles(manifest: BundleManifest): [field: string, file: string][] {
  const files: [string, string | undefined][] = [
    ["alignment", manifest.alignment],
    ["generator", manifest.generator],
    ["regionGenerator", manifest.regionGenerator],
    ["grounding", manifest.grounding],
    ["regionConsensus.file", manifest.regionConsensus?.file],
    ...(manifest.searchFusion ?? []).map((m, i): [string, string] => [
      `searchFusion[${i}].checkpoint`,
      m.checkpoint,
    ]),
    ...(manifest.generatorEnsemble ?? []).map((f, i): [string, string] => [
      `generatorEnsemble[${i}]`,
      f,
    ]),
  ];
  const seen = new Set<string>();
  return files.filter((e): e is [string, string] => {
    if (e[1] === undefined || seen.has(e[1])) return false;
    seen.add(e[1]);
    return true;
  });
}

/**
 * Checks that every file `manifest` names, and bundle.json itself, stays inside `dir` with its
 * symlinks followed; errors name bundle.json and the field.
 */
function checkBundlePaths(dir: string, manifest: BundleManifest): void {
  const where = join(dir, BUNDLE_FILE);
  containedPath(dir, BUNDLE_FILE, where);
  for (const [field, file] of bundleFiles(manifest)) containedPath(dir, file, `${where}: ${field}`);
}

/** A bundle's manifest with its models loaded. */
export interface ModelBundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  /** The phrase-to-region model (chain MRF); also the first model search scores with. */
  readonly alignment: AlignmentModel;
  /** What search scores with: the alignment model alone, or its fusion with others. */
  readonly search: AlignmentFusion;
  readonly generator: LoadedGenerator;
  /** The generators that caption together with `generator` (none when it captions alone). */
  readonly generatorEnsemble: readonly LoadedGenerator[];
  readonly regionGenerator: LoadedGenerator | undefined;
  /** What grounds a caption's phrases on regions; undefined when the bundle has none. */
  readonly grounding: GroundingKnowledge | undefined;
  /** The region phrases' snippet consensus; undefined when the bundle has none. */
  readonly regionConsensus: SnippetConsensus | undefined;
}

export interface WriteBundleOptions {
  /**
   * Trained alignment checkpoint (best.ckpt of train-align), or a fusion (fuse-align's JSON):
   * then its first model aligns phrases and search scores with all of them.
   */
  readonly alignment: string;
  /** Trained full-frame generator checkpoint (best.ckpt of train-gen). */
  readonly generator: string;
  /** More full-frame generators to caption with it as an ensemble (another seed, same data). */
  readonly generatorEnsemble?: readonly string[];
  /** Trained region generator checkpoint (train-gen --mode region). */
  readonly regionGenerator?: string;
  /** A grounding file (`imagesent fit-grounding`), fitted on the same training data. */
  readonly grounding?: string;
  /** Which region phrases describe shows (`imagesent region-threshold` chooses it on val). */
  readonly regionPhrases?: RegionPhraseSetting;
  /** Rerank describe's caption beam with the alignment model(s) (eval-gen --rerank on val). */
  readonly captionRerank?: CaptionRerankSetting;
  /** Rerank describe's region phrase beams with the alignment model(s) (eval-regions on val). */
  readonly regionRerank?: CaptionRerankSetting;
  /**
   * Rank them by snippet consensus too: `file` a consensus file (`imagesent fit-consensus`) of
   * the region generator's training regions, copied into the bundle.
   */
  readonly regionConsensus?: RegionConsensusSetting;
  readonly vision: VisionSetup;
  /** Default DEFAULT_BETA. */
  readonly beta?: number;
  readonly description?: string;
}

/**
 * Writes a bundle into `dir` (created; an existing bundle there is replaced): each checkpoint is
 * checked by loading it, then rewritten with float16 weights and no optimiser or RNG state, which
 * halves it and drops what only training needs. The checkpoints must agree on the feature size.
 */
export function writeBundle(dir: string, options: WriteBundleOptions): BundleManifest {
  const fusion = isFusionPath(options.alignment)
    ? AlignmentFusion.load(options.alignment)
    : AlignmentFusion.ofCheckpoint(options.alignment);
  const alignment = fusion.members[0].model;
  const generators = [options.generator, options.regionGenerator].flatMap((p) =>
    p === undefined ? [] : [loadGenerator(p)],
  );
  const ensemble = (options.generatorEnsemble ?? []).map((p) =>
    ensembleMember(loadGenerator(p), generators[0]),
  );
  for (const g of generators) {
    if (g.model.config.featureDim !== alignment.config.featureDim) {
      throw new InputError(
        `${g.path}: generator takes ${g.model.config.featureDim}-d features, the alignment model ${alignment.config.featureDim}-d (${options.alignment})`,
      );
    }
  }
  const grounding = options.grounding ? loadGroundingKnowledge(options.grounding) : undefined;
  const consensus = options.regionConsensus
    ? SnippetConsensus.load(options.regionConsensus.file)
    : undefined;
  if (consensus && consensus.normalizer.dim !== alignment.config.featureDim) {
    throw new InputError(
      `${options.regionConsensus?.file}: consensus of ${consensus.normalizer.dim}-d features, the alignment model takes ${alignment.config.featureDim}-d (${options.alignment})`,
    );
  }
  const fused = fusion.members.length > 1;
  const memberFile = (i: number) => (i === 0 ? "alignment.ckpt" : `alignment-${i + 1}.ckpt`);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    alignment: memberFile(0),
    ...(fused
      ? {
          searchFusion: fusion.members.map((m, i) => ({
            checkpoint: memberFile(i),
            weight: m.weight,
          })),
        }
      : {}),
    generator: "generator.ckpt",
    ...(ensemble.length > 0
      ? { generatorEnsemble: ensemble.map((_, i) => `generator-${i + 2}.ckpt`) }
      : {}),
    ...(options.regionGenerator ? { regionGenerator: "region-generator.ckpt" } : {}),
    ...(grounding ? { grounding: "grounding.json" } : {}),
    ...(options.regionPhrases ? { regionPhrases: options.regionPhrases } : {}),
    ...(options.captionRerank ? { captionRerank: options.captionRerank } : {}),
    ...(options.regionRerank ? { regionRerank: options.regionRerank } : {}),
    ...(options.regionConsensus
      ? { regionConsensus: { ...options.regionConsensus, file: "region-consensus.ckpt" } }
      : {}),
    beta: options.beta ?? DEFAULT_BETA,
    vision: options.vision,
    ...(options.description !== undefined ? { description: options.description } : {}),
  };
  parseBundleManifest(JSON.parse(JSON.stringify(manifest)), "bundle");
  mkdirSync(dir, { recursive: true });
  checkBundlePaths(dir, manifest);
  fusion.members.forEach((m, i) => {
    saveWeightsF16(m.checkpoint, join(dir, memberFile(i)));
  });
  saveWeightsF16(options.generator, join(dir, manifest.generator));
  ensemble.forEach((g, i) => {
    saveWeightsF16(g.path, join(dir, manifest.generatorEnsemble![i]));
  });
  if (options.regionGenerator && manifest.regionGenerator) {
    saveWeightsF16(options.regionGenerator, join(dir, manifest.regionGenerator));
  }
  if (grounding && manifest.grounding)
    saveGroundingKnowledge(join(dir, manifest.grounding), grounding);
  if (consensus && manifest.regionConsensus)
    consensus.save(join(dir, manifest.regionConsensus.file));
  writeFileAtomic(join(dir, BUNDLE_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Rewrites a checkpoint's weights, config, vocabulary and meta with float16 weights. */
function saveWeightsF16(from: string, to: string): void {
  const checkpoint = loadCheckpoint(from);
  const params = new Params();
  for (const [name, stored] of checkpoint.tensors) {
    params.add(name, new Tensor(stored.data, stored.shape));
  }
  saveCheckpoint(
    to,
    {
      params,
      step: checkpoint.step,
      config: checkpoint.config,
      vocabulary: checkpoint.vocabulary,
      meta: checkpoint.meta,
    },
    { dtype: "f16" },
  );
}

/** Reads a bundle folder's manifest; errors name bundle.json and the field. */
export function readBundleManifest(dir: string): BundleManifest {
  const path = join(dir, BUNDLE_FILE);
  if (!existsSync(path)) throw new InputError(`${dir}: not a model bundle (no ${BUNDLE_FILE})`);
  containedPath(dir, BUNDLE_FILE, path);
  return parseBundleManifest(parseJson(readFileSync(path, "utf8"), path), path);
}

/**
 * Loads a bundle by folder path or by name in the bundle cache (see BundleCache). A value that
 * names an existing folder, or contains a path separator, is a path.
 */
export function loadBundle(nameOrPath: string, cache = new BundleCache()): ModelBundle {
  return loadBundleFolder(cache.resolve(nameOrPath));
}

/**
 * Loads the bundle in folder `dir`; every file it names must lie inside it. The manifest and the
 * alignment and search models load now; the generators and the grounding load when first used,
 * so that search (which needs neither) starts fast.
 */
function loadBundleFolder(dir: string): ModelBundle {
  const manifest = readBundleManifest(dir);
  checkBundlePaths(dir, manifest);
  const alignment = AlignmentModel.load(join(dir, manifest.alignment)).model;
  const search = new AlignmentFusion(
    (manifest.searchFusion ?? [{ checkpoint: manifest.alignment, weight: 1 }]).map((m, i) => ({
      model: i === 0 ? alignment : AlignmentModel.load(join(dir, m.checkpoint)).model,
      checkpoint: join(dir, m.checkpoint),
      weight: m.weight,
    })),
  );
  const checked = (g: LoadedGenerator): LoadedGenerator => {
    if (g.model.config.featureDim !== alignment.config.featureDim) {
      throw new InputError(
        `${g.path}: takes ${g.model.config.featureDim}-d features, the bundle's alignment model ${alignment.config.featureDim}-d`,
      );
    }
    return g;
  };
  const generator = once(() => checked(loadGenerator(join(dir, manifest.generator))));
  const generatorEnsemble = once(() =>
    (manifest.generatorEnsemble ?? []).map((f) =>
      ensembleMember(loadGenerator(join(dir, f)), generator()),
    ),
  );
  const regionGenerator = once(() =>
    manifest.regionGenerator
      ? checked(loadGenerator(join(dir, manifest.regionGenerator)))
      : undefined,
  );
  const grounding = once(() =>
    manifest.grounding ? loadGroundingKnowledge(join(dir, manifest.grounding)) : undefined,
  );
  const regionConsensus = once(() => {
    if (!manifest.regionConsensus) return undefined;
    const c = SnippetConsensus.load(join(dir, manifest.regionConsensus.file));
    if (c.normalizer.dim !== alignment.config.featureDim) {
      throw new InputError(
        `${join(dir, manifest.regionConsensus.file)}: consensus of ${c.normalizer.dim}-d features, the bundle's alignment model ${alignment.config.featureDim}-d`,
      );
    }
    return c;
  });
  return {
    dir,
    manifest,
    alignment,
    search,
    get generator() {
      return generator();
    },
    get generatorEnsemble() {
      return generatorEnsemble();
    },
    get regionGenerator() {
      return regionGenerator();
    },
    get grounding() {
      return grounding();
    },
    get regionConsensus() {
      return regionConsensus();
    },
  };
}

/**
 * The bundle's region-phrase consensus as decodeRegionPhrases takes it, at `weight` (default the
 * bundle's regionConsensus weight); undefined at weight 0 or when the bundle has none.
 */
export function regionConsensusRerank(
  bundle: ModelBundle,
  weight = bundle.manifest.regionConsensus?.weight ?? 0,
): ConsensusRerank | undefined {
  const setting = bundle.manifest.regionConsensus;
  const consensus = setting && weight > 0 ? bundle.regionConsensus : undefined;
  return consensus && setting ? { consensus, weight, neighbours: setting.neighbours } : undefined;
}

/** Loads every part of a bundle now (what loadBundleFolder leaves to first use), to check it. */
function loadBundleFully(dir: string): void {
  const b = loadBundleFolder(dir);
  void [b.generator, b.generatorEnsemble, b.regionGenerator, b.grounding, b.regionConsensus];
}

/** `make`'s value, computed on the first call only. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/** The bundle cache: $IMAGESENT_HOME/bundles (default ~/.cache/imagesent/bundles), one folder per name. */
export function bundleCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(imagesentHome(env), "bundles");
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Bundles that ship with the package (e.g. `flickr8k`), found by name when not in the cache. */
export const PACKAGED_BUNDLES = join(packageRoot, "bundles");

/** The packaged bundle the name `default` means while no bundle is cached under that name. */
export const PACKAGED_DEFAULT = "flickr8k";

/**
 * Named bundles, next to the model cache, so apps and commands say `--bundle NAME`; names not in
 * the cache are looked up among the bundles that ship with the package.
 */
export class BundleCache {
  constructor(
    readonly dir: string = bundleCacheDir(),
    readonly packagedDir: string = PACKAGED_BUNDLES,
  ) {}

  pathOf(name: string): string {
    if (!NAME.test(name)) {
      throw new InputError(`bundle name '${name}' must be letters, digits, '.', '_' or '-'`);
    }
    return join(this.dir, name);
  }

  /** The names of the bundles that ship with the package. */
  packaged(): string[] {
    return bundleNames(this.packagedDir);
  }

  /** The names of the cached bundles. */
  list(): string[] {
    return bundleNames(this.dir);
  }

  /**
   * Copies a bundle folder into the cache as `name`, replacing any of that name. The bundle is
   * loaded first, so a bundle.json naming files outside the folder, a missing file or a
   * checkpoint that does not read back (truncated, bit-flipped) leaves the cache as it was.
   */
  add(name: string, from: string): string {
    const path = this.pathOf(name);
    if (!(existsSync(from) && statSync(from).isDirectory())) {
      throw new InputError(`${from}: bundle folder not found`);
    }
    const bundleJson = join(from, BUNDLE_FILE);
    const manifest = readBundleManifest(from);
    for (const [field, f] of bundleFiles(manifest)) {
      if (!existsSync(join(from, f))) {
        throw new InputError(`${bundleJson}: ${field}: ${join(from, f)}: file not found`);
      }
    }
    loadBundleFully(from);
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    const old = join(this.dir, `.${name}.${process.pid}.old`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      for (const f of [...bundleFiles(manifest).map((e) => e[1]), BUNDLE_FILE]) {
        mkdirSync(dirname(join(tmp, f)), { recursive: true });
        copyFileSync(join(from, f), join(tmp, f));
      }
      const replacing = existsSync(path);
      if (replacing) renameSync(path, old);
      try {
        renameSync(tmp, path);
      } catch (err) {
        if (replacing) renameSync(old, path);
        throw err;
      }
      rmSync(old, { recursive: true, force: true });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return path;
  }

  remove(name: string): boolean {
    const path = this.pathOf(name);
    if (!existsSync(path)) return false;
    rmSync(path, { recursive: true });
    return true;
  }

  /** The folder of a bundle given by path or by cached name. */
  resolve(nameOrPath: string): string {
    if (existsSync(nameOrPath) && statSync(nameOrPath).isDirectory()) return resolve(nameOrPath);
    if (nameOrPath.includes("/") || nameOrPath.includes("\\")) {
      throw new InputError(`${nameOrPath}: bundle folder not found`);
    }
    const path = this.pathOf(nameOrPath);
    if (existsSync(path)) return path;
    const name = nameOrPath === "default" ? PACKAGED_DEFAULT : nameOrPath;
    const packaged = join(this.packagedDir, name);
    if (existsSync(join(packaged, BUNDLE_FILE))) return packaged;
    throw new InputError(
      `bundle '${nameOrPath}' is neither in ${this.dir} nor among the packaged bundles ` +
        `(${this.packaged().join(", ") || "none"}); add a bundle folder with ` +
        `'imagesent models bundle add ${nameOrPath} DIR'`,
    );
  }
}

function bundleNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => NAME.test(f) && existsSync(join(dir, f, BUNDLE_FILE)))
    .sort();
}
