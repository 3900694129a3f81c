// LayerNorm over the last `cols` values of each row: two passes (mean, then
// the mean squared deviation, as the reference kernel), with 16 partial
// sums so that the loops vectorize without reassociating the compiler's own
// reductions.
#include <cmath>

#include "backends/simd/simd_kernels.h"
#include "backends/simd/vector_math.h"

namespace edgegen {
namespace simd {

namespace {

constexpr size_t kLanes = 16;

EG_VECTOR_CLONES float sum(const float* x, size_t n) {
  float partial[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) partial[j] += x[i + j];
  float total = 0.f;
  for (; i < n; ++i) total += x[i];
  for (size_t j = 0; j < kLanes; ++j) total += partial[j];
  return total;
}

EG_VECTOR_CLONES float squared_deviation(const float* x, size_t n, float mean) {
  float partial[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) {
      const float d = x[i + j] - mean;
      partial[j] += d * d;
    }
  float total = 0.f;
  for (; i < n; ++i) total += (x[i] - mean) * (x[i] - mean);
  for (size_t j = 0; j < kLanes; ++j) total += partial[j];
  return total;
}

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
    const float mean = cols ? sum(x, cols) / static_cast<float>(cols) : 0.f;
    const float variance = cols ? squared_deviation(x, cols, mean) / static_cast<float>(cols) : 0.f;
    scale_shift(x, gamma, beta, out + r * cols, cols, mean, 1.f / std::sqrt(variance + epsilon));
  }
}

}  // namespace simd
}  // namespace edgegen
