import { existsSync, readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { JsonFields, parseJson } from "../json-fields.js";
import { RANKED_SELECTION, type RegionSelection, SCORE_SELECTION } from "./regions.js";

/**
 * Configuration of the two ONNX models of the vision pipeline. Everything that differs between
 * CNNs and detectors (tensor names, input size, normalisation, channel order, resizing) is data
 * here, with defaults in one place, validated when read (JSON files, presets), trusted inside.
 * The presets describe the two models reachable in this workplace; a ResNet, VGG or CLIP image
 * tower is another JSON file of the same shape.
 */

/** How a box of an image becomes a network input. */
export interface PreprocessConfig {
  /** Network input size in pixels. */
  readonly width: number;
  readonly height: number;
  /**
   * "stretch" warps the box to width x height (R-CNN); "crop" takes the largest centred part of
   * the box with the input's aspect ratio; "letterbox" fits the box inside, padding the rest.
   */
  readonly resize: "stretch" | "crop" | "letterbox";
  /** Where a letterboxed image sits: YOLOX pads right and bottom ("top-left"). */
  readonly letterboxAlign: "top-left" | "center";
  /**
   * Pixels of context around each box in the network input, as R-CNN's warp with p = 16: the box
   * is enlarged so that after resizing it fills the input minus this margin on each side.
   */
  readonly contextPadding: number;
  /** 0-255 value of padding outside the image; "mean" is the normalisation mean (a 0 input). */
  readonly padValue: number | readonly [number, number, number] | "mean";
  readonly channelOrder: "rgb" | "bgr";
  /** input = (pixel * scale - mean) / std, per channel; mean and std in RGB order. */
  readonly scale: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly layout: "nchw" | "nhwc";
}

/** Reading a quantized tensor: "auto" finds its scale and zero point in the graph. */
export type Dequantize = "auto" | "none" | { readonly scale: number; readonly zeroPoint: number };

/** Where to fetch a model file from (used only by `imagesent models fetch`). */
export interface ModelSource {
  readonly url: string;
  readonly sha256: string;
}

export interface EncoderConfig {
  readonly kind: "encoder";
  /** A registry name (see model-registry.ts) or a path to an .onnx file. */
  readonly model: string;
  readonly source?: ModelSource;
  /** The image input; default: the graph's only input. */
  readonly input?: string;
  /** The tensor whose values are the features, e.g. a pooled layer; added as a graph output. */
  readonly feature: string;
  readonly dequantize: Dequantize;
  /** "mean" averages any spatial dimensions (a conv map N x C x H x W becomes N x C). */
  readonly pool: "none" | "mean";
  /** Most regions per session run; 0 means all regions of an image in one run. */
  readonly batchSize: number;
  readonly preprocess: PreprocessConfig;
}

export interface DetectorConfig {
  readonly kind: "detector";
  readonly format: "yolox";
  readonly model: string;
  readonly source?: ModelSource;
  readonly input?: string;
  readonly output?: string;
  /** Class names, index = class id. */
  readonly labels: readonly string[];
  readonly strides: readonly number[];
  readonly decoded: boolean;
  readonly scoresActivated: boolean;
  readonly scoreThreshold: number;
  readonly nmsThreshold: number;
  /**
   * "class": a box is suppressed only by a better box of its class (a person on a horse keeps
   * both); "agnostic": by a better box of any class, so low-score boxes do not repeat one object
   * under several labels.
   */
  readonly nms: "class" | "agnostic";
  readonly maxDetections: number;
  /** How the regions of an image are chosen from the detections (regions.ts). */
  readonly selection: RegionSelection;
  readonly preprocess: PreprocessConfig;
}

export type ModelConfig = EncoderConfig | DetectorConfig;

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export const DEFAULT_PREPROCESS: PreprocessConfig = {
  width: 224,
  height: 224,
  resize: "stretch",
  letterboxAlign: "center",
  contextPadding: 0,
  padValue: "mean",
  channelOrder: "rgb",
  scale: 1 / 255,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  layout: "nchw",
};

const COCO80 =
  "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite baseball_bat baseball_glove skateboard surfboard tennis_racket bottle wine_glass cup fork knife spoon bowl banana apple sandwich orange broccoli carrot hot_dog pizza donut cake chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear hair_drier toothbrush"
    .split(" ")
    .map((s) => s.replace(/_/g, " "));

export const ENCODER_PRESETS: Readonly<Record<string, EncoderConfig>> = {
  /** ImageNet MobileNetV2 (ONNX Model Zoo, int8): the 1280-d globally pooled layer. */
  "mobilenetv2-12-int8": {
    kind: "encoder",
    model: "mobilenetv2-12-int8",
    source: {
      url: "https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx",
      sha256: "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
    },
    feature: "464_quantized",
    dequantize: "auto",
    pool: "mean",
    batchSize: 0,
    preprocess: { ...DEFAULT_PREPROCESS, contextPadding: 16 },
  },
};

const YOLOX_NANO: DetectorConfig = {
  kind: "detector",
  format: "yolox",
  model: "yolox_nano",
  source: {
    url: "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
    sha256: "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd",
  },
  labels: COCO80,
  strides: [8, 16, 32],
  decoded: false,
  scoresActivated: true,
  scoreThreshold: 0.25,
  nmsThreshold: 0.45,
  nms: "class",
  maxDetections: 100,
  selection: SCORE_SELECTION,
  preprocess: {
    ...DEFAULT_PREPROCESS,
    width: 416,
    height: 416,
    resize: "letterbox",
    letterboxAlign: "top-left",
    padValue: 114,
    channelOrder: "bgr",
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
};

export const DETECTOR_PRESETS: Readonly<Record<string, DetectorConfig>> = {
  /**
   * YOLOX-Nano, COCO 80 classes, raw head output (decode_in_inference off): boxes scoring 0.25,
   * class-aware NMS, the top 19 by score then the grid fallback boxes (the paper's selection).
   */
  "yolox-nano": YOLOX_NANO,
  /**
   * The same network as grounding proposals: every box scoring 0.01, class-agnostic NMS at 0.6,
   * and the ranked selection with person parts, the people group and the wide fallback boxes
   * (proposal upper bound on Flickr30k Entities val 71.5% -> 80.8%; docs/phrase-alignment.md).
   */
  "yolox-nano-proposals": {
    ...YOLOX_NANO,
    scoreThreshold: 0.01,
    nmsThreshold: 0.6,
    nms: "agnostic",
    selection: RANKED_SELECTION,
  },
};

/** The detector `imagesent features` and `show-regions` use when none is named. */
export const DEFAULT_DETECTOR = "yolox-nano-proposals";

// ---- validation: JSON in, typed config out, errors naming the file and field ----

function readPreprocess(r: JsonFields, base: PreprocessConfig): PreprocessConfig {
  const std = r.numbers("std", {}, { length: 3, fallback: base.std });
  if (std.some((s) => s === 0)) r.fail("std", "3 numbers, none 0");
  let padValue: PreprocessConfig["padValue"] = base.padValue;
  if (r.has("padValue")) {
    const raw = r.get("padValue");
    padValue =
      raw === "mean"
        ? "mean"
        : typeof raw === "number"
          ? r.number("padValue", { min: 0, max: 255 })
          : triple(r, "padValue", [0, 0, 0]);
  }
  return {
    width: r.number("width", { integer: true, min: 1 }, base.width),
    height: r.number("height", { integer: true, min: 1 }, base.height),
    resize: r.oneOf("resize", ["stretch", "crop", "letterbox"], base.resize),
    letterboxAlign: r.oneOf("letterboxAlign", ["top-left", "center"], base.letterboxAlign),
    contextPadding: r.number("contextPadding", { min: 0 }, base.contextPadding),
    padValue,
    channelOrder: r.oneOf("channelOrder", ["rgb", "bgr"], base.channelOrder),
    scale: r.number("scale", {}, base.scale),
    mean: triple(r, "mean", base.mean),
    std: [std[0]!, std[1]!, std[2]!],
    layout: r.oneOf("layout", ["nchw", "nhwc"], base.layout),
  };
}

/** Three finite numbers (a per-channel value); `fallback` when absent. */
function triple(
  r: JsonFields,
  key: string,
  fallback: readonly [number, number, number],
): [number, number, number] {
  const [a, b, c] = r.numbers(key, {}, { length: 3, fallback });
  return [a!, b!, c!];
}

function readSelection(r: JsonFields, base: RegionSelection): RegionSelection {
  return {
    ranking: r.oneOf("ranking", ["score", "value"], base.ranking),
    personParts: r.boolean("personParts", base.personParts),
    peopleGroup: r.boolean("peopleGroup", base.peopleGroup),
    fallbacks: r.oneOf("fallbacks", ["grid", "wide"], base.fallbacks),
    groundBox: r.boolean("groundBox", base.groundBox),
    maxOverlap: r.number("maxOverlap", { min: 0, max: 1 }, base.maxOverlap),
  };
}

function readSource(r: JsonFields, base?: ModelSource): ModelSource | undefined {
  if (!r.has("source")) return base;
  const s = r.child("source");
  const sha256 = s.string("sha256", { pattern: /^[0-9a-fA-F]{64}$/, want: "64 hex digits" });
  return { url: s.string("url"), sha256: sha256.toLowerCase() };
}

/**
 * Validates a parsed JSON model config. `kind` picks encoder or detector; an optional `preset`
 * field names a preset whose values are the defaults, so a file can override just a threshold.
 * Errors name `where` (the file) and the field's path, which starts at `path`.
 */
export function parseModelConfig(json: unknown, where: string, path = ""): ModelConfig {
  const r = JsonFields.of(json, where, { path });
  const presetName = r.optionalString("preset");
  const preset = presetName
    ? (ENCODER_PRESETS[presetName] ?? DETECTOR_PRESETS[presetName])
    : undefined;
  if (presetName && !preset) throw r.errorAt("preset", `unknown preset '${presetName}'`);
  const kind = r.oneOf("kind", ["encoder", "detector"], preset?.kind ?? "encoder");
  if (preset && preset.kind !== kind)
    throw r.errorAt("preset", `preset '${presetName}' is a ${preset.kind}`);
  if (kind === "encoder") {
    const base = preset?.kind === "encoder" ? preset : undefined;
    let dequantize: Dequantize = base?.dequantize ?? "auto";
    if (r.has("dequantize")) {
      const raw = r.get("dequantize");
      if (raw === "auto" || raw === "none") dequantize = raw;
      else {
        const d = r.child("dequantize", { want: '"auto", "none" or {"scale", "zeroPoint"}' });
        dequantize = { scale: d.number("scale"), zeroPoint: d.number("zeroPoint") };
      }
    }
    return withoutUndefined({
      kind,
      model: r.string("model", { fallback: base?.model }),
      source: readSource(r, base?.source),
      input: r.optionalString("input") ?? base?.input,
      feature: r.string("feature", { fallback: base?.feature }),
      dequantize,
      pool: r.oneOf("pool", ["none", "mean"], base?.pool ?? "mean"),
      batchSize: r.number("batchSize", { integer: true, min: 0 }, base?.batchSize ?? 0),
      preprocess: readPreprocess(
        r.child("preprocess", { optional: true }),
        base?.preprocess ?? DEFAULT_PREPROCESS,
      ),
    });
  }
  const base = (presetName && DETECTOR_PRESETS[presetName]) || DETECTOR_PRESETS["yolox-nano"];
  const labels = r.has("labelsFile")
    ? readLabels(r.string("labelsFile"))
    : r.strings("labels", { fallback: preset ? base.labels : undefined });
  return withoutUndefined({
    kind,
    format: r.oneOf("format", ["yolox"], "yolox"),
    model: r.string("model", { fallback: preset ? base.model : undefined }),
    source: readSource(r, preset ? base.source : undefined),
    input: r.optionalString("input"),
    output: r.optionalString("output"),
    labels,
    strides: r.numbers(
      "strides",
      { integer: true, min: 1 },
      { minLength: 1, fallback: base.strides },
    ),
    decoded: r.boolean("decoded", base.decoded),
    scoresActivated: r.boolean("scoresActivated", base.scoresActivated),
    scoreThreshold: r.number("scoreThreshold", { min: 0, max: 1 }, base.scoreThreshold),
    nmsThreshold: r.number("nmsThreshold", { min: 0, max: 1 }, base.nmsThreshold),
    nms: r.oneOf("nms", ["class", "agnostic"], base.nms),
    maxDetections: r.number("maxDetections", { integer: true, min: 1 }, base.maxDetections),
    selection: readSelection(r.child("selection", { optional: true }), base.selection),
    preprocess: readPreprocess(r.child("preprocess", { optional: true }), base.preprocess),
  });
}

/** Optional fields left out rather than present as undefined, so configs compare and print cleanly. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** One class name per line; blank lines skipped. */
export function readLabels(path: string): string[] {
  if (!existsSync(path)) throw new InputError(`${path}: labels file not found`);
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/**
 * A model config from a preset name or a JSON file path. With `kind`, a config of the other kind
 * is an error (an encoder passed as --detector).
 */
export function loadModelConfig<K extends ModelConfig["kind"]>(
  nameOrPath: string,
  kind: K,
): Extract<ModelConfig, { kind: K }> {
  const presets: Readonly<Record<string, ModelConfig>> =
    kind === "encoder" ? ENCODER_PRESETS : DETECTOR_PRESETS;
  let config: ModelConfig | undefined = presets[nameOrPath];
  if (!config) {
    if (!existsSync(nameOrPath)) {
      throw new InputError(
        `${nameOrPath}: not a ${kind} preset (${Object.keys(presets).join(", ")}) nor a config file`,
      );
    }
    let json = parseJson(readFileSync(nameOrPath, "utf8"), nameOrPath);
    if (typeof json === "object" && json !== null && !("kind" in json)) {
      json = { ...json, kind };
    }
    config = parseModelConfig(json, nameOrPath);
  }
  if (config.kind !== kind)
    throw new InputError(`${nameOrPath}: is a ${config.kind} config, not a ${kind}`);
  return config as Extract<ModelConfig, { kind: K }>;
}
