// Records of a file of fixed-size records read by position, for the search index's candidate
// stages (src/app/record-file.ts); the same semantics as readRecords in
// src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

#include "thread_pool.h"

namespace imagesent {

// For k < n: the recordBytes bytes of record ids[k] of the file open as fd (at byte ids[k] x
// recordBytes) into out + k x recordBytes, where 0 <= ids[k] < slots and the whole record is
// there; otherwise the record's first 4 bytes are noRecord (int32, little-endian). The reads run
// on the pool's threads (one pread each). Returns 0, or the errno of a read that failed.
int readRecords(ThreadPool& pool, int fd, const int32_t* ids, int64_t n, int64_t recordBytes,
                int64_t slots, int32_t noRecord, uint8_t* out);

}  // namespace imagesent
