// The arithmetic of GroupNorm on int8/uint8 tensors, shared by the reference
// kernel and the fast path (backends/xnnpack/simd/group_norm_int8.h) so that
// both give the same bits.
//
// An int8 decoder normalizes the output of an int8 convolution and feeds the
// next one: run in float, that is a dequantize, the norm, its activation and
// a quantize, four passes over the image. Here it is two (statistics, output):
//   - a group's statistics are integer sums of q and q^2 (exact), from which
//     mean_q and var_q follow in double; zero points cancel;
//   - per channel, y = a[c] * q + b[c] with
//       a[c] = gamma[c] * x_scale / sqrt(x_scale^2 var_q + epsilon),
//       b[c] = beta[c] - a[c] * mean_q        (in double, then float);
//   - NaN (from an infinite coefficient) becomes 0, then the fused
//     activation, then y_q = clamp(round_half_even(y / y_scale) + y_zp)
//     with the division as a multiply by 1 / y_scale.
// The per-value steps are single float operations (the sources build with
// -ffp-contract=off), so vector code repeats them exactly. The activation is
// exact in every path except SiLU (and the other transcendental ones), whose
// fast exp may move a value by one step.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/quantization.h"

namespace edgegen {

// The per-channel a, b of one group from its integer sums over `count` values.
inline void quantized_group_norm_coefficients(int64_t sum, int64_t squares, int64_t count, float x_scale,
                                              float epsilon, const float* gamma, const float* beta, float* a,
                                              float* b, size_t channels) {
  const double n = static_cast<double>(count);
  const double mean = static_cast<double>(sum) / n;
  double variance = static_cast<double>(squares) / n - mean * mean;
  if (variance < 0.0) variance = 0.0;  // rounding of a constant group
  const double scale = x_scale;
  const double inv_std = 1.0 / std::sqrt(scale * scale * variance + static_cast<double>(epsilon));
  for (size_t c = 0; c < channels; ++c) {
    const double slope = static_cast<double>(gamma[c]) * scale * inv_std;
    a[c] = static_cast<float>(slope);
    b[c] = static_cast<float>(static_cast<double>(beta[c]) - slope * mean);
  }
}

// One normalized value before the activation.
inline float quantized_group_norm_value(float a, int32_t q, float b) {
  const float y = a * static_cast<float>(q) + b;
  return y == y ? y : 0.f;
}

// The output's quantization: 1 / scale and the clamp bounds, already
// shifted by the zero point.
struct QuantizedGroupNormOutput {
  float inverse_scale = 1.f;
  float low = -128.f;   // dtype min - y_zp
  float high = 127.f;   // dtype max - y_zp
  int32_t zero_point = 0;
};

inline QuantizedGroupNormOutput quantized_group_norm_output(float y_scale, int32_t y_zero_point, DType dtype) {
  const QuantizedRange range = quantized_range(dtype);
  QuantizedGroupNormOutput out;
  out.inverse_scale = 1.f / y_scale;
  out.low = static_cast<float>(range.min - y_zero_point);
  out.high = static_cast<float>(range.max - y_zero_point);
  out.zero_point = y_zero_point;
  return out;
}

// y (after the activation) to the output's integer; NaN gives the zero point.
inline int32_t quantize_group_norm_value(float y, const QuantizedGroupNormOutput& out) {
  float value = y * out.inverse_scale;
  value = value == value ? value : 0.f;
  value = value < out.low ? out.low : value;
  value = value > out.high ? out.high : value;
  return static_cast<int32_t>(round_half_even(value)) + out.zero_point;
}

}  // namespace edgegen
