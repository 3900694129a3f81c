// ReduceSum/Mean/Max/Min of f32 over one contiguous run of axes, seen as
// [outer, reduced, inner]: with inner > 1 the reduction adds whole rows of
// `inner` values (vectorized along them); with inner == 1 it runs along a
// contiguous row with 16 partial accumulators. Max and Min propagate NaN
// and empty reductions give the ONNX identities, as the reference kernel.
#include <cmath>
#include <limits>

#include "backends/xnnpack/simd/simd_kernels.h"
#include "core/vector_math.h"
#include "ops/registry.h"

namespace edgegen {
namespace simd {

namespace {

constexpr size_t kLanes = 16;

// NaN sticks: a comparison with NaN is false, so (x > acc || x != x) keeps it.
inline float combine_max(float acc, float x) { return (x > acc || x != x) ? x : acc; }
inline float combine_min(float acc, float x) { return (x < acc || x != x) ? x : acc; }

template <int kKind>
inline float combine(float acc, float x) {
  if constexpr (kKind == 0) return acc + x;
  else if constexpr (kKind == 1) return combine_max(acc, x);
  else return combine_min(acc, x);
}

template <int kKind>
constexpr float identity() {
  if constexpr (kKind == 0) return 0.f;
  else if constexpr (kKind == 1) return -std::numeric_limits<float>::infinity();
  else return std::numeric_limits<float>::infinity();
}

template <int kKind>
EG_VECTOR_CLONES float reduce_row(const float* x, size_t n) {
  float partial[kLanes];
  for (size_t j = 0; j < kLanes; ++j) partial[j] = identity<kKind>();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) partial[j] = combine<kKind>(partial[j], x[i + j]);
  float total = identity<kKind>();
  for (; i < n; ++i) total = combine<kKind>(total, x[i]);
  for (size_t j = 0; j < kLanes; ++j) total = combine<kKind>(total, partial[j]);
  return total;
}

template <int kKind>
EG_VECTOR_CLONES void reduce_rows(const float* x, float* out, size_t reduced, size_t inner) {
  for (size_t j = 0; j < inner; ++j) out[j] = identity<kKind>();
  for (size_t r = 0; r < reduced; ++r) {
    const float* row = x + r * inner;
    for (size_t j = 0; j < inner; ++j) out[j] = combine<kKind>(out[j], row[j]);
  }
}

template <int kKind>
void reduce(const float* in, float* out, size_t outer, size_t reduced, size_t inner) {
  for (size_t o = 0; o < outer; ++o) {
    const float* x = in + o * reduced * inner;
    if (inner == 1) out[o] = reduce_row<kKind>(x, reduced);
    else reduce_rows<kKind>(x, out + o * inner, reduced, inner);
  }
}

}  // namespace

bool has_reduce(uint32_t opcode) {
  const OpCode code = static_cast<OpCode>(opcode);
  return code == OpCode::kReduceSum || code == OpCode::kReduceMean || code == OpCode::kReduceMax ||
         code == OpCode::kReduceMin;
}

void reduce(uint32_t opcode, const float* in, float* out, size_t outer, size_t reduced, size_t inner) {
  switch (static_cast<OpCode>(opcode)) {
    case OpCode::kReduceMax: return reduce<1>(in, out, outer, reduced, inner);
    case OpCode::kReduceMin: return reduce<2>(in, out, outer, reduced, inner);
    default: break;
  }
  reduce<0>(in, out, outer, reduced, inner);
  if (static_cast<OpCode>(opcode) == OpCode::kReduceMean) {
    // 0 / 0 = NaN for an empty mean, as ONNX.
    const float count = static_cast<float>(reduced);
    for (size_t i = 0; i < outer * inner; ++i) out[i] /= count;
  }
}

}  // namespace simd
}  // namespace edgegen
