import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { kernels } from "../core/kernels/index.js";
import { CorruptFileError } from "../errors.js";

/** The id a record holds where no image is: never written, or removed. */
export const NO_RECORD = -1;

/**
 * A file of fixed-size records addressed by image id (record `id` at byte id x recordBytes), as
 * the image index keeps its region vectors (docs/search.md): a query reads the records of its
 * candidates by position, or scans the file in large sequential reads, without decoding a table.
 * Each record starts with its image's id (int32, little-endian; NO_RECORD where none is), so the
 * file has holes where images were removed or replaced, until a rebuild writes it afresh.
 */
export class RecordFile {
  private scratchBytes = new Uint8Array(0);

  private constructor(
    readonly path: string,
    readonly recordBytes: number,
    private fd: number,
  ) {}

  /** Opens the file (created when absent and `writable`); records must be at least 4 bytes. */
  static open(path: string, recordBytes: number, writable: boolean): RecordFile {
    if (!Number.isInteger(recordBytes) || recordBytes < 4) {
      throw new RangeError(`RecordFile: records of ${recordBytes} bytes`);
    }
    if (!writable && !existsSync(path)) {
      throw new CorruptFileError(
        `${path}: missing; write the index again from its stored codes with imagesent index --rebuild`,
      );
    }
    const fd = openSync(path, writable ? (existsSync(path) ? "r+" : "w+") : "r");
    const file = new RecordFile(path, recordBytes, fd);
    const size = fstatSync(fd).size;
    if (size % recordBytes !== 0) {
      closeSync(fd);
      throw new CorruptFileError(
        `${path}: ${size} bytes, not whole records of ${recordBytes}; build the index again with imagesent index --rebuild`,
      );
    }
    return file;
  }

  /** Record slots in the file (the highest id written, plus one). */
  get slots(): number {
    return fstatSync(this.fd).size / this.recordBytes;
  }

  /** Writes `bytes` (whole records, their ids set) from slot `first` on. */
  write(first: number, bytes: Uint8Array): void {
    if (bytes.length % this.recordBytes !== 0) {
      throw new RangeError(`RecordFile.write: ${bytes.length} bytes, not whole records`);
    }
    writeSync(this.fd, bytes, 0, bytes.length, first * this.recordBytes);
  }

  /** Marks the records of `ids` as holes. */
  clear(ids: readonly number[]): void {
    const none = new Uint8Array(4);
    new DataView(none.buffer).setInt32(0, NO_RECORD, true);
    const slots = this.slots;
    for (const id of ids) if (id < slots) writeSync(this.fd, none, 0, 4, id * this.recordBytes);
  }

  /**
   * The records of `ids`, in that order, in one buffer; a record of an id past the end or at a
   * hole holds NO_RECORD as its id (the caller skips it). With `scratch` the buffer is this
   * file's scratch memory, valid until its next scratch read or scan: a query reads its
   * candidates' megabytes of records without fresh memory, which costs a page fault per 4 KB.
   * The reads are Kernels.readRecords: natively, on every thread, without a call from JavaScript
   * a record (20,000 sketches read in half the time).
   */
  read(ids: readonly number[] | Int32Array, scratch = false): Uint8Array {
    const bytes = ids.length * this.recordBytes;
    const out = scratch ? this.scratch(bytes) : new Uint8Array(bytes);
    const wanted = ids instanceof Int32Array ? ids : Int32Array.from(ids);
    kernels().readRecords(
      {
        fd: this.fd,
        ids: wanted,
        recordBytes: this.recordBytes,
        slots: this.slots,
        noRecord: NO_RECORD,
      },
      out,
    );
    return out;
  }

  /** Records [first, first + out.length / recordBytes) into `out`, in one sequential read. */
  readInto(first: number, out: Uint8Array): void {
    let got = 0;
    while (got < out.length) {
      const r = readSync(this.fd, out, got, out.length - got, first * this.recordBytes + got);
      if (r === 0) throw new CorruptFileError(`${this.path}: shorter than it was a moment ago`);
      got += r;
    }
  }

  /**
   * Every slot, `chunk` records at a time, in the scratch memory (see read): copy what must
   * outlive a step.
   */
  *scan(chunk: number): Generator<{ readonly records: number; readonly bytes: Uint8Array }> {
    const slots = this.slots;
    const buffer = this.scratch(Math.max(1, Math.min(chunk, slots)) * this.recordBytes);
    for (let at = 0; at < slots; at += chunk) {
      const n = Math.min(chunk, slots - at);
      const bytes = buffer.subarray(0, n * this.recordBytes);
      this.readInto(at, bytes);
      yield { records: n, bytes };
    }
  }

  /** The first `bytes` bytes of the scratch memory, grown to hold them. */
  private scratch(bytes: number): Uint8Array {
    if (this.scratchBytes.length < bytes) this.scratchBytes = new Uint8Array(bytes);
    return this.scratchBytes.subarray(0, bytes);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
