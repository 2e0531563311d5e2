#include "records.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace imagesent {
namespace {

// Records a chunk: enough that a chunk's reads outweigh claiming it.
constexpr int64_t kRecordsPerChunk = 64;

struct Job {
  int fd;
  const int32_t* ids;
  int64_t n, recordBytes, slots;
  int32_t noRecord;
  uint8_t* out;
  std::atomic<int> error{0};
};

// The whole record at `at`, or false where the file ends first; a failed read sets j.error.
bool readWhole(Job& j, uint8_t* into, int64_t at) {
  int64_t got = 0;
  while (got < j.recordBytes) {
    const ssize_t r = pread(j.fd, into + got, static_cast<size_t>(j.recordBytes - got),
                            static_cast<off_t>(at + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int none = 0;
      j.error.compare_exchange_strong(none, errno);
      return false;
    }
    if (r == 0) return false;
    got += r;
  }
  return true;
}

void readChunk(void* ctx, int64_t chunk, int) {
  Job& j = *static_cast<Job*>(ctx);
  const int64_t end = std::min(j.n, (chunk + 1) * kRecordsPerChunk);
  for (int64_t k = chunk * kRecordsPerChunk; k < end; k++) {
    uint8_t* into = j.out + k * j.recordBytes;
    const int64_t id = j.ids[k];
    const bool whole = id >= 0 && id < j.slots && readWhole(j, into, id * j.recordBytes);
    if (!whole) std::memcpy(into, &j.noRecord, sizeof j.noRecord);
  }
}

}  // namespace

int readRecords(ThreadPool& pool, int fd, const int32_t* ids, int64_t n, int64_t recordBytes,
                int64_t slots, int32_t noRecord, uint8_t* out) {
  Job j;
  j.fd = fd;
  j.ids = ids;
  j.n = n;
  j.recordBytes = recordBytes;
  j.slots = slots;
  j.noRecord = noRecord;
  j.out = out;
  pool.run((n + kRecordsPerChunk - 1) / kRecordsPerChunk, readChunk, &j);
  return j.error.load();
}

}  // namespace imagesent
