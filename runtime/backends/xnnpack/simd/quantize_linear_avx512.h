// QuantizeLinear float32 -> int8 per slice on AVX-512: see
// quantize_linear_avx512.cc. Bit-identical to quantize_linear.cc's loop.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace simd {

// out[i] = clamp(round_half_even(in[i] / scale), low, high) + zero_point,
// NaN -> zero_point; low and high already shifted by the zero point.
// Call only where has_quantize_avx512().
void quantize_s8_avx512(const float* in, int8_t* out, size_t n, float scale, float low, float high,
                        int32_t zero_point);

bool has_quantize_avx512();

}  // namespace simd
}  // namespace edgegen
