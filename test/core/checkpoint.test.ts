import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { backward } from "../../src/core/autodiff.js";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../../src/core/checkpoint.js";
import { float16Values } from "../../src/core/float16.js";
import { normal, xavier, zeros } from "../../src/core/init.js";
import { affine, dropout, gather, relu, softmaxCrossEntropy } from "../../src/core/ops/index.js";
import { Adam } from "../../src/core/optim/adam.js";
import type { Optimizer } from "../../src/core/optim/optimizer.js";
import { Rmsprop } from "../../src/core/optim/rmsprop.js";
import { Sgd } from "../../src/core/optim/sgd.js";
import { Params } from "../../src/core/params.js";
import { Rng } from "../../src/core/rng.js";
import { Tensor } from "../../src/core/tensor.js";
import { CorruptFileError, InputError } from "../../src/errors.js";
import {
  flipBit,
  joinCheckpoint,
  splitCheckpoint,
  withTensorValue,
} from "../support/checkpoint-bytes.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-ckpt-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny word classifier: embed, affine + relu, dropout, affine, softmax cross-entropy. */
function tinyModel(seed: number, hidden = 8) {
  const rng = new Rng(seed);
  const params = new Params();
  const E = params.add("E", normal([10, 6], rng, 0.5));
  const W1 = params.add("W1", xavier([6, hidden], rng));
  const b1 = params.add("b1", zeros([hidden]));
  const W2 = params.add("W2", xavier([hidden, 10], rng));
  const b2 = params.add("b2", zeros([10]));
  const loss = (words: Int32Array, targets: Int32Array, drop: Rng) => {
    const h = dropout(relu(affine(gather(E, words), W1, b1)), 0.3, drop, true);
    return softmaxCrossEntropy(affine(h, W2, b2), targets);
  };
  return { params, loss };
}

/** One training step on a batch drawn from `rng` (which also drives dropout). */
function trainStep(m: ReturnType<typeof tinyModel>, opt: Optimizer, rng: Rng) {
  const words = Int32Array.from({ length: 5 }, () => rng.int(10));
  const targets = words.map((w) => (w * 3) % 10);
  m.params.zeroGrad();
  backward(m.loss(words, targets, rng));
  opt.step(m.params);
}

test("a checkpoint round-trips weights (bit-exact in f32), step, config, vocabulary, meta", () => {
  const m = tinyModel(1);
  const path = join(dir, "roundtrip.ckpt");
  const config = { hidden: 8, lr: 0.01, nested: { a: [1, 2] } };
  const vocabulary = { words: ["a", "dog", "runs"], unk: "UNK" };
  saveCheckpoint(path, { params: m.params, step: 42, config, vocabulary, meta: { valR1: 0.5 } });
  const ck = loadCheckpoint(path);
  assert.equal(ck.step, 42);
  assert.deepEqual(ck.config, config);
  assert.deepEqual(ck.vocabulary, vocabulary);
  assert.deepEqual(ck.meta, { valR1: 0.5 });
  const fresh = tinyModel(2);
  ck.restoreParams(fresh.params);
  for (const p of m.params.all()) assert.deepEqual(fresh.params.get(p.name).data, p.tensor.data);
  // Written atomically: no temporary file is left beside it.
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes("roundtrip")),
    ["roundtrip.ckpt"],
  );
});

test("resumed training (weights + optimiser + rng) continues exactly like uninterrupted training", () => {
  const straight = tinyModel(3);
  const optA = new Rmsprop({ lr: 0.01, weightDecay: 1e-3 });
  const rngA = new Rng(9);
  for (let s = 0; s < 6; s++) trainStep(straight, optA, rngA);

  const first = tinyModel(3);
  const optB = new Rmsprop({ lr: 0.01, weightDecay: 1e-3 });
  const rngB = new Rng(9);
  for (let s = 0; s < 3; s++) trainStep(first, optB, rngB);
  const path = join(dir, "resume.ckpt");
  saveCheckpoint(path, { params: first.params, optimizer: optB, rng: rngB, step: 3 });

  const resumed = tinyModel(4);
  const optC = new Rmsprop({ lr: 0.01, weightDecay: 1e-3 });
  const rngC = new Rng(1234);
  const ck = loadCheckpoint(path);
  ck.restore({ params: resumed.params, optimizer: optC, rng: rngC });
  assert.equal(ck.step, 3);
  for (let s = 3; s < 6; s++) trainStep(resumed, optC, rngC);
  for (const p of straight.params.all()) {
    assert.deepEqual(resumed.params.get(p.name).data, p.tensor.data, p.name);
  }
});

test("float16 storage halves the weights and keeps them within half precision", () => {
  const m = tinyModel(5, 64);
  const f32 = join(dir, "w32.ckpt");
  const f16 = join(dir, "w16.ckpt");
  saveCheckpoint(f32, { params: m.params });
  saveCheckpoint(f16, { params: m.params }, { dtype: "f16" });
  const size32 = readFileSync(f32).length;
  const size16 = readFileSync(f16).length;
  assert.ok(size16 < 0.6 * size32, `${size16} vs ${size32}`);
  const fresh = tinyModel(6, 64);
  loadCheckpoint(f16).restoreParams(fresh.params);
  for (const p of m.params.all()) {
    const got = fresh.params.get(p.name).data;
    p.tensor.data.forEach((v, i) => {
      assert.ok(Math.abs(got[i] - v) <= Math.abs(v) * 2 ** -11 + 2 ** -24, `${p.name}[${i}]`);
    });
  }
});

test("a float16 checkpoint reads back every finite half value exactly", () => {
  const finite = [...float16Values()].filter(Number.isFinite);
  const params = new Params();
  params.add("all", new Tensor(Float32Array.from(finite), [finite.length]));
  const back = decodeCheckpoint(encodeCheckpoint({ params }, { dtype: "f16" }), "halves");
  const got = back.tensors.get("all")!.data;
  assert.equal(got.length, 0x10000 - 2 * 0x400); // all but the infinities and NaNs
  for (let i = 0; i < finite.length; i++) assert.ok(Object.is(got[i], finite[i]), `value ${i}`);
});

test("checkpoint bytes at any offset in their buffer decode to the same weights", () => {
  // A view at an odd (or not 4-aligned) offset cannot be read as a Uint16Array (Float32Array).
  const m = tinyModel(6);
  for (const dtype of ["f16", "f32"] as const) {
    const bytes = encodeCheckpoint({ params: m.params }, { dtype });
    const want = decodeCheckpoint(bytes, "aligned");
    for (const shift of [1, 2, 3]) {
      const shifted = new Uint8Array(bytes.length + shift);
      shifted.set(bytes, shift);
      const got = decodeCheckpoint(shifted.subarray(shift), `shifted by ${shift}`);
      for (const [name, t] of want.tensors) {
        assert.deepEqual(got.tensors.get(name)!.data, t.data, `${dtype} ${name} +${shift}`);
      }
    }
    if (dtype === "f32") {
      for (const p of m.params.all())
        assert.deepEqual(want.tensors.get(p.name)!.data, p.tensor.data);
    }
  }
});

test("loading into a model of other shapes names the parameter and both shapes", () => {
  const path = join(dir, "shapes.ckpt");
  saveCheckpoint(path, { params: tinyModel(1, 8).params });
  const other = tinyModel(1, 16);
  const ck = loadCheckpoint(path);
  assert.throws(
    () => ck.restoreParams(other.params),
    (err: Error) =>
      err instanceof InputError &&
      err.message.includes(path) &&
      /parameter W1 has shape \[6,8\] in the checkpoint but \[6,16\] in the model/.test(
        err.message,
      ),
  );
  // Nothing was half-loaded.
  assert.deepEqual(other.params.get("E").data, tinyModel(1, 16).params.get("E").data);
});

test("missing and extra parameters are named", () => {
  const path = join(dir, "names.ckpt");
  const m = tinyModel(1);
  saveCheckpoint(path, { params: m.params });
  const more = tinyModel(1);
  more.params.add("Wextra", zeros([2, 2]));
  assert.throws(
    () => loadCheckpoint(path).restoreParams(more.params),
    /checkpoint lacks parameters Wextra/,
  );
  const fewer = new Params();
  fewer.add("E", zeros([10, 6]));
  assert.throws(
    () => loadCheckpoint(path).restoreParams(fewer),
    /checkpoint has parameters the model lacks: W1, b1, W2, b2/,
  );
});

test("a checkpoint without optimiser or RNG state says so when asked for them", () => {
  const path = join(dir, "weights-only.ckpt");
  const m = tinyModel(1);
  saveCheckpoint(path, { params: m.params });
  assert.throws(
    () => loadCheckpoint(path).restore({ params: m.params, optimizer: new Sgd({ lr: 1 }) }),
    /weights-only.ckpt: checkpoint holds no optimiser state/,
  );
  assert.throws(
    () => loadCheckpoint(path).restore({ params: m.params, rng: new Rng(1) }),
    /checkpoint holds no RNG state/,
  );
});

test("the optimiser kind must match", () => {
  const path = join(dir, "adam.ckpt");
  const m = tinyModel(1);
  const adam = new Adam({ lr: 0.01 });
  trainStep(m, adam, new Rng(1));
  saveCheckpoint(path, { params: m.params, optimizer: adam });
  assert.throws(
    () => loadCheckpoint(path).restore({ params: m.params, optimizer: new Sgd({ lr: 1 }) }),
    /adam.ckpt: holds a adam optimiser, this run uses sgd/,
  );
});

test("truncated, corrupt, foreign and missing files fail with the file named", () => {
  const path = join(dir, "good.ckpt");
  saveCheckpoint(path, { params: tinyModel(1).params, step: 1 });
  const bytes = readFileSync(path);

  const truncated = join(dir, "truncated.ckpt");
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 10));
  assert.throws(
    () => loadCheckpoint(truncated),
    /truncated.ckpt: truncated: expected \d+ bytes, file has \d+/,
  );

  const corrupt = join(dir, "corrupt.ckpt");
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 3] ^= 0xff;
  writeFileSync(corrupt, flipped);
  assert.throws(() => loadCheckpoint(corrupt), /corrupt.ckpt: corrupt payload \(CRC-32 mismatch\)/);

  const header = join(dir, "header.ckpt");
  const badHeader = Buffer.from(bytes);
  badHeader[21] = 0x7b; // breaks the JSON just after its opening brace
  writeFileSync(header, badHeader);
  assert.throws(
    () => loadCheckpoint(header),
    (err: Error) =>
      err instanceof CorruptFileError && /header.ckpt: corrupt header/.test(err.message),
  );

  const foreign = join(dir, "foreign.ckpt");
  writeFileSync(foreign, "not a checkpoint at all");
  assert.throws(() => loadCheckpoint(foreign), /foreign.ckpt: not an imagesent checkpoint/);

  assert.throws(
    () => loadCheckpoint(join(dir, "absent.ckpt")),
    (err: Error) => {
      return err instanceof InputError && /absent.ckpt: cannot read checkpoint/.test(err.message);
    },
  );
});

test("the checksum covers the header: a flipped bit in the vocabulary is a corrupt file", () => {
  const vocabulary = { words: ["a", "dog", "runs"] };
  const bytes = encodeCheckpoint({ params: tinyModel(1).params, vocabulary });
  const at = Buffer.from(bytes).indexOf("dog");
  assert.ok(at > 0);
  // "dog" -> "eog": the JSON still parses, and the payload is untouched.
  const flipped = flipBit(bytes, at, 0);
  assert.deepEqual(splitCheckpoint(flipped).header.vocabulary, { words: ["a", "eog", "runs"] });
  assert.throws(
    () => decodeCheckpoint(flipped, "vocab.ckpt"),
    (err: Error) =>
      err instanceof CorruptFileError &&
      err.message === "vocab.ckpt: corrupt header (CRC-32 mismatch)",
  );
  assert.deepEqual(decodeCheckpoint(bytes, "vocab.ckpt").vocabulary, vocabulary);
});

test("every truncation and every flipped byte of a checkpoint is a CorruptFileError", () => {
  const bytes = encodeCheckpoint({ params: tinyModel(1).params, meta: { epoch: 1 } });
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(
      () => decodeCheckpoint(bytes.subarray(0, n), "cut.ckpt"),
      (err: Error) => err instanceof CorruptFileError && err.message.startsWith("cut.ckpt: "),
      `truncated to ${n} bytes`,
    );
  }
  for (let at = 0; at < bytes.length; at++) {
    // The magic and version say whose file it is; a wrong one is not ours to call corrupt.
    const expected = at < 8 ? /not an imagesent checkpoint/ : at < 12 ? /format version/ : /./;
    assert.throws(
      () => decodeCheckpoint(flipBit(bytes, at, at % 8), "flip.ckpt"),
      (err: Error) =>
        err instanceof InputError &&
        (at < 12 || err instanceof CorruptFileError) &&
        err.message.startsWith("flip.ckpt: ") &&
        expected.test(err.message),
      `bit ${at % 8} of byte ${at}`,
    );
  }
});

test("format version 1 files (no header checksum) still load", () => {
  const m = tinyModel(1);
  const vocabulary = { words: ["a", "dog"] };
  const v2 = encodeCheckpoint({ params: m.params, step: 7, vocabulary }, { dtype: "f16" });
  const v1 = joinCheckpoint(splitCheckpoint(v2), 1);
  assert.equal(new DataView(v1.buffer).getUint32(8, true), 1);
  const ck = decodeCheckpoint(v1, "old.ckpt");
  assert.equal(ck.step, 7);
  assert.deepEqual(ck.vocabulary, vocabulary);
  assert.deepEqual(
    ck.tensors.get("W1")!.data,
    decodeCheckpoint(v2, "new.ckpt").tensors.get("W1")!.data,
  );
  // Its payload is still checked.
  assert.throws(
    () => decodeCheckpoint(flipBit(v1, v1.length - 1), "old.ckpt"),
    (err: Error) =>
      err instanceof CorruptFileError && /old.ckpt: corrupt payload/.test(err.message),
  );
});

test("weights that are not finite are refused on save and on load, naming the parameter", () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    const m = tinyModel(1);
    m.params.get("W2").data[3] = bad;
    const path = join(dir, "diverged.ckpt");
    assert.throws(
      () => saveCheckpoint(path, { params: m.params }),
      (err: Error) =>
        err instanceof InputError &&
        err.message.startsWith(`${path}: not saved: parameter W2 holds ${bad}`),
    );
    assert.ok(!readdirSync(dir).includes("diverged.ckpt"), "nothing written");
    // A file that holds one anyway (an older imagesent wrote it) does not load, in either dtype.
    for (const dtype of ["f32", "f16"] as const) {
      const good = encodeCheckpoint({ params: tinyModel(1).params }, { dtype });
      assert.throws(
        () => decodeCheckpoint(withTensorValue(good, "b1", 0, bad), "nan.ckpt"),
        new RegExp(`nan.ckpt: parameter b1 holds ${bad} \\(1 of 8 values are not finite\\)`),
      );
    }
  }
  const huge = tinyModel(1);
  huge.params.get("E").data[0] = 1e5;
  assert.throws(
    () => encodeCheckpoint({ params: huge.params }, { dtype: "f16" }),
    /parameter E holds 100000, beyond float16's range/,
  );
  const opt = new Sgd({ lr: 0.1, momentum: 0.9 });
  const m = tinyModel(2);
  trainStep(m, opt, new Rng(1));
  const state = opt.exportState();
  const [key] = Object.keys(state.buffers);
  state.buffers[key][0] = Number.NaN;
  opt.importState(state, m.params, "test");
  assert.throws(
    () => encodeCheckpoint({ params: m.params, optimizer: opt }),
    new RegExp(`optimiser buffer ${key.replace("/", "\\/")} holds NaN`),
  );
});
