#include "sgd.h"

#include <algorithm>

namespace imagesent {

// One loop the compiler vectorises; target_clones picks the widest the CPU runs.
__attribute__((target_clones("avx512f", "avx2", "default"))) void sgdUpdate(
    float* w, const float* g, float* velocity, int64_t n, const SgdHyper& h) {
  const float lr = static_cast<float>(h.lr), momentum = static_cast<float>(h.momentum);
  const float wd = static_cast<float>(h.weightDecay);
  const float hi = static_cast<float>(h.clip), lo = -hi;
  for (int64_t i = 0; i < n; i++) {
    const float v = momentum * velocity[i] + std::min(std::max(g[i], lo), hi) + wd * w[i];
    velocity[i] = v;
    w[i] -= lr * v;
  }
}

}  // namespace imagesent
