import { escapeHtml } from "../report/escape-html.js";
import type { Region } from "./image.js";

/** Colour of each detection label, stable across images (a hash of the label). */
function labelColour(label: string): string {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h}, 85%, 50%)`;
}

/**
 * An SVG of an image (embedded as a JPEG data URI, drawn at `scale` of its pixel size) with its
 * regions: detections as solid boxes named with label and score, fallback boxes dashed grey, and
 * a caption counting each kind. Boxes are in the image's pixels.
 */
export function regionsSvg(
  title: string,
  jpeg: Uint8Array,
  width: number,
  height: number,
  regions: readonly Region[],
  scale = 1,
): string {
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  const captionHeight = 22;
  // Wide enough for the caption under a narrow (portrait) image.
  const canvasWidth = Math.max(w, 400);
  const count = (s: Region["source"]) => regions.filter((r) => r.source === s).length;
  const caption = `${regions.length} regions: whole image, ${count("detection")} detections, ${count("fallback")} fallback (dashed)`;
  const boxes = [...regions]
    .reverse()
    .filter((r) => r.source !== "whole")
    .map((r) => {
      const x = (r.box.x1 * scale).toFixed(1);
      const y = (r.box.y1 * scale).toFixed(1);
      const bw = ((r.box.x2 - r.box.x1) * scale).toFixed(1);
      const bh = ((r.box.y2 - r.box.y1) * scale).toFixed(1);
      if (r.source === "fallback") {
        return `<rect x="${x}" y="${y}" width="${bw}" height="${bh}" fill="none" stroke="#ddd" stroke-opacity="0.6" stroke-width="1" stroke-dasharray="4 3"/>`;
      }
      const colour = labelColour(r.label ?? "");
      const text = escapeHtml(`${r.label ?? "?"} ${(r.score ?? 0).toFixed(2)}`);
      // Above the box, or just inside it when the box touches the top edge.
      const ty = Number(y) >= 14 ? Number(y) - 3 : Number(y) + 13;
      return [
        `<rect x="${x}" y="${y}" width="${bw}" height="${bh}" fill="none" stroke="${colour}" stroke-width="2.5"/>`,
        `<text x="${x}" y="${ty}" dx="3" font-family="sans-serif" font-size="12" fill="#fff" stroke="#000" stroke-width="3" paint-order="stroke">${text}</text>`,
      ].join("\n  ");
    });
  const href = `data:image/jpeg;base64,${Buffer.from(jpeg).toString("base64")}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${canvasWidth}" height="${h + captionHeight}" viewBox="0 0 ${canvasWidth} ${h + captionHeight}">
  <title>${escapeHtml(`${title}: ${caption}`)}</title>
  <image href="${href}" x="0" y="0" width="${w}" height="${h}"/>
  ${boxes.join("\n  ")}
  <text x="4" y="${h + 16}" font-family="sans-serif" font-size="12" fill="#222">${escapeHtml(caption)}</text>
</svg>
`;
}
