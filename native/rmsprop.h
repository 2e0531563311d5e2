// The RMSprop update of src/core/optim/rmsprop.ts, the elementwise gradient clip folded in; the
// same semantics as rmspropUpdate in src/core/kernels/ts-kernels.ts.
#pragma once

#include <cstdint>

namespace imagesent {

// Doubles, as JavaScript passes them: 1 - decay is taken before rounding to float (in float,
// 1 - 0.999f is off by 1e-5 relative).
struct RmspropHyper {
  double lr;
  double decay;
  // 1 / (1 - decay^t), the cache's bias correction at step t.
  double correction;
  double eps;
  double weightDecay;
  // Gradient entries are clipped to [-clip, clip] first (infinity: no clip).
  double clip;
};

void rmspropUpdate(float* w, const float* g, float* cache, int64_t n, const RmspropHyper& h);

}  // namespace imagesent
