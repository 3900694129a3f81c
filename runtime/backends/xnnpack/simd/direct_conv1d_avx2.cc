// direct_conv1d.h on AVX2 + FMA: 6 rows x 16 channels (12 accumulators,
// two weight vectors, a broadcast) or 8 rows x 8 channels. This file is
// compiled for AVX2 and FMA (a target pragma after the includes) and only
// called when the CPU has both.
#include "backends/xnnpack/simd/direct_conv1d.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "backends/xnnpack/simd/direct_conv1d_kernel.h"

namespace edgegen {
namespace simd {

namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  // x >= 0 ? x : x * slope, as apply_activation (NaN takes the product).
  static V leaky(V x, V slope) {
    return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  }
};

}  // namespace

void direct_conv1d_rows_avx2(const DirectConvRows& args) { direct_conv::rows<Avx2, 6, 2, Avx2, 8, 1>(args); }

bool has_direct_conv1d_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

namespace {

// Rows r0 .. r0 + 7 (rows past the end repeat the last: same loads, not stored).
void dot_group(const DirectDotRows& a, int64_t r0) {
  const float* x[8];
  for (int r = 0; r < 8; ++r) x[r] = a.x + (r0 + r < a.rows ? r0 + r : a.rows - 1) * a.x_step;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0, acc4 = acc0, acc5 = acc0, acc6 = acc0,
         acc7 = acc0;
  int64_t j = 0;
  for (; j + 8 <= a.count; j += 8) {
    const __m256 w = _mm256_loadu_ps(a.w + j);
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x[0] + j), w, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x[1] + j), w, acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x[2] + j), w, acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x[3] + j), w, acc3);
    acc4 = _mm256_fmadd_ps(_mm256_loadu_ps(x[4] + j), w, acc4);
    acc5 = _mm256_fmadd_ps(_mm256_loadu_ps(x[5] + j), w, acc5);
    acc6 = _mm256_fmadd_ps(_mm256_loadu_ps(x[6] + j), w, acc6);
    acc7 = _mm256_fmadd_ps(_mm256_loadu_ps(x[7] + j), w, acc7);
  }
  if (j < a.count) {  // the last 1-7 taps, masked (nothing read past the window)
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(a.count - j)), lanes);
    const __m256 w = _mm256_maskload_ps(a.w + j, mask);
    acc0 = _mm256_fmadd_ps(_mm256_maskload_ps(x[0] + j, mask), w, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(x[1] + j, mask), w, acc1);
    acc2 = _mm256_fmadd_ps(_mm256_maskload_ps(x[2] + j, mask), w, acc2);
    acc3 = _mm256_fmadd_ps(_mm256_maskload_ps(x[3] + j, mask), w, acc3);
    acc4 = _mm256_fmadd_ps(_mm256_maskload_ps(x[4] + j, mask), w, acc4);
    acc5 = _mm256_fmadd_ps(_mm256_maskload_ps(x[5] + j, mask), w, acc5);
    acc6 = _mm256_fmadd_ps(_mm256_maskload_ps(x[6] + j, mask), w, acc6);
    acc7 = _mm256_fmadd_ps(_mm256_maskload_ps(x[7] + j, mask), w, acc7);
  }
  // Pairwise sums: lane i of `sum` is row i's eight partial sums added.
  const __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(acc0, acc1), _mm256_hadd_ps(acc2, acc3));
  const __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(acc4, acc5), _mm256_hadd_ps(acc6, acc7));
  __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
  sum = _mm256_add_ps(sum, _mm256_set1_ps(a.bias));
  sum = _mm256_min_ps(_mm256_max_ps(sum, _mm256_set1_ps(a.out_min)), _mm256_set1_ps(a.out_max));
  if (r0 + 8 <= a.rows) {
    _mm256_storeu_ps(a.y + r0, sum);
  } else {
    float spill[8];
    _mm256_storeu_ps(spill, sum);
    for (int64_t r = r0; r < a.rows; ++r) a.y[r] = spill[r - r0];
  }
}

}  // namespace

void direct_dot_rows_avx2(const DirectDotRows& args) {
  for (int64_t r0 = 0; r0 < args.rows; r0 += 8) dot_group(args, r0);
}

}  // namespace simd
}  // namespace edgegen

#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

void direct_conv1d_rows_avx2(const DirectConvRows& args) { direct_conv1d_rows_portable(args); }
bool has_direct_conv1d_avx2() { return false; }
void direct_dot_rows_avx2(const DirectDotRows& args) { direct_dot_rows_portable(args); }

}  // namespace simd
}  // namespace edgegen

#endif
