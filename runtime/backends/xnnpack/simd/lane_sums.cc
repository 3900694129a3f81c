#include "backends/xnnpack/simd/lane_sums.h"

#include "core/vector_math.h"

namespace edgegen {
namespace simd {

namespace {
constexpr size_t kLanes = 16;
}  // namespace

EG_VECTOR_CLONES float lane_sum(const float* x, size_t n) {
  float partial[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) partial[j] += x[i + j];
  float total = 0.f;
  for (; i < n; ++i) total += x[i];
  for (size_t j = 0; j < kLanes; ++j) total += partial[j];
  return total;
}

EG_VECTOR_CLONES float lane_squared_deviation(const float* x, size_t n, float mean) {
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

}  // namespace simd
}  // namespace edgegen
