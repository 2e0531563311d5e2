import {
  concat,
  encodeVarint,
  lenField,
  ONNX_FLOAT,
  ONNX_INT64,
  ONNX_UINT8,
} from "../../src/vision/onnx-proto.js";

/**
 * Enough of the protobuf wire format to write small ONNX models for tests (the reader is
 * src/vision/onnx-proto.ts). Field numbers are from onnx/onnx.proto.
 */

const WIRE_VARINT = 0;
const WIRE_I32 = 5;

export type ProtoField =
  | { readonly no: number; readonly varint: number }
  | { readonly no: number; readonly float: number }
  | { readonly no: number; readonly bytes: Uint8Array | string };

/** Encodes a protobuf message from its fields, in order. */
export function encodeMessage(fieldsToWrite: readonly ProtoField[]): Uint8Array {
  const enc = new TextEncoder();
  return concat(
    fieldsToWrite.map((f) => {
      if ("varint" in f) {
        return new Uint8Array([...encodeVarint(f.no * 8 + WIRE_VARINT), ...encodeVarint(f.varint)]);
      }
      if ("float" in f) {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setFloat32(0, f.float, true);
        return new Uint8Array([...encodeVarint(f.no * 8 + WIRE_I32), ...b]);
      }
      return lenField(f.no, typeof f.bytes === "string" ? enc.encode(f.bytes) : f.bytes);
    }),
  );
}

/** Varints packed into one length-delimited payload (a packed repeated field's bytes). */
export function packedVarints(values: readonly number[]): Uint8Array {
  return new Uint8Array(values.flatMap(encodeVarint));
}

/** A tensor type: element type and dims (a number is a fixed size, a string a named one). */
export function valueInfoProto(
  name: string,
  elemType: number,
  dims: readonly (number | string)[],
): Uint8Array {
  const shape = encodeMessage(
    dims.map((d) => ({
      no: 1,
      bytes: encodeMessage([typeof d === "number" ? { no: 1, varint: d } : { no: 2, bytes: d }]),
    })),
  );
  const tensorType = encodeMessage([
    { no: 1, varint: elemType },
    { no: 2, bytes: shape },
  ]);
  return encodeMessage([
    { no: 1, bytes: name },
    { no: 2, bytes: encodeMessage([{ no: 1, bytes: tensorType }]) },
  ]);
}

export type AttributeValue = number | string | readonly number[];

/** A node; integer attributes are INT, other numbers FLOAT, strings STRING, arrays INTS. */
export function nodeProto(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttributeValue>> = {},
  floatAttributes: readonly string[] = [],
): Uint8Array {
  const attrs = Object.entries(attributes).map(([name, v]) => {
    const f: ProtoField[] = [{ no: 1, bytes: name }];
    if (typeof v === "string") f.push({ no: 4, bytes: v }, { no: 20, varint: 3 });
    else if (typeof v === "number" && (floatAttributes.includes(name) || !Number.isInteger(v))) {
      f.push({ no: 2, float: v }, { no: 20, varint: 1 });
    } else if (typeof v === "number") f.push({ no: 3, varint: v }, { no: 20, varint: 2 });
    else f.push(...v.map((x) => ({ no: 8, varint: x })), { no: 20, varint: 7 });
    return { no: 5, bytes: encodeMessage(f) };
  });
  return encodeMessage([
    ...inputs.map((i) => ({ no: 1, bytes: i })),
    ...outputs.map((o) => ({ no: 2, bytes: o })),
    { no: 4, bytes: opType },
    ...attrs,
  ]);
}

/** A tensor initializer: float32, uint8 or int64 values, stored as raw little-endian data. */
export function initializerProto(
  name: string,
  dims: readonly number[],
  values: Float32Array | Uint8Array | BigInt64Array,
): Uint8Array {
  const type =
    values instanceof Float32Array
      ? ONNX_FLOAT
      : values instanceof Uint8Array
        ? ONNX_UINT8
        : ONNX_INT64;
  return encodeMessage([
    ...dims.map((d) => ({ no: 1, varint: d })),
    { no: 2, varint: type },
    { no: 8, bytes: name },
    { no: 9, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) },
  ]);
}

/** A whole model: one graph of `nodes`, default-domain operators of `opset`. */
export function modelProto(
  graph: {
    nodes: readonly Uint8Array[];
    inputs: readonly Uint8Array[];
    outputs: readonly Uint8Array[];
    initializers?: readonly Uint8Array[];
    valueInfo?: readonly Uint8Array[];
  },
  opset: number,
): Uint8Array {
  const g = encodeMessage([
    ...graph.nodes.map((n) => ({ no: 1, bytes: n })),
    { no: 2, bytes: "imagesent" },
    ...(graph.initializers ?? []).map((i) => ({ no: 5, bytes: i })),
    ...graph.inputs.map((i) => ({ no: 11, bytes: i })),
    ...graph.outputs.map((o) => ({ no: 12, bytes: o })),
    ...(graph.valueInfo ?? []).map((v) => ({ no: 13, bytes: v })),
  ]);
  return encodeMessage([
    { no: 1, varint: 8 },
    { no: 2, bytes: "imagesent" },
    { no: 7, bytes: g },
    { no: 8, bytes: encodeMessage([{ no: 2, varint: opset }]) },
  ]);
}
