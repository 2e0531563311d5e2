import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ONNX_FLOAT } from "../../src/vision/onnx-proto.js";
import { initializerProto, modelProto, nodeProto, valueInfoProto } from "../support/onnx-writer.js";

/**
 * A tiny quantized "CNN" for encoder tests: input [N,3,S,S] -> QuantizeLinear (scale, zero point
 * from initializers) -> `q` (uint8) -> DequantizeLinear -> Relu -> `out` [N,3,S,S]. Reading `q`
 * means adding it as a graph output and dequantizing it, as with a real int8 model's pooled layer.
 */
export function quantizedModel(size = 8, scale = 0.05, zeroPoint = 128): Uint8Array {
  return modelProto(
    {
      nodes: [
        nodeProto("QuantizeLinear", ["input", "s", "zpq"], ["q"]),
        nodeProto("DequantizeLinear", ["q", "s", "zpq"], ["d"]),
        nodeProto("Relu", ["d"], ["out"]),
      ],
      inputs: [valueInfoProto("input", ONNX_FLOAT, ["n", 3, size, size])],
      outputs: [valueInfoProto("out", ONNX_FLOAT, ["n", 3, size, size])],
      initializers: [
        initializerProto("s", [], new Float32Array([scale])),
        initializerProto("zpq", [], new Uint8Array([zeroPoint])),
      ],
    },
    13,
  );
}

export function writeQuantizedModel(dir: string, size = 8): string {
  const path = join(dir, "tiny-quantized.onnx");
  writeFileSync(path, quantizedModel(size));
  return path;
}
