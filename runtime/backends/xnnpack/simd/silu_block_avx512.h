// SiLU of U AVX-512 vectors at a time, stage by stage so that the chains
// interleave: vector_math.h's exp (the same range reduction and Cephes
// polynomial) in multiply-adds with vscalefps, the division as a reciprocal
// estimate refined by one Newton step (within 2 ulp), -0 below -88, NaN
// kept. For the AVX-512 sources only: include it after their target pragma
// (its function then gets their target); internal linkage, so no other
// translation unit can pick an AVX-512 copy of it.
#pragma once

#include <immintrin.h>

namespace edgegen {
namespace simd {
namespace {

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
}  // namespace simd
}  // namespace edgegen
