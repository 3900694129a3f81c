// SiLU on AVX-512 (F), 64 values per step in four independent chains:
// vector_math.h's exp (the same range reduction and Cephes polynomial) in
// multiply-adds with vscalefps for the 2^n, and the division as a
// reciprocal estimate refined by one Newton step. GCC's vectorization of
// the portable loop (silu_loop in simd_kernels.cc) keeps the divide and a
// chain of ~30 dependent instructions per vector: SiLU was 5% of a float
// UNet's time, as much as its GroupNorms. Compiled for AVX-512 (a target
// pragma after the includes), called only when the CPU has it.
#include "backends/xnnpack/simd/silu_avx512.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace edgegen {
namespace simd {
namespace {

// SiLU of U vectors stage by stage, so that the chains interleave.
template <int U>
inline void silu_block(__m512 (&v)[U]) {
  __m512 x[U], n[U], r[U], p[U];
  for (int j = 0; j < U; ++j) {
    x[j] = _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), v[j]), _mm512_set1_ps(-87.33654f));
    x[j] = _mm512_min_ps(x[j], _mm512_set1_ps(88.72283f));  // NaN: the bound here, NaN again at the end
  }
  for (int j = 0; j < U; ++j)
    n[j] = _mm512_roundscale_ps(_mm512_mul_ps(x[j], _mm512_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  for (int j = 0; j < U; ++j) r[j] = _mm512_fnmadd_ps(n[j], _mm512_set1_ps(0.693359375f), x[j]);
  for (int j = 0; j < U; ++j) r[j] = _mm512_fnmadd_ps(n[j], _mm512_set1_ps(-2.12194440e-4f), r[j]);
  for (int j = 0; j < U; ++j) p[j] = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r[j], _mm512_set1_ps(1.3981999507e-3f));
  for (int j = 0; j < U; ++j) p[j] = _mm512_fmadd_ps(p[j], r[j], _mm512_set1_ps(8.3334519073e-3f));
  for (int j = 0; j < U; ++j) p[j] = _mm512_fmadd_ps(p[j], r[j], _mm512_set1_ps(4.1665795894e-2f));
  for (int j = 0; j < U; ++j) p[j] = _mm512_fmadd_ps(p[j], r[j], _mm512_set1_ps(1.6666665459e-1f));
  for (int j = 0; j < U; ++j) p[j] = _mm512_fmadd_ps(p[j], r[j], _mm512_set1_ps(5.0000001201e-1f));
  for (int j = 0; j < U; ++j) p[j] = _mm512_fmadd_ps(_mm512_mul_ps(p[j], r[j]), r[j], r[j]);
  for (int j = 0; j < U; ++j) p[j] = _mm512_add_ps(p[j], _mm512_set1_ps(1.f));
  // d = 1 + e^-v; v / d = v * (r * (2 - d r)) with r ~ 1 / d.
  for (int j = 0; j < U; ++j) x[j] = _mm512_add_ps(_mm512_set1_ps(1.f), _mm512_scalef_ps(p[j], n[j]));
  for (int j = 0; j < U; ++j) r[j] = _mm512_rcp14_ps(x[j]);
  for (int j = 0; j < U; ++j) r[j] = _mm512_mul_ps(r[j], _mm512_fnmadd_ps(x[j], r[j], _mm512_set1_ps(2.f)));
  for (int j = 0; j < U; ++j) {
    // Below -88, v e^v is under 1e-36 (and -inf's limit is 0): -0. NaN stays NaN.
    __m512 y = _mm512_mul_ps(v[j], r[j]);
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(v[j], _mm512_set1_ps(-88.f), _CMP_LT_OQ), _mm512_set1_ps(-0.f));
    v[j] = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(v[j], v[j], _CMP_UNORD_Q), v[j]);
  }
}

}  // namespace

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
