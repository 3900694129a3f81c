// recurrent_step.h on AVX-512: a block of 16 units is one zmm, so an LSTM
// tile is 4 blocks x 4 gates = 16 accumulators of the 32 registers (two
// batch rows: 2 x 2 blocks). Compiled for AVX-512 (a target pragma after
// the includes), called only when the CPU has it.
#include "backends/xnnpack/simd/recurrent_step.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "backends/xnnpack/simd/recurrent_step_kernel.h"

namespace edgegen {
namespace simd {

namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kAccumulators = 16;
  // The projection's tile: 6 rows x 4 vectors. Each row shares the weight
  // loads, and with 4 rows a block's weights streamed from L2 at 16 bytes
  // per multiply-add capped a CRNN's 3x3 convs at ~60% of an Intel Xeon's
  // peak (L2 gives ~32 bytes a cycle); 24 + 4 loaded weights + 1 broadcast
  // fit the 32 registers.
  static constexpr int kProjectionAccumulators = 24;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V splat(float x) { return _mm512_set1_ps(x); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  // 2^n from n + 1.5 * 2^23 (n in its low mantissa bits).
  static V pow2(V shifted) {
    const __m512i bits = _mm512_add_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23));
  }
};

}  // namespace

void recurrent_step_avx512(const RecurrentStep& step) { recurrent::step<Avx512>(step); }
void recurrent_projection_avx512(const RecurrentProjection& projection) { recurrent::project<Avx512>(projection); }

bool has_recurrent_step_avx512() { return __builtin_cpu_supports("avx512f"); }

}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {
void recurrent_step_avx512(const RecurrentStep& step) { recurrent_step_portable(step); }
void recurrent_projection_avx512(const RecurrentProjection& projection) {
  recurrent_projection_portable(projection);
}
bool has_recurrent_step_avx512() { return false; }
}  // namespace simd
}  // namespace edgegen

#endif
