// N-API bindings of the native kernels. Every function is synchronous and writes into the caller's
// typed arrays (at their byte offsets). Arguments are validated in TypeScript (validate.ts); the
// length checks here only keep a direct caller from reading or writing out of bounds.
#include <node_api.h>

#include <cstdint>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "gemm.h"
#include "halves.h"
#include "huge_pages.h"
#include "int8_dot.h"
#include "int8_max_dot.h"
#include "max_product.h"
#include "records.h"
#include "microkernel.h"
#include "rmsprop.h"
#include "rows.h"
#include "sgd.h"
#include "thread_pool.h"

#ifdef IMAGESENT_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace imagesent {
namespace {

int defaultThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool& pool() {
  static ThreadPool p(defaultThreads());
  return p;
}

// One GEMM at a time: the pool and the packing buffers are process-wide (worker_threads share them).
std::mutex callMutex;

// The selected SGEMM backend: a micro-kernel of ours, or OpenBLAS when mk is null.
const MicroKernel* selected = nullptr;
bool useOpenblas = false;

struct Error {
  const char* code;
  std::string message;
};

#define NAPI_TRY(call)                                                  \
  do {                                                                  \
    if ((call) != napi_ok) throw Error{nullptr, "N-API call failed"};   \
  } while (0)

napi_value throwError(napi_env env, const Error& e) {
  const std::string msg = "imagesent native kernels: " + e.message;
  if (e.code && std::strcmp(e.code, "range") == 0) {
    napi_throw_range_error(env, nullptr, msg.c_str());
  } else {
    napi_throw_type_error(env, nullptr, msg.c_str());
  }
  return nullptr;
}

struct Args {
  napi_env env;
  size_t count;
  napi_value values[20];
  Args(napi_env e, napi_callback_info info, size_t expected) : env(e), count(20) {
    NAPI_TRY(napi_get_cb_info(env, info, &count, values, nullptr, nullptr));
    if (count < expected) {
      throw Error{nullptr, "expected " + std::to_string(expected) + " arguments, got " +
                               std::to_string(count)};
    }
  }
  bool boolean(size_t i) const {
    bool v;
    if (napi_get_value_bool(env, values[i], &v) != napi_ok) {
      throw Error{nullptr, "argument " + std::to_string(i) + " must be a boolean"};
    }
    return v;
  }
  double number(size_t i) const {
    double v;
    if (napi_get_value_double(env, values[i], &v) != napi_ok) {
      throw Error{nullptr, "argument " + std::to_string(i) + " must be a number"};
    }
    return v;
  }
  int64_t dim(size_t i) const {
    const double v = number(i);
    if (!(v >= 0 && v <= 2147483647.0) || v != static_cast<double>(static_cast<int64_t>(v))) {
      throw Error{"range", "argument " + std::to_string(i) + " must be an integer >= 0"};
    }
    return static_cast<int64_t>(v);
  }
  // The typed array's elements (already offset by its byteOffset) and its length.
  template <typename T>
  T* array(size_t i, napi_typedarray_type want, size_t* length) const {
    bool is;
    NAPI_TRY(napi_is_typedarray(env, values[i], &is));
    napi_typedarray_type type;
    void* data = nullptr;
    if (is) NAPI_TRY(napi_get_typedarray_info(env, values[i], &type, length, &data, nullptr, nullptr));
    if (!is || type != want) {
      const char* name = want == napi_float32_array  ? "Float32Array"
                         : want == napi_uint8_array  ? "Uint8Array"
                         : want == napi_uint16_array ? "Uint16Array"
                                                     : "Int32Array";
      throw Error{nullptr, "argument " + std::to_string(i) + " must be a " + name};
    }
    return static_cast<T*>(data);
  }
  // Like array, but null (or undefined) gives nullptr and a length of 0.
  template <typename T>
  T* optionalArray(size_t i, napi_typedarray_type want, size_t* length) const {
    napi_valuetype type;
    NAPI_TRY(napi_typeof(env, values[i], &type));
    if (type == napi_null || type == napi_undefined) {
      *length = 0;
      return nullptr;
    }
    return array<T>(i, want, length);
  }
};

void requireLength(const char* what, size_t have, int64_t rows, int64_t cols, int64_t ld) {
  if (rows == 0 || cols == 0) return;
  if (ld < cols) throw Error{"range", std::string(what) + ": row stride smaller than row width"};
  const int64_t need = (rows - 1) * ld + cols;
  if (static_cast<int64_t>(have) < need) {
    throw Error{"range", std::string(what) + " has " + std::to_string(have) + " elements, needs " +
                             std::to_string(need)};
  }
}

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

template <typename F>
napi_value guarded(napi_env env, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    return throwError(env, e);
  } catch (const std::bad_alloc&) {
    return throwError(env, Error{"range", "out of memory"});
  }
}

napi_value Sgemm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 13);
    const bool transA = args.boolean(0);
    const bool transB = args.boolean(1);
    const int64_t m = args.dim(2), n = args.dim(3), k = args.dim(4);
    const float alpha = static_cast<float>(args.number(5));
    size_t aLen, bLen, cLen;
    const float* a = args.array<float>(6, napi_float32_array, &aLen);
    const int64_t lda = args.dim(7);
    const float* b = args.array<float>(8, napi_float32_array, &bLen);
    const int64_t ldb = args.dim(9);
    const float beta = static_cast<float>(args.number(10));
    float* c = args.array<float>(11, napi_float32_array, &cLen);
    const int64_t ldc = args.dim(12);
    if (m > 0 && n > 0 && k > 0) {
      requireLength("a", aLen, transA ? k : m, transA ? m : k, lda);
      requireLength("b", bLen, transB ? n : k, transB ? k : n, ldb);
    }
    requireLength("c", cLen, m, n, ldc);
    std::lock_guard<std::mutex> lock(callMutex);
#ifdef IMAGESENT_OPENBLAS
    if (useOpenblas) {
      if (m > 0 && n > 0) {
        // BLAS wants strides >= 1 even for empty dimensions.
        const auto ld = [](int64_t v) { return static_cast<int>(v < 1 ? 1 : v); };
        if (beta == 0.0f) {
          // Zero C first so NaN in C cannot leak through any BLAS code path.
          for (int64_t i = 0; i < m; i++) std::memset(c + i * ldc, 0, n * sizeof(float));
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                    static_cast<int>(k), alpha, a, ld(lda), b, ld(ldb), beta, c, ld(ldc));
      }
      return undefinedValue(env);
    }
#endif
    sgemm(pool(), *selected, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return undefinedValue(env);
  });
}

napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 4);
    size_t xLen, outLen;
    const float* x = args.array<float>(0, napi_float32_array, &xLen);
    const int64_t rows = args.dim(1), cols = args.dim(2);
    float* out = args.array<float>(3, napi_float32_array, &outLen);
    requireLength("x", xLen, rows, cols, cols);
    requireLength("out", outLen, rows, cols, cols);
    softmaxRows(x, rows, cols, out);
    return undefinedValue(env);
  });
}

napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 6);
    size_t xLen, tLen, pLen, lLen;
    const float* logits = args.array<float>(0, napi_float32_array, &xLen);
    const int64_t rows = args.dim(1), cols = args.dim(2);
    const int32_t* targets = args.array<int32_t>(3, napi_int32_array, &tLen);
    float* probs = args.array<float>(4, napi_float32_array, &pLen);
    float* losses = args.array<float>(5, napi_float32_array, &lLen);
    requireLength("logits", xLen, rows, cols, cols);
    requireLength("probs", pLen, rows, cols, cols);
    requireLength("targets", tLen, 1, rows, rows);
    requireLength("losses", lLen, 1, rows, rows);
    for (int64_t r = 0; r < rows; r++) {
      if (targets[r] >= cols) throw Error{"range", "targets[" + std::to_string(r) + "] >= cols"};
    }
    softmaxCrossEntropy(logits, rows, cols, targets, probs, losses);
    return undefinedValue(env);
  });
}

napi_value MaxOverRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 5);
    size_t xLen, mLen, aLen;
    const float* x = args.array<float>(0, napi_float32_array, &xLen);
    const int64_t rows = args.dim(1), cols = args.dim(2);
    float* maxOut = args.array<float>(3, napi_float32_array, &mLen);
    int32_t* argOut = args.array<int32_t>(4, napi_int32_array, &aLen);
    if (rows == 0 && cols > 0) throw Error{"range", "maxOverRows needs rows >= 1"};
    requireLength("x", xLen, rows, cols, cols);
    requireLength("maxOut", mLen, 1, cols, cols);
    requireLength("argOut", aLen, 1, cols, cols);
    maxOverRows(x, rows, cols, maxOut, argOut);
    return undefinedValue(env);
  });
}

napi_value MaxProductBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 10);
    size_t argLen, dOutLen, aLen, bLen, dALen, dBLen;
    const int32_t* arg = args.array<int32_t>(0, napi_int32_array, &argLen);
    const float* dOut = args.array<float>(1, napi_float32_array, &dOutLen);
    const int64_t groups = args.dim(2), cols = args.dim(3), per = args.dim(4), dim = args.dim(5);
    const float* a = args.array<float>(6, napi_float32_array, &aLen);
    const float* b = args.array<float>(7, napi_float32_array, &bLen);
    float* dA = args.optionalArray<float>(8, napi_float32_array, &dALen);
    float* dB = args.optionalArray<float>(9, napi_float32_array, &dBLen);
    requireLength("arg", argLen, groups, cols, cols);
    requireLength("dOut", dOutLen, groups, cols, cols);
    requireLength("a", aLen, groups * per, dim, dim);
    requireLength("b", bLen, cols, dim, dim);
    if (dA != nullptr) requireLength("dA", dALen, groups * per, dim, dim);
    if (dB != nullptr) requireLength("dB", dBLen, cols, dim, dim);
    for (int64_t i = 0; i < groups * cols; i++) {
      if (arg[i] < 0 || arg[i] >= per) {
        throw Error{"range", "maxProductBackward: arg[" + std::to_string(i) + "] = " +
                                 std::to_string(arg[i]) + " is not a row of its group"};
      }
    }
    std::lock_guard<std::mutex> lock(callMutex);
    maxProductBackward(pool(), arg, dOut, groups, cols, per, dim, a, b, dA, dB);
    return undefinedValue(env);
  });
}

napi_value Int8MaxDotSum(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 17);
    size_t bytesLen, qLen, offsetsLen, outLen;
    const uint8_t* bytes = args.array<uint8_t>(0, napi_uint8_array, &bytesLen);
    Int8Layout l{args.dim(1), args.dim(2), args.dim(3), args.dim(4), args.dim(5),
                 args.dim(6), args.dim(7), args.dim(8), args.dim(9), args.dim(10)};
    const float* q = args.array<float>(11, napi_float32_array, &qLen);
    const int64_t rows = args.dim(12);
    const float* offsets = args.array<float>(13, napi_float32_array, &offsetsLen);
    const bool unit = args.boolean(14);
    const float weight = static_cast<float>(args.number(15));
    float* out = args.array<float>(16, napi_float32_array, &outLen);
    // The last byte each row reads must lie in its group.
    const int64_t last = l.per > 0 ? l.per - 1 : 0;
    if (l.groups > 0 && l.per > 0 &&
        (l.valuesAt + last * l.valueStride + l.width > l.groupBytes ||
         l.scalesAt + last * l.scaleStride + 4 > l.groupBytes ||
         (unit && l.lengthsAt + last * l.lengthStride + 4 > l.groupBytes))) {
      throw Error{"range", "int8MaxDotSum: a group's rows do not fit in its bytes"};
    }
    requireLength("bytes", bytesLen, l.groups, l.groupBytes, l.groupBytes);
    requireLength("q", qLen, rows, l.width, l.width);
    requireLength("offsets", offsetsLen, 1, rows, rows);
    requireLength("out", outLen, 1, l.groups, l.groups);
    std::lock_guard<std::mutex> lock(callMutex);
    int8MaxDotSum(pool(), bytes, l, q, rows, offsets, unit, weight, out);
    return undefinedValue(env);
  });
}

napi_value Int8Dot(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 8);
    size_t bytesLen, qLen, outLen;
    const uint8_t* bytes = args.array<uint8_t>(0, napi_uint8_array, &bytesLen);
    const int64_t rows = args.dim(1), recordBytes = args.dim(2), width = args.dim(3);
    const int64_t valuesAt = args.dim(4), scaleAt = args.dim(5);
    const float* q = args.array<float>(6, napi_float32_array, &qLen);
    float* out = args.array<float>(7, napi_float32_array, &outLen);
    if (rows > 0 && (valuesAt + width > recordBytes || scaleAt + 4 > recordBytes)) {
      throw Error{"range", "int8Dot: a row does not fit in its record"};
    }
    requireLength("bytes", bytesLen, rows, recordBytes, recordBytes);
    requireLength("q", qLen, 1, width, width);
    requireLength("out", outLen, 1, rows, rows);
    std::lock_guard<std::mutex> lock(callMutex);
    int8Dot(pool(), bytes, rows, recordBytes, width, valuesAt, scaleAt, q, out);
    return undefinedValue(env);
  });
}

napi_value HalvesToFloats(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 2);
    size_t bitsLen, outLen;
    const uint16_t* bits = args.array<uint16_t>(0, napi_uint16_array, &bitsLen);
    float* out = args.array<float>(1, napi_float32_array, &outLen);
    if (outLen != bitsLen) {
      throw Error{"range", "halvesToFloats: bits and out must have the same length"};
    }
    const int64_t special = halvesToFloats(bits, static_cast<int64_t>(bitsLen), out);
    napi_value result;
    NAPI_TRY(napi_create_double(env, static_cast<double>(special), &result));
    return result;
  });
}

napi_value ReadRecords(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 6);
    size_t idsLen, outLen;
    const int64_t fd = args.dim(0);
    const int32_t* ids = args.array<int32_t>(1, napi_int32_array, &idsLen);
    const int64_t recordBytes = args.dim(2), slots = args.dim(3);
    const int32_t noRecord = static_cast<int32_t>(args.number(4));
    uint8_t* out = args.array<uint8_t>(5, napi_uint8_array, &outLen);
    if (recordBytes < 4) throw Error{"range", "readRecords: records of fewer than 4 bytes"};
    requireLength("out", outLen, static_cast<int64_t>(idsLen), recordBytes, recordBytes);
    std::lock_guard<std::mutex> lock(callMutex);
    const int error = readRecords(pool(), static_cast<int>(fd), ids, static_cast<int64_t>(idsLen),
                                  recordBytes, slots, noRecord, out);
    if (error != 0) throw Error{nullptr, std::string("readRecords: ") + std::strerror(error)};
    return undefinedValue(env);
  });
}

void releaseHugePages(napi_env env, void* data, void* hint) {
  const size_t mapped = reinterpret_cast<size_t>(hint);
  freeHugePages(data, mapped);
  int64_t total;
  napi_adjust_external_memory(env, -static_cast<int64_t>(mapped), &total);
}

// A Float32Array of n zeros on huge pages, or undefined where none can be had.
napi_value AllocateFloats(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 1);
    const int64_t n = args.dim(0);
    size_t mapped = 0;
    void* data = n > 0 ? allocateHugePages(static_cast<size_t>(n) * sizeof(float), &mapped)
                       : nullptr;
    if (data == nullptr) return undefinedValue(env);
    napi_value buffer;
    if (napi_create_external_arraybuffer(env, data, static_cast<size_t>(n) * sizeof(float),
                                         releaseHugePages, reinterpret_cast<void*>(mapped),
                                         &buffer) != napi_ok) {
      freeHugePages(data, mapped);
      return undefinedValue(env);
    }
    int64_t total;
    NAPI_TRY(napi_adjust_external_memory(env, static_cast<int64_t>(mapped), &total));
    napi_value array;
    NAPI_TRY(napi_create_typedarray(env, napi_float32_array, static_cast<size_t>(n), buffer, 0,
                                    &array));
    return array;
  });
}

napi_value RmspropUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 9);
    size_t wLen, gLen, cLen;
    float* w = args.array<float>(0, napi_float32_array, &wLen);
    const float* g = args.array<float>(1, napi_float32_array, &gLen);
    float* cache = args.array<float>(2, napi_float32_array, &cLen);
    if (gLen != wLen || cLen != wLen) {
      throw Error{"range", "rmspropUpdate: w, g and cache must have the same length"};
    }
    const RmspropHyper h{args.number(3), args.number(4), args.number(5),
                         args.number(6), args.number(7), args.number(8)};
    rmspropUpdate(w, g, cache, static_cast<int64_t>(wLen), h);
    return undefinedValue(env);
  });
}

napi_value SgdUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 7);
    size_t wLen, gLen, vLen;
    float* w = args.array<float>(0, napi_float32_array, &wLen);
    const float* g = args.array<float>(1, napi_float32_array, &gLen);
    float* velocity = args.array<float>(2, napi_float32_array, &vLen);
    if (gLen != wLen || vLen != wLen) {
      throw Error{"range", "sgdUpdate: w, g and velocity must have the same length"};
    }
    const SgdHyper h{args.number(3), args.number(4), args.number(5), args.number(6)};
    sgdUpdate(w, g, velocity, static_cast<int64_t>(wLen), h);
    return undefinedValue(env);
  });
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_int32(env, pool().threads(), &v);
  return v;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 1);
    const int64_t n = args.dim(0);
    if (n < 1 || n > 256) throw Error{"range", "threads must be in 1..256"};
    std::lock_guard<std::mutex> lock(callMutex);
    pool().setThreads(static_cast<int>(n));
#ifdef IMAGESENT_OPENBLAS
    openblas_set_num_threads(static_cast<int>(n));
#endif
    return undefinedValue(env);
  });
}

napi_value Backend(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_string_utf8(env, useOpenblas ? "openblas" : selected->name, NAPI_AUTO_LENGTH, &v);
  return v;
}

const MicroKernel* microKernelNamed(const std::string& name) {
  if (name == "avx512") return avx512MicroKernel();
  if (name == "avx2") return avx2MicroKernel();
  if (name == "scalar") return scalarMicroKernel();
  return nullptr;
}

napi_value Backends(napi_env env, napi_callback_info) {
  napi_value list;
  napi_create_array(env, &list);
  uint32_t i = 0;
  const auto add = [&](const char* name) {
    napi_value s;
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, list, i++, s);
  };
#ifdef IMAGESENT_OPENBLAS
  add("openblas");
#endif
  for (const char* name : {"avx512", "avx2", "scalar"}) {
    if (microKernelNamed(name)) add(name);
  }
  return list;
}

napi_value SetBackend(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args args(env, info, 1);
    char buf[32];
    size_t len;
    if (napi_get_value_string_utf8(env, args.values[0], buf, sizeof buf, &len) != napi_ok) {
      throw Error{nullptr, "backend must be a string"};
    }
    const std::string name(buf, len);
    std::lock_guard<std::mutex> lock(callMutex);
#ifdef IMAGESENT_OPENBLAS
    if (name == "openblas") {
      useOpenblas = true;
      return undefinedValue(env);
    }
#endif
    const MicroKernel* mk = microKernelNamed(name);
    if (!mk) throw Error{"range", "backend '" + name + "' is not available in this build or CPU"};
    selected = mk;
    useOpenblas = false;
    return undefinedValue(env);
  });
}

napi_value Init(napi_env env, napi_value exports) {
  selected = avx512MicroKernel();
  if (!selected) selected = avx2MicroKernel();
  if (!selected) selected = scalarMicroKernel();
#ifdef IMAGESENT_OPENBLAS
  openblas_set_num_threads(pool().threads());
#endif
  const napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxRows", nullptr, SoftmaxRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxCrossEntropy", nullptr, SoftmaxCrossEntropy, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"maxOverRows", nullptr, MaxOverRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxProductBackward", nullptr, MaxProductBackward, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"int8MaxDotSum", nullptr, Int8MaxDotSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"int8Dot", nullptr, Int8Dot, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"allocateFloats", nullptr, AllocateFloats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"halvesToFloats", nullptr, HalvesToFloats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"readRecords", nullptr, ReadRecords, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmspropUpdate", nullptr, RmspropUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdUpdate", nullptr, SgdUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backend", nullptr, Backend, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"backends", nullptr, Backends, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setBackend", nullptr, SetBackend, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace
}  // namespace imagesent

NAPI_MODULE(NODE_GYP_MODULE_NAME, imagesent::Init)
