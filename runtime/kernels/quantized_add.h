// The arithmetic of Add on int8/uint8 tensors (ONNX Runtime's QLinearAdd, a
// QDQ model's DQ -> Add -> Q), shared by the reference kernel and the fast
// path (backends/xnnpack/simd/quantized_add.h) so that both give the same bits.
//
// A residual connection or a timestep embedding between two int8
// convolutions, run in float, is two dequantizes, the add and a quantize.
// Here it is one pass in integers:
//   y_q = clamp(((a_q * m_a + b_q * m_b + bias) >> shift) + y_zp, lo, hi)
// with m_a = round(a_scale / y_scale * 2^shift), m_b likewise, and
// bias = 2^(shift-1) - a_zp * m_a - b_zp * m_b (the zero points and the
// rounding, half up, folded in). The shift is the largest (<= 30) that keeps
// both multipliers below 2^15: every term fits int32, and a vector unit sums
// both products of a pair of 16-bit lanes in one instruction (x86
// vpmaddwd), so every path computes the same bits; the result is within one
// step of the real sum. Integers, not float, because the vectorized and
// scalar forms must agree exactly with no care for multiply-add contraction.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/quantization.h"

namespace edgegen {

struct QuantizedAdd {
  int32_t a_multiplier = 0;
  int32_t b_multiplier = 0;
  int32_t bias = 0;
  int32_t shift = 0;
  int32_t zero_point = 0;  // the output's
  int32_t min = -128;      // the output range, a fused ReLU / Clip included
  int32_t max = 127;

  int32_t operator()(int32_t a, int32_t b) const {
    int32_t value = ((bias + a * a_multiplier + b * b_multiplier) >> shift) + zero_point;
    value = value < min ? min : value;
    return value > max ? max : value;
  }
};

// False when the scales are not positive and finite, or an input's scale is
// 2^14 times the output's or more (no such output can hold the sum).
inline bool make_quantized_add(float a_scale, int32_t a_zero, float b_scale, int32_t b_zero, float y_scale,
                               int32_t y_zero, const QuantizedRange& range, QuantizedAdd* add) {
  if (!(a_scale > 0.f && b_scale > 0.f && y_scale > 0.f) || !std::isfinite(a_scale) || !std::isfinite(b_scale) ||
      !std::isfinite(y_scale))
    return false;
  const double ra = static_cast<double>(a_scale) / y_scale, rb = static_cast<double>(b_scale) / y_scale;
  const double largest = ra > rb ? ra : rb;
  constexpr double kMultiplierLimit = 32768.0;  // 2^15: int16 lanes
  int shift = 30;
  while (shift > 1 && largest * std::ldexp(1.0, shift) >= kMultiplierLimit) --shift;
  if (largest * std::ldexp(1.0, shift) >= kMultiplierLimit) return false;
  add->shift = shift;
  add->a_multiplier = static_cast<int32_t>(std::nearbyint(std::ldexp(ra, shift)));
  add->b_multiplier = static_cast<int32_t>(std::nearbyint(std::ldexp(rb, shift)));
  add->bias = (int32_t{1} << (shift - 1)) - a_zero * add->a_multiplier - b_zero * add->b_multiplier;
  add->zero_point = y_zero;
  add->min = range.min;
  add->max = range.max;
  return true;
}

// Requantization of one int8 tensor to another scale and zero point (a
// Concat's input into its output): the Add of that tensor and nothing,
// add(q, 0) with the second multiplier 0. The same bounds as
// make_quantized_add.
inline bool make_quantized_requantize(float x_scale, int32_t x_zero, float y_scale, int32_t y_zero,
                                      const QuantizedRange& range, QuantizedAdd* requantize) {
  if (!make_quantized_add(x_scale, x_zero, x_scale, 0, y_scale, y_zero, range, requantize)) return false;
  requantize->b_multiplier = 0;
  return true;
}

// How a Concat moves quantized input `x` into its output `y`: true when its
// bytes are copied (y has x's scale and zero point, or either is not
// quantized), else false with `requantize` (its bounds checked at infer).
inline bool copied_as_is(const Tensor& x, const Tensor& y, QuantizedAdd* requantize) {
  if (!is_quantized(x) || !y.quant.present()) return true;
  if (x.quant.scale() == y.quant.scale() && x.quant.zero_point() == y.quant.zero_point()) return true;
  make_quantized_requantize(x.quant.scale(), x.quant.zero_point(), y.quant.scale(), y.quant.zero_point(),
                            quantized_range(y.dtype), requantize);
  return false;
}

// The Add of a quantized op's operands (input 0, input 1, output 0 and its
// fused activation), as checked by the Add kernel's infer.
inline Status quantized_add_of(const KernelContext& context, QuantizedAdd* add) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  const Tensor& y = context.output(0);
  if (!y.quant.present())
    return op_error(context, StatusCode::kInvalidModel, "%s output '%s' has no quantization", dtype_name(y.dtype),
                    y.name);
  QuantizedRange range;
  EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  if (!make_quantized_add(a.quant.scale(), a.quant.zero_point(), b.quant.scale(), b.quant.zero_point(), y.quant.scale(),
                          y.quant.zero_point(), range, add))
    return op_error(context, StatusCode::kInvalidModel,
                    "input scales %g and %g are 2^14 times output '%s''s scale %g or more: no int8 sum fits",
                    static_cast<double>(a.quant.scale()), static_cast<double>(b.quant.scale()), y.name,
                    static_cast<double>(y.quant.scale()));
  return Status::ok();
}

}  // namespace edgegen
