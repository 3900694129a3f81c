#include "backends/xnnpack/simd/byte_lookup.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace edgegen {
namespace simd {
namespace {

void byte_lookup_portable(const uint8_t table[256], const uint8_t* x, uint8_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = table[x[i]];
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void byte_lookup_vbmi(const uint8_t table[256],
                                                                              const uint8_t* x, uint8_t* y, size_t n) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  for (size_t i = 0; i < n; i += 64) {
    const __mmask64 lanes = n - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (n - i)) - 1;
    const __m512i index = _mm512_maskz_loadu_epi8(lanes, x + i);
    // Bits 0-6 pick one of 128 entries of each half; bit 7 picks the half.
    const __m512i low = _mm512_permutex2var_epi8(t0, index, t1);
    const __m512i high = _mm512_permutex2var_epi8(t2, index, t3);
    _mm512_mask_storeu_epi8(y + i, lanes, _mm512_mask_blend_epi8(_mm512_movepi8_mask(index), low, high));
  }
}
#endif

}  // namespace

bool has_byte_lookup_vbmi() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}

void byte_lookup(const uint8_t table[256], const uint8_t* x, uint8_t* y, size_t n, bool vbmi) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (vbmi && has_byte_lookup_vbmi()) return byte_lookup_vbmi(table, x, y, n);
#else
  (void)vbmi;
#endif
  byte_lookup_portable(table, x, y, n);
}

}  // namespace simd
}  // namespace edgegen
