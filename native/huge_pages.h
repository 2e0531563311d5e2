// Zeroed memory for large arrays that are written once and kept (a model's weights), on
// transparent huge pages where the kernel grants them.
#pragma once

#include <cstddef>

namespace imagesent {

// At least `bytes` zeroed bytes aligned to 2 MiB with madvise(MADV_HUGEPAGE), or nullptr where
// the system has no such mapping (then the caller allocates as usual). `*mapped` is the length
// to give freeHugePages.
void* allocateHugePages(size_t bytes, size_t* mapped);
void freeHugePages(void* p, size_t mapped);

}  // namespace imagesent
