import assert from "node:assert/strict";
import test from "node:test";
import * as ort from "onnxruntime-node";
import { addGraphOutputs, ONNX_UINT8, readOnnxGraph } from "../../src/vision/onnx-proto.js";
import { findQuantization } from "../../src/vision/quantization.js";
import { quantizedModel } from "./tiny-models.js";

test("readOnnxGraph reads nodes, initializers, inputs and outputs", () => {
  const g = readOnnxGraph(quantizedModel());
  assert.deepEqual(
    g.nodes.map((n) => n.opType),
    ["QuantizeLinear", "DequantizeLinear", "Relu"],
  );
  assert.deepEqual(g.inputs, ["input"]);
  assert.deepEqual(g.outputs, ["out"]);
  assert.deepEqual(g.initializers.get("s")?.values(), [0.05000000074505806]);
  assert.equal(g.initializers.get("zpq")?.dataType, ONNX_UINT8);
  assert.deepEqual(g.initializers.get("zpq")?.values(), [128]);
});

test("findQuantization reads scale and zero point of a quantized tensor", () => {
  const q = findQuantization(readOnnxGraph(quantizedModel(8, 0.25, 7)), "q");
  assert.deepEqual(q, { scale: 0.25, zeroPoint: 7, elemType: ONNX_UINT8 });
  assert.equal(findQuantization(readOnnxGraph(quantizedModel()), "out"), undefined);
});

test("addGraphOutputs makes an intermediate tensor fetchable by onnxruntime", async () => {
  const model = addGraphOutputs(quantizedModel(2), ["q"], new Map([["q", ONNX_UINT8]]));
  assert.deepEqual(readOnnxGraph(model).outputs, ["out", "q"]);
  assert.equal(addGraphOutputs(model, ["q"]), model, "already an output: unchanged");
  const session = await ort.InferenceSession.create(model);
  const x = new Float32Array(12).map((_, i) => i * 0.1 - 0.5);
  const r = await session.run({ input: new ort.Tensor("float32", x, [1, 3, 2, 2]) }, ["q"]);
  assert.equal(r.q.type, "uint8");
  assert.deepEqual(
    Array.from(r.q.data as Uint8Array),
    Array.from(x, (v) => Math.min(255, Math.max(0, Math.round(v / 0.05) + 128))),
  );
  await session.release();
});
