// QuantizeLinear float32 -> int8 on AVX-512 (F): 16 values per step with
// the conversion's own round-to-nearest-even and a truncating vpmovdb, where
// the compiler's vectorization of quantize_body (quantize_linear.cc) packs
// in ymm halves with masks and spills (0.3 ns a value on a Xeon: the
// Quantize at a decoder's precision boundary cost a tenth of its int8
// time). Same arithmetic as quantize_value(): x / scale (a division, not a
// reciprocal, so the bits match), NaN -> 0, clamp, round half to even, add
// the zero point. Compiled for AVX-512 (a target pragma after the
// includes), called only when the CPU has it.
#include "backends/xnnpack/simd/quantize_linear_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f")
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace edgegen {
namespace simd {
namespace {

// 16 values in [low, high] after NaN -> 0, rounded half to even (the
// conversion's default rounding), plus the zero point, as int32.
inline __m512i quantize16(__m512 x, __m512 scale, __m512 low, __m512 high, __m512i zero_point) {
  __m512 q = _mm512_div_ps(x, scale);
  q = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(q, q, _CMP_ORD_Q), q);  // NaN -> 0
  q = _mm512_min_ps(_mm512_max_ps(q, low), high);
  return _mm512_add_epi32(_mm512_cvtps_epi32(q), zero_point);
}

}  // namespace

void quantize_s8_avx512(const float* in, int8_t* out, size_t n, float scale, float low, float high,
                        int32_t zero_point) {
  const __m512 s = _mm512_set1_ps(scale), lo = _mm512_set1_ps(low), hi = _mm512_set1_ps(high);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm512_cvtepi32_epi8(quantize16(_mm512_loadu_ps(in + i), s, lo, hi, zp)));
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, tail, quantize16(_mm512_maskz_loadu_ps(tail, in + i), s, lo, hi, zp));
  }
}

bool has_quantize_avx512() { return __builtin_cpu_supports("avx512f"); }

}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

void quantize_s8_avx512(const float*, int8_t*, size_t, float, float, float, int32_t) {}
bool has_quantize_avx512() { return false; }

}  // namespace simd
}  // namespace edgegen

#endif
