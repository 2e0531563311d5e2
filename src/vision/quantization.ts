import type { OnnxGraph } from "./onnx-proto.js";

/** A quantized tensor's real value is (q - zeroPoint) * scale (ONNX DequantizeLinear, per tensor). */
export interface Quantization {
  readonly scale: number;
  readonly zeroPoint: number;
  /** ONNX element type of the quantized tensor (that of its zero point). */
  readonly elemType: number;
}

/**
 * Where each quantized operator keeps its output's scale and zero point among its inputs (the
 * ONNX and com.microsoft QLinear* signatures).
 */
const OUTPUT_PARAMS: Readonly<Record<string, readonly [number, number]>> = {
  QuantizeLinear: [1, 2],
  QLinearConv: [6, 7],
  QLinearMatMul: [6, 7],
  QLinearAdd: [6, 7],
  QLinearMul: [6, 7],
  QLinearGlobalAveragePool: [3, 4],
  QLinearAveragePool: [3, 4],
  QLinearLeakyRelu: [3, 4],
  QLinearSigmoid: [3, 4],
  QLinearSoftmax: [3, 4],
  QLinearConcat: [0, 1],
};

/**
 * The scale and zero point of a quantized tensor, read from the graph's initializers: from a
 * DequantizeLinear that consumes it, else from the QLinear operator that produces it. Undefined
 * when the tensor is not quantized that way (or its parameters are not per-tensor constants).
 */
export function findQuantization(graph: OnnxGraph, tensor: string): Quantization | undefined {
  const consumer = graph.nodes.find(
    (n) => n.opType === "DequantizeLinear" && n.inputs[0] === tensor,
  );
  if (consumer) return fromInitializers(graph, consumer.inputs[1], consumer.inputs[2]);
  const producer = graph.nodes.find((n) => n.outputs.includes(tensor));
  const at = producer && OUTPUT_PARAMS[producer.opType];
  if (!producer || !at) return undefined;
  return fromInitializers(graph, producer.inputs[at[0]], producer.inputs[at[1]]);
}

function fromInitializers(
  graph: OnnxGraph,
  scaleName: string | undefined,
  zeroName: string | undefined,
): Quantization | undefined {
  const scale = scaleName ? graph.initializers.get(scaleName) : undefined;
  const zero = zeroName ? graph.initializers.get(zeroName) : undefined;
  if (!scale || !zero) return undefined;
  const s = scale.values();
  const z = zero.values();
  if (s.length !== 1 || z.length !== 1) return undefined;
  return { scale: s[0], zeroPoint: z[0], elemType: zero.dataType };
}

/** Real values of quantized `q`, written to `out` from `offset`. */
export function dequantize(
  q: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
  out: Float32Array,
  offset = 0,
): void {
  for (let i = 0; i < q.length; i++) out[offset + i] = (q[i] - zeroPoint) * scale;
}
