// SiLU (x * sigmoid(x)) on AVX-512 (F): see silu_avx512.cc.
#pragma once

#include <cstddef>

namespace edgegen {
namespace simd {

bool has_silu_avx512();

// out[i] = in[i] / (1 + e^-in[i]); in == out allowed. Within 3 ulp of the
// exact value, -0 below -88 (|value| < 1e-36), NaN stays NaN; call only
// where has_silu_avx512().
void silu_avx512(const float* in, float* out, size_t n);

}  // namespace simd
}  // namespace edgegen
