// LayerNorm over the last `cols` values of each row: two passes (mean, then
// the mean squared deviation, as the reference kernel), with lane_sums.h's
// vectorized sums.
#include <cmath>

#include "backends/xnnpack/simd/lane_sums.h"
#include "backends/xnnpack/simd/simd_kernels.h"
#include "core/vector_math.h"

namespace edgegen {
namespace simd {

namespace {

EG_VECTOR_CLONES void scale_shift(const float* x, const float* gamma, const float* beta, float* y, size_t n,
                                  float mean, float inv_std) {
  if (beta != nullptr) {
    for (size_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv_std * gamma[i] + beta[i];
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv_std * gamma[i];
  }
}

}  // namespace

void layer_norm(const float* in, const float* gamma, const float* beta, float* out, size_t rows, size_t cols,
                float epsilon) {
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * cols;
    const float mean = cols ? lane_sum(x, cols) / static_cast<float>(cols) : 0.f;
    const float variance = cols ? lane_squared_deviation(x, cols, mean) / static_cast<float>(cols) : 0.f;
    scale_shift(x, gamma, beta, out + r * cols, cols, mean, 1.f / std::sqrt(variance + epsilon));
  }
}

}  // namespace simd
}  // namespace edgegen
