import assert from "node:assert/strict";
import test from "node:test";
import * as ort from "onnxruntime-node";
import {
  addGraphOutputs,
  ONNX_INT8,
  ONNX_INT32,
  ONNX_INT64,
  ONNX_UINT8,
  readOnnxGraph,
} from "../../src/vision/onnx-proto.js";
import { findQuantization } from "../../src/vision/quantization.js";
import { encodeMessage, modelProto, packedVarints } from "../support/onnx-writer.js";
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

/** A model whose graph holds only the given TensorProto initializers. */
function withInitializers(...tensors: Uint8Array[]): Uint8Array {
  return modelProto({ nodes: [], inputs: [], outputs: [], initializers: tensors }, 13);
}

test("negative int32_data and int64_data values read back exactly, packed or not", () => {
  // An int8 zero point of -5 is a ten-byte varint (the two's complement of its int64).
  const zp = encodeMessage([
    { no: 2, varint: ONNX_INT8 },
    { no: 5, varint: -5 },
    { no: 8, bytes: "zp" },
  ]);
  const packed32 = encodeMessage([
    { no: 1, varint: 4 },
    { no: 2, varint: ONNX_INT32 },
    { no: 5, bytes: packedVarints([-1, -(2 ** 31), 2 ** 31 - 1, 300]) },
    { no: 8, bytes: "i32" },
  ]);
  const int64 = encodeMessage([
    { no: 1, varint: 3 },
    { no: 2, varint: ONNX_INT64 },
    { no: 7, bytes: packedVarints([-7, -(2 ** 40), 2 ** 52]) },
    { no: 8, bytes: "i64" },
  ]);
  const raw64 = encodeMessage([
    { no: 1, varint: 2 },
    { no: 2, varint: ONNX_INT64 },
    { no: 8, bytes: "raw64" },
    { no: 9, bytes: new Uint8Array(BigInt64Array.of(-3n, 1n).buffer) },
  ]);
  const g = readOnnxGraph(withInitializers(zp, packed32, int64, raw64));
  assert.deepEqual(g.initializers.get("zp")?.values(), [-5]);
  assert.deepEqual(g.initializers.get("i32")?.values(), [-1, -(2 ** 31), 2 ** 31 - 1, 300]);
  assert.deepEqual(g.initializers.get("i32")?.dims, [4]);
  assert.deepEqual(g.initializers.get("i64")?.values(), [-7, -(2 ** 40), 2 ** 52]);
  assert.deepEqual(g.initializers.get("raw64")?.values(), [-3, 1]);
});

test("a varint longer than ten bytes is refused", () => {
  const tooLong = new Uint8Array([0x10, ...new Array(10).fill(0xff), 0x01]);
  assert.throws(() => readOnnxGraph(withInitializers(tooLong)), /varint/);
});
