import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { HeldRecords } from "../../src/app/held-records.js";
import { NO_RECORD, RecordFile } from "../../src/app/record-file.js";
import { decodeRows, encodeRows } from "../../src/app/region-codes.js";
import { RegionSketch } from "../../src/app/region-sketch.js";
import { Rng } from "../../src/core/index.js";
import { CorruptFileError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-search-records-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `n` records of 12 bytes: id, then id * 10 and id * 100 as int32. */
function records(ids: readonly number[]): Uint8Array {
  const out = new Uint8Array(ids.length * 12);
  const view = new DataView(out.buffer);
  ids.forEach((id, k) => {
    view.setInt32(k * 12, id, true);
    view.setInt32(k * 12 + 4, id * 10, true);
    view.setInt32(k * 12 + 8, id * 100, true);
  });
  return out;
}

test("held records read the file once, then only what was added; cleared ones become holes", () => {
  const path = join(dir, "held.bin");
  const file = RecordFile.open(path, 12, true);
  file.write(0, records([0, 1]));
  const held = new HeldRecords(file);
  const ids = (bytes: Uint8Array) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.length / 12 }, (_, k) => view.getInt32(k * 12, true));
  };
  assert.deepEqual(ids(held.all().bytes), [0, 1]);
  // Changed in the file behind the held copy: the held record stays as read.
  file.write(1, records([7]));
  file.write(2, records([2, 3, 4]));
  const all = held.all();
  assert.equal(all.records, 5);
  assert.deepEqual(ids(all.bytes), [0, 1, 2, 3, 4]);
  held.clear([3, 40]);
  assert.deepEqual(ids(held.of([4, 3, 0])), [4, NO_RECORD, 0]);
  const one = held.of([2]);
  assert.equal(one.length, 12);
  assert.equal(new DataView(one.buffer, one.byteOffset).getInt32(8, true), 200);
  // Its memory is reused, and grows for a longer list than the calls before.
  assert.deepEqual(ids(held.of([1, 2, 4, 0, 2, 1])), [1, 2, 4, 0, 2, 1]);
  file.close();
});

test("a record file reads records by id, marks removed ones and ids past its end as holes, and scans in chunks", () => {
  const path = join(dir, "records.bin");
  const file = RecordFile.open(path, 12, true);
  file.write(0, records([0, 1, 2]));
  file.write(3, records([3, 4]));
  file.clear([1, 99]);
  assert.equal(file.slots, 5);
  file.close();

  const again = RecordFile.open(path, 12, false);
  const got = new DataView(again.read([4, 1, 0, 7]).buffer);
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => got.getInt32(k * 12, true)),
    [4, NO_RECORD, 0, NO_RECORD],
  );
  assert.equal(got.getInt32(8, true), 400);
  const scanned: number[] = [];
  for (const { records: n, bytes } of again.scan(2)) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < n; k++) scanned.push(view.getInt32(k * 12, true));
  }
  assert.deepEqual(scanned, [0, NO_RECORD, 2, 3, 4]);
  // Scratch reads share one buffer (the next one overwrites it); a plain read is the caller's.
  const ids = (bytes: Uint8Array) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.length / 12 }, (_, k) => view.getInt32(k * 12, true));
  };
  const own = again.read([3]);
  const first = again.read([2, 3], true);
  assert.deepEqual(ids(first), [2, 3]);
  const second = again.read([4], true);
  assert.deepEqual(ids(second), [4]);
  assert.equal(first.buffer, second.buffer);
  assert.deepEqual(ids(first), [4, 3], "the first scratch read is overwritten");
  assert.deepEqual(ids(again.read([0, 2, 3, 4], true)), [0, 2, 3, 4], "grown to fit");
  assert.deepEqual(ids(own), [3]);
  again.close();

  appendFileSync(path, new Uint8Array(5));
  assert.throws(
    () => RecordFile.open(path, 12, false),
    (e: unknown) => e instanceof CorruptFileError && /not whole records of 12/.test(e.message),
  );
  assert.throws(
    () => RecordFile.open(join(dir, "absent.bin"), 12, false),
    (e: unknown) => e instanceof CorruptFileError && /missing/.test(e.message),
  );
});

test("region sketches at full length score as the exact fused S_kl does, dot products and cosines", () => {
  const rng = new Rng(5);
  const members = [
    { regions: 4, embed: 6 },
    { regions: 1, embed: 5 },
  ];
  const weights = [0.7, 0.4];
  const images = 30;
  const vs = members.map((m) =>
    Float32Array.from({ length: images * m.regions * m.embed }, () => rng.normal()),
  );
  // Full length: the sketch differs from the vectors by int8 rounding only.
  const sketch = RegionSketch.fit(vs, images, members, 8);
  const back = RegionSketch.fromBytes(sketch.toBytes(), "test");
  const ids = Int32Array.from({ length: images }, (_, k) => 100 + k);
  const bytes = back.encode(vs, ids);
  const queries = members.map((m) => ({
    rows: 3,
    vectors: Float32Array.from({ length: 3 * m.embed }, () => rng.normal()),
  }));
  for (const unit of [false, true]) {
    const got = back.score(bytes, images, back.prepare(queries), weights, unit);
    assert.deepEqual(Array.from(got.ids), Array.from(ids));
    for (let k = 0; k < images; k++) {
      let exact = 0;
      members.forEach((m, i) => {
        for (let t = 0; t < 3; t++) {
          let best = Number.NEGATIVE_INFINITY;
          for (let r = 0; r < m.regions; r++) {
            const v = vs[i].subarray(
              (k * m.regions + r) * m.embed,
              (k * m.regions + r + 1) * m.embed,
            );
            const q = queries[i].vectors.subarray(t * m.embed, (t + 1) * m.embed);
            let dot = 0;
            let length = 0;
            for (let j = 0; j < m.embed; j++) {
              dot += v[j] * q[j];
              length += v[j] * v[j];
            }
            best = Math.max(best, unit ? dot / Math.sqrt(length) : dot);
          }
          exact += weights[i] * best;
        }
      });
      assert.ok(Math.abs(got.scores[k] - exact) < 0.05 * (1 + Math.abs(exact)), `image ${k}`);
    }
  }
  // A removed image's record (its id NO_RECORD) is left out.
  new DataView(bytes.buffer).setInt32(2 * back.recordBytes, NO_RECORD, true);
  const without = back.score(bytes, images, back.prepare(queries), weights, false);
  assert.equal(without.ids.length, images - 1);
  assert.ok(!Array.from(without.ids).includes(102));
});

test("decoded rows with their scales apart equal the rows decoded whole, for both codecs", () => {
  const rng = new Rng(9);
  const rows = 3;
  const dim = 7;
  const values = Float32Array.from({ length: rows * dim }, () => rng.normal());
  for (const codec of ["int8", "fp16"] as const) {
    const bytes = encodeRows(values, rows, dim, codec);
    const whole = new Float32Array(rows * dim);
    decodeRows(bytes, rows, dim, codec, whole);
    const tolerance = codec === "int8" ? 0.02 : 0.002;
    whole.forEach((x, i) => {
      assert.ok(Math.abs(x - values[i]) < tolerance * (1 + Math.abs(values[i])), `${codec} ${i}`);
    });
    const apart = new Float32Array(rows * dim + 2);
    const scales = new Float32Array(rows + 1);
    decodeRows(bytes, rows, dim, codec, apart, 2, scales, 1);
    assert.equal(scales[0], 0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < dim; j++) {
        const x = apart[2 + r * dim + j] * scales[1 + r];
        assert.ok(Math.abs(x - whole[r * dim + j]) < 1e-6, `${codec} row ${r}`);
      }
    }
  }
});
