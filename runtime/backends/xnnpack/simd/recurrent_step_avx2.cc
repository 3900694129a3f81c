// recurrent_step.h on AVX2 + FMA: a block of 16 units is two ymm, so an
// LSTM tile is 1 block x 4 gates x 2 = 8 accumulators of the 16 registers.
// Compiled for AVX2 and FMA (a target pragma after the includes), called
// only when the CPU has both.
#include "backends/xnnpack/simd/recurrent_step.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "backends/xnnpack/simd/recurrent_step_kernel.h"

namespace edgegen {
namespace simd {

namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kAccumulators = 8;
  static constexpr int kProjectionAccumulators = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V splat(float x) { return _mm256_set1_ps(x); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V pow2(V shifted) {
    const __m256i bits = _mm256_add_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23));
  }
};

}  // namespace

void recurrent_step_avx2(const RecurrentStep& step) { recurrent::step<Avx2>(step); }
void recurrent_projection_avx2(const RecurrentProjection& projection) { recurrent::project<Avx2>(projection); }

bool has_recurrent_step_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

}  // namespace simd
}  // namespace edgegen

#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {
void recurrent_step_avx2(const RecurrentStep& step) { recurrent_step_portable(step); }
void recurrent_projection_avx2(const RecurrentProjection& projection) {
  recurrent_projection_portable(projection);
}
bool has_recurrent_step_avx2() { return false; }
}  // namespace simd
}  // namespace edgegen

#endif
