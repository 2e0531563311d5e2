import {
  BundleCache,
  type CaptionRerankSetting,
  MAX_BEAM,
  MAX_CONSENSUS_NEIGHBOURS,
  type RegionConsensusSetting,
  writeBundle,
} from "../../app/model-bundle.js";
import { type VisionSetup, WORLD_SHAPES } from "../../app/vision-setup.js";
import { InputError } from "../../errors.js";
import { DEFAULT_RERANK_BEAM } from "../../generate/alignment-rerank.js";
import { DEFAULT_REGION_RERANK } from "../../generate/region-phrases.js";
import { DEFAULT_REGION_CONSENSUS } from "../../generate/snippet-consensus.js";
import { DEFAULT_BETA } from "../../mrf/phrase-alignment.js";
import {
  DETECTOR_PRESETS,
  ENCODER_PRESETS,
  loadModelConfig,
  type ModelConfig,
} from "../../vision/model-config.js";
import { ModelRegistry } from "../../vision/model-registry.js";
import type { Command } from "../command.js";
import { boundedInt, closest, numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

/** The vision setup `bundle create` records when --encoder and --detector are not given. */
const DEFAULT_ENCODER = "mobilenetv2-12-int8";
const DEFAULT_BUNDLE_DETECTOR = "yolox-nano";

const USAGE = renderHelp({
  usage: [
    "models <list | add NAME FILE | fetch NAME [URL --sha256 HEX] | remove NAME | path NAME>",
    "models bundle <list | add NAME DIR | remove NAME>",
    "models bundle create DIR --alignment CKPT --generator CKPT [options]",
  ],
  description: `The model cache ($IMAGESENT_HOME/models, default ~/.cache/imagesent/models).
    Encoder and detector configs name their ONNX file by a cache name, so they work on any machine
    once the file is added.`,
  args: [
    { flag: "list", text: "cached models, and the presets with where their models come from" },
    {
      flag: "add NAME FILE",
      text: `copy a local .onnx file into the cache as NAME (--sha256 HEX checks it); NAME is the
        model name a config looks up ('list' shows each preset's)`,
    },
    {
      flag: "fetch NAME URL --sha256 HEX",
      text: "download URL into the cache as NAME, kept only if its sha256 matches",
    },
    {
      flag: "fetch PRESET",
      text: "download a preset's model from its public source (checked the same way)",
    },
    { flag: "remove NAME", text: "delete a cached model" },
    { flag: "path NAME", text: "print the cached file of NAME" },
    {
      flag: "bundle list",
      text: "cached model bundles ($IMAGESENT_HOME/bundles, docs/bundle.md)",
    },
    {
      flag: "bundle add NAME DIR",
      text: "copy a bundle folder into the cache, so commands take --bundle NAME",
    },
    { flag: "bundle remove NAME", text: "delete a cached bundle" },
    {
      flag: "bundle create DIR",
      text: "write a bundle (float16) from trained checkpoints, with the flags below",
    },
  ],
  flags: [
    { flag: "--sha256 HEX", text: "(add, fetch) the file's expected sha256, 64 hex digits" },
    {
      flag: "--alignment CKPT",
      text: `(bundle create) train-align's best.ckpt, or fuse-align's FUSION.json (search then
        scores with all its models, phrases align with the first)`,
    },
    { flag: "--generator CKPT", text: "(bundle create) train-gen's best.ckpt (full frame)" },
    {
      flag: "--generator-ensemble CKPT",
      text: `(bundle create) another full-frame generator (same data, another --seed) that
        captions together with --generator (repeatable)`,
    },
    {
      flag: "--region-generator CKPT",
      text: "(bundle create) train-gen --mode region's best.ckpt",
      default: "none",
    },
    {
      flag: "--grounding FILE",
      text: "(bundle create) imagesent fit-grounding's file: describe and search ground phrases",
      default: "none",
    },
    {
      flag: "--encoder E",
      text: `(bundle create) encoder preset or config file the features were made with
        ("pixel-stats" for the demo world)`,
      default: DEFAULT_ENCODER,
    },
    {
      flag: "--detector D",
      text: `(bundle create) detector preset or config file ("none"; "${WORLD_SHAPES}" for the
        demo world)`,
      default: DEFAULT_BUNDLE_DETECTOR,
    },
    { flag: "--regions N", text: "(bundle create) regions per image, 1 to 20", default: 20 },
    {
      flag: "--beta B",
      text: "(bundle create) the chain MRF's beta for search phrases (docs/results/mrf.md)",
      default: DEFAULT_BETA,
    },
    {
      flag: "--rerank-weight W",
      text: `(bundle create) describe reranks its caption beam with the alignment model(s) at
        this weight (eval-gen --rerank on val)`,
      default: "no reranking",
    },
    {
      flag: "--rerank-beam N",
      text: `(bundle create) the beam describe reranks, 2 to ${MAX_BEAM}, with --rerank-weight`,
      default: DEFAULT_RERANK_BEAM,
    },
    {
      flag: "--region-rerank-weight W",
      text: `(bundle create) describe reranks each region's phrase beam with the alignment
        model(s) at this weight (eval-regions --region-rerank on val)`,
      default: "no reranking",
    },
    {
      flag: "--region-rerank-beam N",
      text: `(bundle create) the region beam describe reranks, 2 to ${MAX_BEAM}, with
        --region-rerank-weight`,
      default: DEFAULT_REGION_RERANK.beam,
    },
    {
      flag: "--region-consensus FILE",
      text: `(bundle create) describe also ranks each region's phrase beam by its consensus with
        the snippets of the nearest train regions (the file of imagesent fit-consensus)`,
      default: "none",
    },
    {
      flag: "--region-consensus-weight W",
      text: "(bundle create) its weight (eval-regions --region-consensus on val)",
      default: DEFAULT_REGION_CONSENSUS.weight,
    },
    {
      flag: "--region-consensus-neighbours K",
      text: `(bundle create) the nearest train regions a phrase is compared with, 1 to ${MAX_CONSENSUS_NEIGHBOURS}`,
      default: DEFAULT_REGION_CONSENSUS.neighbours,
    },
    {
      flag: "--description TEXT",
      text: "(bundle create) one line saying what the models were trained on",
    },
  ],
  notes: ["Only 'fetch' uses the network."],
  examples: [
    "models list",
    "models add mobilenetv2-12-int8 path/to/mobilenetv2-12-int8.onnx",
    "models fetch yolox-nano",
    "models bundle create runs/flickr8k/bundle --alignment runs/flickr8k/align-fused.json --generator runs/flickr8k/gen/best.ckpt",
  ],
});

const PRESETS: readonly (readonly [string, ModelConfig])[] = [
  ...Object.entries(ENCODER_PRESETS),
  ...Object.entries(DETECTOR_PRESETS),
];

export const modelsCommand: Command = {
  name: "models",
  usage: USAGE,
  async run(args) {
    if (args[0] === "bundle" && args[1] === "create") return createBundle(args.slice(2));
    const parsed = parseCommandArgs(args, { sha256: { type: "string" } }, USAGE);
    const [action, ...rest] = parsed.positionals;
    const sha256 = parsed.values.sha256 as string | undefined;
    const registry = new ModelRegistry();
    const need = (n: number) => {
      if (rest.length !== n)
        throw new InputError(`models ${action}: expected ${n} argument(s)\n\n${USAGE}`);
    };
    switch (action) {
      case "list": {
        need(0);
        const cached = registry.list();
        console.log(`cache: ${registry.dir}`);
        if (cached.length === 0) console.log("  (empty)");
        for (const m of cached)
          console.log(`  ${m.name.padEnd(28)} ${(m.bytes / 1e6).toFixed(1)} MB`);
        console.log("presets:");
        for (const [name, c] of PRESETS) {
          const have = cached.some((m) => m.name === c.model) ? "cached" : "not cached";
          console.log(
            `  ${name.padEnd(22)} ${c.kind.padEnd(9)} model ${c.model} (${have})${c.source ? ` from ${c.source.url}` : ""}`,
          );
        }
        return 0;
      }
      case "add": {
        need(2);
        const preset = PRESETS.find(([p, c]) => p === rest[0] && c.model !== rest[0])?.[1];
        if (preset) {
          throw new InputError(
            `models add: '${rest[0]}' is a preset, whose config looks its model up as '${preset.model}'; add it with 'imagesent models add ${preset.model} ${rest[1]}'`,
          );
        }
        const m = registry.add(rest[0], rest[1], sha256);
        console.log(`added ${m.name} (${m.bytes} bytes) at ${m.path}`);
        return 0;
      }
      case "fetch": {
        let name: string;
        let url: string;
        let hash: string | undefined = sha256;
        if (rest.length === 1) {
          const preset = PRESETS.find(([p, c]) => p === rest[0] || c.model === rest[0])?.[1];
          if (!preset?.source)
            throw new InputError(
              `models fetch: '${rest[0]}' is not a preset with a source; give URL --sha256 HEX`,
            );
          name = preset.model;
          url = preset.source.url;
          hash = preset.source.sha256;
        } else {
          need(2);
          [name, url] = rest;
        }
        if (!hash || !/^[0-9a-fA-F]{64}$/.test(hash))
          throw new InputError("models fetch: --sha256 HEX (64 hex digits) is required");
        console.error(`fetching ${url}`);
        const m = await registry.fetch(name, url, hash);
        console.log(`fetched ${m.name} (${m.bytes} bytes, sha256 verified) at ${m.path}`);
        return 0;
      }
      case "remove": {
        need(1);
        if (!registry.remove(rest[0]))
          throw new InputError(`models remove: no cached model '${rest[0]}'`);
        console.log(`removed ${rest[0]}`);
        return 0;
      }
      case "bundle":
        return bundleAction(rest);
      case "path": {
        need(1);
        console.log(registry.resolve(rest[0]));
        return 0;
      }
      default:
        throw new InputError(`models: ${unknownAction(action, ACTIONS)}\n\n${USAGE}`);
    }
  },
};

const ACTIONS = ["list", "add", "fetch", "remove", "path", "bundle"];
const BUNDLE_ACTIONS = ["list", "add", "remove", "create"];

/** "missing action (one of ...)" or "unknown action 'X'", with the nearest action when near. */
function unknownAction(action: string | undefined, actions: readonly string[]): string {
  if (action === undefined) return `missing action (one of ${actions.join(", ")})`;
  const near = closest(action, actions);
  return `unknown action '${action}'${near ? ` (did you mean '${near}'?)` : ""}`;
}

/** `models bundle list | add NAME DIR | remove NAME`: the named-bundle cache. */
function bundleAction(args: readonly string[]): number {
  const [action, ...rest] = args;
  const cache = new BundleCache();
  const need = (n: number) => {
    if (rest.length !== n)
      throw new InputError(`models bundle ${action}: expected ${n} argument(s)\n\n${USAGE}`);
  };
  switch (action) {
    case "list": {
      need(0);
      const names = cache.list();
      console.log(`bundles: ${cache.dir}`);
      if (names.length === 0) console.log("  (none)");
      for (const name of names) console.log(`  ${name}`);
      const packaged = cache.packaged();
      console.log(`packaged with imagesent: ${cache.packagedDir}`);
      if (packaged.length === 0) console.log("  (none)");
      for (const name of packaged) console.log(`  ${name}`);
      return 0;
    }
    case "add": {
      need(2);
      console.log(`added bundle ${rest[0]} at ${cache.add(rest[0], rest[1])}`);
      return 0;
    }
    case "remove": {
      need(1);
      if (!cache.remove(rest[0]))
        throw new InputError(`models bundle remove: no cached bundle '${rest[0]}'`);
      console.log(`removed bundle ${rest[0]}`);
      return 0;
    }
    default:
      throw new InputError(`models bundle: ${unknownAction(action, BUNDLE_ACTIONS)}\n\n${USAGE}`);
  }
}

/** `models bundle create DIR ...`: packs trained checkpoints and their vision setup into a bundle. */
function createBundle(args: string[]): number {
  const parsed = parseCommandArgs(
    args,
    {
      ...Object.fromEntries(
        [
          "alignment",
          "generator",
          "region-generator",
          "grounding",
          "encoder",
          "detector",
          "regions",
          "beta",
          "rerank-weight",
          "rerank-beam",
          "region-rerank-weight",
          "region-rerank-beam",
          "region-consensus",
          "region-consensus-weight",
          "region-consensus-neighbours",
          "description",
        ].map((k) => [k, { type: "string" as const }]),
      ),
      "generator-ensemble": { type: "string", multiple: true },
    },
    USAGE,
  );
  const ensemble = (parsed.values["generator-ensemble"] ?? []) as string[];
  const values = parsed.values as Record<string, string | undefined>;
  const { positionals } = parsed;
  if (positionals.length !== 1 || !values.alignment || !values.generator) {
    throw new InputError(
      `models bundle create: expected DIR, --alignment and --generator\n\n${USAGE}`,
    );
  }
  const regions = values.regions === undefined ? 20 : boundedInt(values.regions, "--regions", 20);
  const encoder = values.encoder ?? DEFAULT_ENCODER;
  const detector = values.detector ?? DEFAULT_BUNDLE_DETECTOR;
  const vision: VisionSetup = {
    encoder:
      encoder === "pixel-stats"
        ? { kind: "pixel-stats" }
        : encoder in ENCODER_PRESETS
          ? encoder
          : loadModelConfig(encoder, "encoder"),
    detector:
      detector === "none"
        ? null
        : detector === WORLD_SHAPES || detector in DETECTOR_PRESETS
          ? detector
          : loadModelConfig(detector, "detector"),
    regions,
  };
  const beta = numberFlag(values.beta, "--beta", { min: 0 });
  const captionRerank = rerankFlags(values, "rerank", DEFAULT_RERANK_BEAM);
  const regionRerank = rerankFlags(values, "region-rerank", DEFAULT_REGION_RERANK.beam);
  const regionConsensus = consensusFlags(values);
  const manifest = writeBundle(positionals[0], {
    alignment: values.alignment,
    generator: values.generator,
    ...(ensemble.length > 0 ? { generatorEnsemble: ensemble } : {}),
    ...(values["region-generator"] ? { regionGenerator: values["region-generator"] } : {}),
    ...(values.grounding ? { grounding: values.grounding } : {}),
    vision,
    ...(beta === undefined ? {} : { beta }),
    ...(captionRerank ? { captionRerank } : {}),
    ...(regionRerank ? { regionRerank } : {}),
    ...(regionConsensus ? { regionConsensus } : {}),
    ...(values.description ? { description: values.description } : {}),
  });
  console.log(
    `wrote bundle ${positionals[0]}: ${[...(manifest.searchFusion?.map((m) => m.checkpoint) ?? [manifest.alignment]), manifest.generator, ...(manifest.generatorEnsemble ?? []), manifest.regionGenerator, manifest.grounding].filter(Boolean).join(", ")} (float16), beta ${manifest.beta}${manifest.captionRerank ? `, captions reranked at weight ${manifest.captionRerank.weight}, beam ${manifest.captionRerank.beam}` : ""}${manifest.regionRerank ? `, region phrases reranked at weight ${manifest.regionRerank.weight}, beam ${manifest.regionRerank.beam}` : ""}${manifest.regionConsensus ? `, snippet consensus of ${manifest.regionConsensus.neighbours} train regions at weight ${manifest.regionConsensus.weight}` : ""}`,
  );
  return 0;
}

/** --region-consensus FILE with its weight and neighbours; undefined without the file. */
function consensusFlags(
  values: Record<string, string | undefined>,
): RegionConsensusSetting | undefined {
  const weight = numberFlag(values["region-consensus-weight"], "--region-consensus-weight", {
    min: 0,
  });
  const neighbours = numberFlag(
    values["region-consensus-neighbours"],
    "--region-consensus-neighbours",
    { integer: true, min: 1, max: MAX_CONSENSUS_NEIGHBOURS },
  );
  const file = values["region-consensus"];
  if (file === undefined) {
    if (weight !== undefined || neighbours !== undefined) {
      throw new InputError(
        "--region-consensus-weight and --region-consensus-neighbours apply only with --region-consensus FILE",
      );
    }
    return undefined;
  }
  return {
    file,
    weight: weight ?? DEFAULT_REGION_CONSENSUS.weight,
    neighbours: neighbours ?? DEFAULT_REGION_CONSENSUS.neighbours,
  };
}

/** --PREFIX-weight and --PREFIX-beam as a rerank setting; undefined without the weight. */
function rerankFlags(
  values: Record<string, string | undefined>,
  prefix: string,
  defaultBeam: number,
): CaptionRerankSetting | undefined {
  const weight = numberFlag(values[`${prefix}-weight`], `--${prefix}-weight`, { min: 0 });
  const beam = numberFlag(values[`${prefix}-beam`], `--${prefix}-beam`, {
    integer: true,
    min: 2,
    max: MAX_BEAM,
  });
  if (beam !== undefined && weight === undefined) {
    throw new InputError(
      `--${prefix}-beam: applies only with --${prefix}-weight (the weight reranks)`,
    );
  }
  return weight === undefined ? undefined : { weight, beam: beam ?? defaultBeam };
}
