// Compiled for AVX-512 (a target pragma after the includes), called only
// when the CPU has it.
#include "backends/xnnpack/simd/quantized_add_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl")
// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which its flow analysis reports as uninitialized (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace edgegen {
namespace simd {
namespace {

struct Constants {
  __m512i multipliers;  // (a_multiplier, b_multiplier) in each pair of 16-bit lanes
  __m512i bias;
  __m128i shift;
  __m512i zero_point, low, high;  // 16-bit lanes
};

Constants constants_of(const QuantizedAdd& add) {
  Constants k;
  const uint32_t pair = static_cast<uint16_t>(add.a_multiplier) | static_cast<uint32_t>(add.b_multiplier) << 16;
  k.multipliers = _mm512_set1_epi32(static_cast<int32_t>(pair));
  k.bias = _mm512_set1_epi32(add.bias);
  k.shift = _mm_cvtsi32_si128(add.shift);
  k.zero_point = _mm512_set1_epi16(static_cast<int16_t>(add.zero_point));
  k.low = _mm512_set1_epi16(static_cast<int16_t>(add.min));
  k.high = _mm512_set1_epi16(static_cast<int16_t>(add.max));
  return k;
}

// 32 sums of a and b (int16 lanes). The pairs are interleaved within each
// 128-bit lane and packed back within it, so the order is kept. A shifted
// sum beyond int16 saturates there, far outside [low, high]: the clamp
// gives what the 32-bit one does.
inline __m256i sum32(const Constants& k, __m512i a, __m512i b) {
  __m512i lo = _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), k.multipliers);
  __m512i hi = _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), k.multipliers);
  lo = _mm512_sra_epi32(_mm512_add_epi32(lo, k.bias), k.shift);
  hi = _mm512_sra_epi32(_mm512_add_epi32(hi, k.bias), k.shift);
  __m512i y = _mm512_adds_epi16(_mm512_packs_epi32(lo, hi), k.zero_point);
  y = _mm512_min_epi16(_mm512_max_epi16(y, k.low), k.high);
  return _mm512_cvtepi16_epi8(y);
}

inline __mmask32 first_lanes(size_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1; }

}  // namespace

bool has_quantized_add_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}

void quantized_add_row_avx512(const QuantizedAdd& add, const int8_t* a, const int8_t* b, int8_t* y, size_t n) {
  const Constants k = constants_of(add);
  for (size_t i = 0; i < n; i += 32) {
    const __mmask32 lanes = first_lanes(n - i);
    const __m512i va = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(lanes, a + i));
    const __m512i vb = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(lanes, b + i));
    _mm256_mask_storeu_epi8(y + i, lanes, sum32(k, va, vb));
  }
}

void quantized_add_row_one_value_avx512(const QuantizedAdd& add, const int8_t* a, int32_t b, int8_t* y, size_t n) {
  const Constants k = constants_of(add);
  const __m512i vb = _mm512_set1_epi16(static_cast<int16_t>(b));
  for (size_t i = 0; i < n; i += 32) {
    const __mmask32 lanes = first_lanes(n - i);
    const __m512i va = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(lanes, a + i));
    _mm256_mask_storeu_epi8(y + i, lanes, sum32(k, va, vb));
  }
}

}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

bool has_quantized_add_avx512() { return false; }
void quantized_add_row_avx512(const QuantizedAdd&, const int8_t*, const int8_t*, int8_t*, size_t) {}
void quantized_add_row_one_value_avx512(const QuantizedAdd&, const int8_t*, int32_t, int8_t*, size_t) {}

}  // namespace simd
}  // namespace edgegen

#endif
