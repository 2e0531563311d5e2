import { Rng } from "../core/rng.js";
import { hslToRgb } from "./colour.js";

/**
 * The backdrop of a synthetic image: nearly grey (saturation at most 0.12) so that colour words
 * always name an object, light or dark, in one of four patterns the sentences can name.
 */
export const BACKGROUND_KINDS = ["plain", "gradient", "striped", "noisy"] as const;
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

export const TONES = ["light", "dark"] as const;
export type Tone = (typeof TONES)[number];

export interface Background {
  readonly kind: BackgroundKind;
  readonly tone: Tone;
  /** The base colour, and the second colour of gradients and stripes. */
  readonly rgb: readonly [number, number, number];
  readonly rgb2: readonly [number, number, number];
  /** Direction of gradients and stripes, in degrees. */
  readonly angle: number;
  /** Stripe period in pixels. */
  readonly period: number;
  /** Seeds the per-pixel noise of "noisy" backgrounds, so a scene alone fixes its pixels. */
  readonly noiseSeed: number;
}

export function sampleBackground(rng: Rng): Background {
  const kind = rng.pick(BACKGROUND_KINDS);
  const tone = rng.pick(TONES);
  const hue = rng.uniform() * 360;
  const sat = rng.uniform() * 0.12;
  const l = tone === "light" ? 0.68 + rng.uniform() * 0.2 : 0.12 + rng.uniform() * 0.2;
  // Gradients and stripes stay within one tone, so "light"/"dark" still describe the whole image.
  const l2 = tone === "light" ? l - 0.08 - rng.uniform() * 0.1 : l + 0.06 + rng.uniform() * 0.1;
  return {
    kind,
    tone,
    rgb: hslToRgb(hue, sat, l),
    rgb2: hslToRgb(hue + (rng.uniform() - 0.5) * 60, sat, l2),
    angle: kind === "gradient" ? Math.round(rng.uniform() * 3600) / 10 : rng.pick([0, 45, 90, 135]),
    period: 8 + rng.int(14),
    noiseSeed: rng.nextUint32(),
  };
}

/** The background's pixels: width x height x 3, row-major RGB. */
export function renderBackground(bg: Background, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const rad = (bg.angle * Math.PI) / 180;
  const dx = Math.cos(rad);
  const dy = Math.sin(rad);
  // Projections of the corners bound the gradient's coordinate, so it spans exactly rgb..rgb2.
  const corners = [0, width * dx, height * dy, width * dx + height * dy];
  const lo = Math.min(...corners);
  const span = Math.max(...corners) - lo || 1;
  const noise = bg.kind === "noisy" ? new Rng(bg.noiseSeed) : undefined;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = x * dx + y * dy;
      let mix = 0;
      if (bg.kind === "gradient") mix = (t - lo) / span;
      else if (bg.kind === "striped") mix = Math.floor(t / bg.period) % 2 === 0 ? 0 : 1;
      const jitter = noise ? noise.normal() * 14 : 0;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = bg.rgb[c] * (1 - mix) + bg.rgb2[c] * mix + jitter;
        out[o + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}
