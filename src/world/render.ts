import sharp from "sharp";
import type { Box } from "../vision/image.js";
import { renderBackground } from "./background.js";
import type { Scene, ShapeName, WorldObject } from "./scene.js";

/**
 * Draws a scene: the background as raw pixels, the objects as an SVG laid over it (librsvg through
 * sharp, antialiased), encoded as JPEG like the photographs of the real datasets.
 */
export async function renderScene(scene: Scene, quality = 90): Promise<Buffer> {
  const { width, height } = scene;
  const pixels = renderBackground(scene.background, width, height);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(sceneSvg(scene)), top: 0, left: 0 }])
    .jpeg({ quality })
    .toBuffer();
}

/** The objects of a scene as an SVG document of the scene's size, transparent elsewhere. */
export function sceneSvg(scene: Scene): string {
  const shapes = scene.objects.map(objectSvg).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}">${shapes}</svg>`;
}

function objectSvg(o: WorldObject): string {
  const fill = `rgb(${o.rgb.join(",")})`;
  const { x1, y1, x2, y2 } = o.box;
  if (o.shape === "circle") {
    return `<ellipse cx="${(x1 + x2) / 2}" cy="${(y1 + y2) / 2}" rx="${(x2 - x1) / 2}" ry="${(y2 - y1) / 2}" fill="${fill}"/>`;
  }
  const points = UNIT_POLYGONS[o.shape].map(([u, v]) => toBox(u, v, o.box)).join(" ");
  return `<polygon points="${points}" fill="${fill}"/>`;
}

function toBox(u: number, v: number, box: Box): string {
  const x = box.x1 + ((u + 1) / 2) * (box.x2 - box.x1);
  const y = box.y1 + ((v + 1) / 2) * (box.y2 - box.y1);
  return `${round2(x)},${round2(y)}`;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

type Polygon = readonly (readonly [number, number])[];

/** Stretches a polygon to span exactly [-1, 1] on both axes, so every shape fills its box. */
function fitUnit(points: Polygon): Polygon {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [xl, xh, yl, yh] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return points.map(([x, y]) => [((x - xl) / (xh - xl)) * 2 - 1, ((y - yl) / (yh - yl)) * 2 - 1]);
}

function star(points: number, inner: number): Polygon {
  const out: [number, number][] = [];
  for (let i = 0; i < 2 * points; i++) {
    const r = i % 2 === 0 ? 1 : inner;
    const a = -Math.PI / 2 + (i * Math.PI) / points;
    out.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return out;
}

const ARM = 0.34;

/** Every shape but the circle, as a polygon in [-1, 1]^2 with y pointing down. */
const UNIT_POLYGONS: Readonly<Record<Exclude<ShapeName, "circle">, Polygon>> = {
  square: [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ],
  triangle: [
    [0, -1],
    [1, 1],
    [-1, 1],
  ],
  diamond: [
    [0, -1],
    [1, 0],
    [0, 1],
    [-1, 0],
  ],
  star: fitUnit(star(5, 0.42)),
  cross: [
    [-ARM, -1],
    [ARM, -1],
    [ARM, -ARM],
    [1, -ARM],
    [1, ARM],
    [ARM, ARM],
    [ARM, 1],
    [-ARM, 1],
    [-ARM, ARM],
    [-1, ARM],
    [-1, -ARM],
    [-ARM, -ARM],
  ],
};
