// SiLU on AVX-512 (F), 64 values per step in four independent chains
// (silu_block_avx512.h, which the int8 GroupNorm's SiLU shares). GCC's
// vectorization of the portable loop (silu_loop in simd_kernels.cc) keeps
// a divide and a chain of ~30 dependent instructions per vector: SiLU was
// 5% of a float UNet's time, as much as its GroupNorms. Compiled for
// AVX-512 (a target pragma after the includes), called only when the CPU
// has it.
#include "backends/xnnpack/simd/silu_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "backends/xnnpack/simd/silu_block_avx512.h"

namespace edgegen {
namespace simd {

bool has_silu_avx512() { return __builtin_cpu_supports("avx512f"); }

void silu_avx512(const float* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 v[4];
    for (int j = 0; j < 4; ++j) v[j] = _mm512_loadu_ps(in + i + 16 * j);
    silu_block(v);
    for (int j = 0; j < 4; ++j) _mm512_storeu_ps(out + i + 16 * j, v[j]);
  }
  for (; i < n; i += 16) {
    const __mmask16 lanes = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    __m512 v[1] = {_mm512_maskz_loadu_ps(lanes, in + i)};
    silu_block(v);
    _mm512_mask_storeu_ps(out + i, lanes, v[0]);
  }
}

}  // namespace simd
}  // namespace edgegen

#pragma GCC diagnostic pop
#pragma GCC pop_options

#else

namespace edgegen {
namespace simd {

bool has_silu_avx512() { return false; }
void silu_avx512(const float*, float*, size_t) {}

}  // namespace simd
}  // namespace edgegen

#endif
