#include "rmsprop.h"

#include <algorithm>
#include <cmath>

namespace imagesent {

// One loop the compiler vectorises (sqrt and division have vector forms once errno is off:
// -fno-math-errno in binding.gyp); target_clones picks the widest the CPU runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) void rmspropUpdate(
    float* w, const float* g, float* cache, int64_t n, const RmspropHyper& h) {
  const float lr = static_cast<float>(h.lr), decay = static_cast<float>(h.decay);
  const float keep = static_cast<float>(1.0 - h.decay), correction = static_cast<float>(h.correction);
  const float eps = static_cast<float>(h.eps), wd = static_cast<float>(h.weightDecay);
  const float hi = static_cast<float>(h.clip), lo = -hi;
  for (int64_t i = 0; i < n; i++) {
    const float gi = std::min(std::max(g[i], lo), hi) + wd * w[i];
    const float c = decay * cache[i] + keep * gi * gi;
    cache[i] = c;
    w[i] -= lr * gi / (std::sqrt(c * correction) + eps);
  }
}

}  // namespace imagesent
