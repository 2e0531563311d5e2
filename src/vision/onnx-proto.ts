/**
 * Just enough of the protobuf wire format to read an ONNX model's graph (nodes, initializers,
 * inputs, outputs) and to add graph outputs (the tests' writer is test/support/onnx-writer.ts). onnxruntime can only fetch tensors that are graph
 * outputs, so reading an intermediate feature (e.g. a CNN's pooled layer) means editing the model
 * bytes before the session is created. Field numbers are from onnx/onnx.proto.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

interface Field {
  readonly no: number;
  readonly wire: number;
  /** The varint value (wire 0); for other wire types, 0. */
  readonly value: number;
  /** Payload bytes (wire 1, 2, 5). */
  readonly start: number;
  readonly end: number;
  /** Where the field's tag begins and the whole field ends, for splicing. */
  readonly tagStart: number;
}

/**
 * Reads one varint as the signed 64-bit integer it encodes (protobuf writes a negative int32 or
 * int64 as the ten-byte two's complement of its 64-bit value). Up to seven bytes (49 bits) are
 * exact in a double and take the fast path; longer ones are assembled as a BigInt, so -5 reads
 * back as -5 and not as 2^64 - 5 rounded to 2^64. Values beyond +-2^53 lose precision in the
 * returned number, which no field read here can hold.
 */
function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const b = buf[pos++];
    result += (b & 0x7f) * mul;
    if (b < 0x80) return [result, pos];
    mul *= 128;
  }
  let big = BigInt(result);
  for (let shift = 49n; ; shift += 7n) {
    if (shift > 63n) throw new Error("varint longer than ten bytes");
    if (pos >= buf.length) throw new Error("truncated varint");
    const b = buf[pos++];
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [Number(BigInt.asIntN(64, big)), pos];
  }
}

function fields(buf: Uint8Array, start = 0, end = buf.length): Field[] {
  const out: Field[] = [];
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const [tag, p1] = readVarint(buf, pos);
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    pos = p1;
    if (wire === WIRE_VARINT) {
      const [v, p2] = readVarint(buf, pos);
      out.push({ no, wire, value: v, start: pos, end: p2, tagStart });
      pos = p2;
    } else if (wire === WIRE_LEN) {
      const [len, p2] = readVarint(buf, pos);
      if (p2 + len > end) throw new Error("truncated length-delimited field");
      out.push({ no, wire, value: 0, start: p2, end: p2 + len, tagStart });
      pos = p2 + len;
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const len = wire === WIRE_I64 ? 8 : 4;
      out.push({ no, wire, value: 0, start: pos, end: pos + len, tagStart });
      pos += len;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  if (pos !== end) throw new Error("protobuf message overruns its bounds");
  return out;
}

const utf8 = new TextDecoder();
function str(buf: Uint8Array, f: Field): string {
  return utf8.decode(buf.subarray(f.start, f.end));
}

/** ONNX TensorProto.DataType values this module converts. */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT8 = 3;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;

export interface OnnxNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OnnxInitializer {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  /** The values as numbers (float, int8/uint8, int32 and int64 tensors). */
  readonly values: () => number[];
}

export interface OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxInitializer>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Element type of each tensor named in the graph's value_info, inputs and outputs. */
  readonly elemTypes: ReadonlyMap<string, number>;
}

function graphField(model: Uint8Array): Field {
  const graph = fields(model).find((f) => f.no === 7 && f.wire === WIRE_LEN);
  if (!graph) throw new Error("not an ONNX model (no graph)");
  return graph;
}

function parseNode(buf: Uint8Array, f: Field): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name = "";
  let opType = "";
  for (const g of fields(buf, f.start, f.end)) {
    if (g.wire !== WIRE_LEN) continue;
    if (g.no === 1) inputs.push(str(buf, g));
    else if (g.no === 2) outputs.push(str(buf, g));
    else if (g.no === 3) name = str(buf, g);
    else if (g.no === 4) opType = str(buf, g);
  }
  return { opType, name, inputs, outputs };
}

function packedOrRepeated(fs: Field[], no: number, read: (f: Field) => number[]) {
  return fs.filter((f) => f.no === no).flatMap(read);
}

function varints(buf: Uint8Array, f: Field): number[] {
  if (f.wire === WIRE_VARINT) return [f.value];
  const out: number[] = [];
  let pos = f.start;
  while (pos < f.end) {
    const [v, p] = readVarint(buf, pos);
    out.push(v);
    pos = p;
  }
  return out;
}

function parseInitializer(buf: Uint8Array, f: Field): OnnxInitializer {
  const fs = fields(buf, f.start, f.end);
  const nameField = fs.find((g) => g.no === 8);
  const name = nameField ? str(buf, nameField) : "";
  const dataType = fs.find((g) => g.no === 2)?.value ?? 0;
  const dims = packedOrRepeated(fs, 1, (g) => varints(buf, g));
  const values = (): number[] => {
    const raw = fs.find((g) => g.no === 9);
    if (raw) {
      const view = new DataView(buf.buffer, buf.byteOffset + raw.start, raw.end - raw.start);
      const n = raw.end - raw.start;
      const out: number[] = [];
      if (dataType === ONNX_FLOAT)
        for (let i = 0; i < n; i += 4) out.push(view.getFloat32(i, true));
      else if (dataType === ONNX_UINT8) for (let i = 0; i < n; i++) out.push(view.getUint8(i));
      else if (dataType === ONNX_INT8) for (let i = 0; i < n; i++) out.push(view.getInt8(i));
      else if (dataType === ONNX_INT32)
        for (let i = 0; i < n; i += 4) out.push(view.getInt32(i, true));
      else if (dataType === ONNX_INT64)
        for (let i = 0; i < n; i += 8) out.push(Number(view.getBigInt64(i, true)));
      else throw new Error(`initializer ${name}: unsupported data type ${dataType}`);
      return out;
    }
    if (dataType === ONNX_FLOAT) {
      return packedOrRepeated(fs, 4, (g) => {
        const view = new DataView(buf.buffer, buf.byteOffset + g.start, g.end - g.start);
        const out: number[] = [];
        for (let i = 0; i + 4 <= g.end - g.start; i += 4) out.push(view.getFloat32(i, true));
        return out;
      });
    }
    // int64_data (7) holds int64 tensors; int32_data (5) every integer type up to 32 bits, a
    // negative int8 zero point as a ten-byte varint that readVarint decodes exactly.
    return packedOrRepeated(fs, dataType === ONNX_INT64 ? 7 : 5, (g) => varints(buf, g));
  };
  return { name, dataType, dims, values };
}

function valueInfo(buf: Uint8Array, f: Field): { name: string; elemType?: number } {
  let name = "";
  let elemType: number | undefined;
  for (const g of fields(buf, f.start, f.end)) {
    if (g.no === 1 && g.wire === WIRE_LEN) name = str(buf, g);
    if (g.no === 2 && g.wire === WIRE_LEN) {
      const tensor = fields(buf, g.start, g.end).find((t) => t.no === 1 && t.wire === WIRE_LEN);
      const elem = tensor && fields(buf, tensor.start, tensor.end).find((t) => t.no === 1);
      if (elem) elemType = elem.value;
    }
  }
  return { name, elemType };
}

/** Reads the parts of an ONNX model's graph that feature extraction needs. */
export function readOnnxGraph(model: Uint8Array): OnnxGraph {
  const g = graphField(model);
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxInitializer>();
  const inputs: string[] = [];
  const outputs: string[] = [];
  const elemTypes = new Map<string, number>();
  for (const f of fields(model, g.start, g.end)) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.no === 1) nodes.push(parseNode(model, f));
    else if (f.no === 5) {
      const init = parseInitializer(model, f);
      initializers.set(init.name, init);
    } else if (f.no === 11 || f.no === 12 || f.no === 13) {
      const v = valueInfo(model, f);
      if (f.no === 11) inputs.push(v.name);
      if (f.no === 12) outputs.push(v.name);
      if (v.elemType !== undefined) elemTypes.set(v.name, v.elemType);
    }
  }
  return { nodes, initializers, inputs, outputs, elemTypes };
}

/** A varint; a negative value is written as the ten-byte two's complement of its int64. */
export function encodeVarint(v: number): number[] {
  const out: number[] = [];
  if (v < 0) {
    let big = BigInt.asUintN(64, BigInt(v));
    while (big >= 0x80n) {
      out.push(Number(big & 0x7fn) | 0x80);
      big >>= 7n;
    }
    out.push(Number(big));
    return out;
  }
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A length-delimited field: its tag, its length, its bytes. */
export function lenField(no: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(no * 8 + WIRE_LEN), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** The parts one after another. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Returns a copy of `model` whose graph also outputs the named tensors (those already outputs are
 * left alone). The element type is written when the graph declares it; onnxruntime infers shapes.
 */
export function addGraphOutputs(
  model: Uint8Array,
  names: readonly string[],
  elemTypes: ReadonlyMap<string, number> = readOnnxGraph(model).elemTypes,
): Uint8Array {
  const graph = readOnnxGraph(model);
  const missing = names.filter((n) => !graph.outputs.includes(n));
  if (missing.length === 0) return model;
  const enc = new TextEncoder();
  const extra = missing.map((name) => {
    const parts = [lenField(1, enc.encode(name))];
    const elem = elemTypes.get(name);
    if (elem !== undefined) {
      const tensorType = new Uint8Array([...encodeVarint(8), ...encodeVarint(elem)]);
      parts.push(lenField(2, lenField(1, tensorType)));
    }
    return lenField(12, concat(parts));
  });
  const g = graphField(model);
  const newGraph = concat([model.subarray(g.start, g.end), ...extra]);
  return concat([model.subarray(0, g.tagStart), lenField(7, newGraph), model.subarray(g.end)]);
}
