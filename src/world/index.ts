/** imagesent/world: the synthetic world of shapes the demo trains and tests on (images, sentences, ground truth). */

export {
  BACKGROUND_KINDS,
  type Background,
  type BackgroundKind,
  TONES,
  type Tone,
} from "./background.js";
export { type SplitGrid, worldBetaGrid } from "./beta-grid.js";
export {
  DEFAULT_WORLD_OPTIONS,
  type GeneratedWorld,
  generateWorld,
  sampleWorld,
  type WorldOptions,
} from "./generate.js";
export { proposeRegions, REGIONS_PER_IMAGE } from "./proposals.js";
export { renderScene } from "./render.js";
export {
  COLOURS,
  type ColourName,
  type Scene,
  SHAPES,
  type ShapeName,
  SIZES,
  type SizeName,
  sampleScene,
  type WorldObject,
} from "./scene.js";
export {
  describeScene,
  type GroundedSentence,
  type ReferringSpan,
  referringSpans,
  relation,
} from "./sentences.js";
export {
  formatWorld,
  parseWorld,
  readWorldFile,
  type World,
  type WorldImage,
  type WorldSentence,
  worldToDataset,
  writeWorldFile,
} from "./world-file.js";
