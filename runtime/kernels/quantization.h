// Integer arithmetic of quantized kernels, shared by the reference kernels
// and the fast paths so that both round the same way.
//
// A quantized tensor holds q with real = scale * (q - zero_point). A linear
// op (convolution, fully connected, transposed convolution) accumulates
//   acc = sum (x_q - x_zp) * w_q + bias_q        (int32, exact)
// with symmetric weights (zero point 0) and an int32 bias in units of
// x_scale * w_scale[c], then requantizes per output channel c:
//   y_q = clamp(round_half_even(acc * x_scale * w_scale[c] / y_scale), lo - y_zp, hi - y_zp) + y_zp
// in float32 ("fp32 requantization", as XNNPACK's qs8/qc8 kernels do), so
// that every path gives the same bits and agrees within 1 LSB with any
// engine that uses integer fixed-point multipliers instead.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/kernel_util.h"

namespace edgegen {

// The integer range of a quantized dtype: int8 [-128, 127], uint8 [0, 255],
// and the slope a fused leaky ReLU gives the negative outputs (1: none).
struct QuantizedRange {
  int32_t min = 0;
  int32_t max = 0;
  float negative_slope = 1.f;
};
inline QuantizedRange quantized_range(DType dtype) {
  return dtype == DType::kUInt8 ? QuantizedRange{0, 255, 1.f} : QuantizedRange{-128, 127, 1.f};
}
inline bool is_quantized_dtype(DType dtype) { return dtype == DType::kInt8 || dtype == DType::kUInt8; }
// An int8/uint8 tensor with quantization parameters: what the quantized
// forms of Add, Concat and the unary ops take (plain 8-bit integers are not).
inline bool is_quantized(const Tensor& tensor) { return is_quantized_dtype(tensor.dtype) && tensor.quant.present(); }

// Rounds to the nearest integer, ties to even, without depending on the
// current rounding mode or on libm (firmware): the magic-number addition
// XNNPACK uses. |value| must be below 2^22. (Without -ffast-math the
// compiler may not fold the two additions.)
inline float round_half_even(float value) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (value + kMagic) - kMagic;
}

// Requantization of one output channel: the scale, a fused leaky ReLU's
// slope and the clamp bounds, already shifted by the output zero point.
// The leaky ReLU is max(v, slope * v), exact for 0 <= slope <= 1 and a
// no-op at slope 1: the same float operations as the int8 GEMM's
// (backends/xnnpack/simd/qgemm_internal.h), so both round alike.
struct Requantize {
  float scale = 1.f;
  float negative_slope = 1.f;
  float low = -128.f;   // lo - y_zp
  float high = 127.f;   // hi - y_zp
  int32_t zero_point = 0;

  int32_t operator()(int32_t acc) const {
    float value = static_cast<float>(acc) * scale;
    const float leaky = value * negative_slope;
    value = leaky > value ? leaky : value;
    value = value < low ? low : value;
    value = value > high ? high : value;
    return static_cast<int32_t>(round_half_even(value)) + zero_point;
  }
};

// The output range [lo, hi] of a quantized op with a fused activation: the
// dtype's range, narrowed by ReLU (real 0 and up) or Clip(min, max); a
// leaky ReLU with a slope in [0, 1] keeps the range and sets the slope.
// Other activations (sigmoid, tanh, SiLU) are rejected: the converter keeps
// them as separate float ops.
Status quantized_output_range(const KernelContext& context, const Tensor& output, QuantizedRange* range);

// Checks a quantized linear op's operands at infer:
//   x:      int8 or uint8 activation, per-tensor quantization;
//   weight: int8 or uint8 (ONNX QLinearConv / ConvInteger weights may be
//           either, with any zero point), per tensor or per slice along
//           `weight_axis` (the output-channel axis); constant where the
//           caller needs it (check_input_constant);
//   bias:   constant int32 [channels] (optional), zero point 0;
//   output: the dtype of x, per-tensor quantization (checked when declared:
//           the converter infers before it knows the output's scale), or
//           int32 when `int32_output` (the accumulator itself, no fused
//           activation).
Status check_quantized_linear(const KernelContext& context, int weight_axis, int64_t channels,
                              bool int32_output = false);

// For kernels whose quantized path takes only symmetric int8 weights
// (ConvTranspose2d): the weight is int8 with every zero point 0.
Status check_symmetric_int8_weight(const KernelContext& context);

// The optional trailing int of a quantized Conv2d, FullyConnected or MatMul
// at `index` (params::kConvInt32Output, ...): 1 when the op outputs its
// int32 accumulator. Checks it is 0 or 1, present only on a quantized op
// (int8/uint8 input 0), and that the op has `index` or `index` + 1 ints.
Status read_int32_output_flag(const KernelContext& context, size_t index, bool* int32_output);

// The zero point of weight slice `channel` (per tensor: the one zero point).
inline int32_t weight_zero_point(const Tensor& w, int64_t channel) {
  return w.quant.zero_point(static_cast<size_t>(channel));
}

// The requantization of output channel `channel` of a linear op with input
// x, weight w and output y, into `range`: scale = x_scale * w_scale[c] / y_scale
// (in that order, in float32, as XNNPACK computes it).
Requantize channel_requantize(const Tensor& x, const Tensor& w, const Tensor& y, int64_t channel,
                              const QuantizedRange& range);

// Quantizes one real value: clamp(round_half_even(value / scale) + zero_point)
// into `range` (ONNX QuantizeLinear; NaN gives the zero point).
int32_t quantize_value(float value, float scale, int32_t zero_point, const QuantizedRange& range);

}  // namespace edgegen
