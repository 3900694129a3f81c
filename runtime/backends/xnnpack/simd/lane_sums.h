// Float sums that vectorize without -ffast-math: 16 independent partial
// sums, so each lane's order is fixed and the compiler need not reassociate
// (the result is the same whichever clone runs). Shared by LayerNorm and the
// channels-first GroupNorm.
#pragma once

#include <cstddef>

namespace edgegen {
namespace simd {

// sum x[i], i < n
float lane_sum(const float* x, size_t n);
// sum (x[i] - mean)^2, i < n
float lane_squared_deviation(const float* x, size_t n, float mean);

}  // namespace simd
}  // namespace edgegen
