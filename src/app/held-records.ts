import { NO_RECORD, type RecordFile } from "./record-file.js";

/**
 * A record file held in memory, what a query scores for every image (or for any shortlisted
 * one): read once, then only the records added since; records removed through `clear` become
 * holes here as in the file.
 */
export class HeldRecords {
  private memory = new Uint8Array(0);
  private loaded = 0;
  /** `of`'s records, memory kept from query to query. */
  private gathered = new Uint8Array(0);

  constructor(readonly file: RecordFile) {}

  /** Every record, the file's new ones read first. */
  all(): { bytes: Uint8Array; records: number } {
    const size = this.file.recordBytes;
    const slots = this.file.slots;
    if (slots > this.loaded) {
      if (this.memory.length < slots * size) {
        const grown = new Uint8Array(Math.max(slots, 2 * this.loaded) * size);
        grown.set(this.memory.subarray(0, this.loaded * size));
        this.memory = grown;
      }
      this.file.readInto(this.loaded, this.memory.subarray(this.loaded * size, slots * size));
      this.loaded = slots;
    }
    return { bytes: this.memory.subarray(0, slots * size), records: slots };
  }

  /**
   * The records of `ids` (ids the file holds), one after another, in memory that the next call
   * overwrites: a query's 50,000 cluster summaries at 10^6 images are 31 MB, which fresh memory
   * would take a page fault per 4 KB to give (measured: 134 ms a query, against 21 ms kept).
   */
  of(ids: readonly number[]): Uint8Array {
    const { bytes } = this.all();
    const size = this.file.recordBytes;
    if (this.gathered.length < ids.length * size) this.gathered = new Uint8Array(ids.length * size);
    const out = this.gathered.subarray(0, ids.length * size);
    for (let k = 0; k < ids.length; k++) {
      const at = ids[k] * size;
      out.set(bytes.subarray(at, at + size), k * size);
    }
    return out;
  }

  /** Marks the records of `ids` held so far as holes (the file's are cleared by its owner). */
  clear(ids: readonly number[]): void {
    const stride = this.file.recordBytes / 4;
    const held = new Int32Array(this.memory.buffer, 0, this.loaded * stride);
    for (const id of ids) if (id < this.loaded) held[id * stride] = NO_RECORD;
  }
}
