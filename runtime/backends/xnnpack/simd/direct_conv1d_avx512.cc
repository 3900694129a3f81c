// direct_conv1d.h on AVX-512 (F + VL): blocks of 16 output channels in one
// zmm, 12 rows (12 accumulators of the 32 registers), and the last 8
// channels of a block in ymm, 16 rows. Per multiply-add of 16 lanes one
// broadcast: half the loads of the AVX2 variant per output, which is what
// bounds it on a core that splits 512-bit operations (Zen 4). Compiled for
// AVX-512 (a target pragma after the includes), called only when the CPU
// has it.
#include "backends/xnnpack/simd/direct_conv1d.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx2,fma")

#include "backends/xnnpack/simd/direct_conv1d_kernel.h"

namespace edgegen {
namespace simd {

namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V leaky(V x, V slope) {
    return _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ), x, slope);
  }
};

struct Ymm {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V leaky(V x, V slope) {
    return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  }
};

}  // namespace

void direct_conv1d_rows_avx512(const DirectConvRows& args) { direct_conv::rows<Avx512, 12, 1, Ymm, 8, 1>(args); }

bool has_direct_conv1d_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
}

}  // namespace simd
}  // namespace edgegen

#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

void direct_conv1d_rows_avx512(const DirectConvRows& args) { direct_conv1d_rows_portable(args); }
bool has_direct_conv1d_avx512() { return false; }

}  // namespace simd
}  // namespace edgegen

#endif
