// A softmax row on AVX-512 (F): the scaled values and their max, then
// exp(v - max) and its sum, then the products by 1 / sum, 64 values per
// step in four independent chains. exp is vector_math.h's (the range
// reduction and Cephes polynomial of silu_block_avx512.h) with vscalefps
// for 2^n. GCC's vectorization of the portable row (simd_kernels.cc) ran
// attention's 8 x 4096 x 4096 scores at half XNNPACK's softmax speed.
// Compiled for AVX-512 (a target pragma after the includes), called only
// when the CPU has it.
#include "backends/xnnpack/simd/softmax_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include <cmath>

#pragma GCC push_options
#pragma GCC target("avx512f")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace edgegen {
namespace simd {

namespace {

// e^x for x <= 0 (x - max); below -87.3 the bound's e^x (~1e-38, as good as 0 beside the max's 1).
inline __m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.33654f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r);
  p = _mm512_add_ps(p, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

inline __mmask16 tail_mask(size_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

}  // namespace

bool has_softmax_avx512() { return __builtin_cpu_supports("avx512f"); }

void softmax_row_avx512(const float* x, float* y, size_t n, float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  __m512 top[4];
  for (int j = 0; j < 4; ++j) top[j] = _mm512_set1_ps(-INFINITY);
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    for (int j = 0; j < 4; ++j) {
      const __m512 v = _mm512_mul_ps(s, _mm512_loadu_ps(x + i + 16 * j));
      _mm512_storeu_ps(y + i + 16 * j, v);
      top[j] = _mm512_max_ps(top[j], v);
    }
  for (; i < n; i += 16) {
    const __mmask16 lanes = tail_mask(n - i);
    const __m512 v = _mm512_mul_ps(s, _mm512_maskz_loadu_ps(lanes, x + i));
    _mm512_mask_storeu_ps(y + i, lanes, v);
    top[0] = _mm512_mask_max_ps(top[0], lanes, top[0], v);
  }
  const __m512 max = _mm512_set1_ps(
      _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(top[0], top[1]), _mm512_max_ps(top[2], top[3]))));
  __m512 sum[4];
  for (int j = 0; j < 4; ++j) sum[j] = _mm512_setzero_ps();
  i = 0;
  for (; i + 64 <= n; i += 64)
    for (int j = 0; j < 4; ++j) {
      const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(y + i + 16 * j), max));
      _mm512_storeu_ps(y + i + 16 * j, e);
      sum[j] = _mm512_add_ps(sum[j], e);
    }
  for (; i < n; i += 16) {
    const __mmask16 lanes = tail_mask(n - i);
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, y + i), max));
    _mm512_mask_storeu_ps(y + i, lanes, e);
    sum[0] = _mm512_mask_add_ps(sum[0], lanes, sum[0], e);
  }
  const float total = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(sum[0], sum[1]), _mm512_add_ps(sum[2], sum[3])));
  const __m512 inverse = _mm512_set1_ps(1.f / total);
  i = 0;
  for (; i + 64 <= n; i += 64)
    for (int j = 0; j < 4; ++j)
      _mm512_storeu_ps(y + i + 16 * j, _mm512_mul_ps(_mm512_loadu_ps(y + i + 16 * j), inverse));
  for (; i < n; i += 16) {
    const __mmask16 lanes = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, y + i), inverse));
  }
}

}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

bool has_softmax_avx512() { return false; }
void softmax_row_avx512(const float*, float*, size_t, float) {}

}  // namespace simd
}  // namespace edgegen

#endif
