// The two passes of simd::group_norm_int8 on AVX-512 (F, BW, VL): see
// group_norm_int8_avx512.cc. Bit-identical to group_norm_int8.cc's loops.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegen {
namespace simd {

bool has_group_norm_int8_avx512();

// Per-channel sums of q and q^2 of x [pixels, channels], added to `sums`
// and `squares` (pixels <= 2^16: int32 cannot overflow).
void accumulate_rows_avx512(const int8_t* x, int32_t* sums, int32_t* squares, size_t channels, size_t pixels);

// The output step: y = quantize(act(a * q + b)) with the clamp bounds
// `low`, `high` (ReLU / Clip folded in) and SiLU when `silu`; a and b per
// channel of x [pixels, channels] (`a_stride` 1), or one pair for a
// channel-first plane (channels = pixels' count, `a_stride` 0).
struct OutputStepAvx512 {
  float inverse_scale, low, high;
  int32_t zero_point;
  bool silu;
};
void normalize_rows_avx512(const int8_t* x, int8_t* y, const float* a, const float* b, size_t a_stride,
                           size_t channels, size_t pixels, const OutputStepAvx512& o);

}  // namespace simd
}  // namespace edgegen
