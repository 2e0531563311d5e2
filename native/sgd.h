// The momentum SGD update of src/core/optim/sgd.ts, the elementwise gradient clip folded in; the
// same semantics as sgdUpdate in src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

namespace imagesent {

struct SgdHyper {
  double lr;
  double momentum;
  double weightDecay;
  // Gradient entries are clipped to [-clip, clip] first (infinity: no clip).
  double clip;
};

void sgdUpdate(float* w, const float* g, float* velocity, int64_t n, const SgdHyper& h);

}  // namespace imagesent
