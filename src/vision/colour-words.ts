/**
 * The colour words of the synthetic world: the palette its objects are painted in (world/scene.ts)
 * and the names the weight-free shape detector gives its blobs (shape-detector.ts). It lives
 * here, below both, so the pipeline never imports the world.
 */
export const COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink"] as const;
export type ColourName = (typeof COLOURS)[number];

/**
 * Hue (degrees), saturation and lightness of each colour word. Objects are strongly saturated and
 * backgrounds nearly grey (world/background.ts), so an object stands out from whatever lies behind it.
 */
export const COLOUR_HSL: Readonly<Record<ColourName, readonly [number, number, number]>> = {
  red: [0, 0.85, 0.5],
  orange: [28, 0.95, 0.52],
  yellow: [54, 0.95, 0.55],
  green: [125, 0.75, 0.4],
  blue: [220, 0.85, 0.5],
  purple: [280, 0.7, 0.45],
  pink: [325, 0.85, 0.72],
};
