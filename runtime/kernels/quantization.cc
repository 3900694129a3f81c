#include "kernels/quantization.h"

namespace edgegen {
namespace {

// A per-tensor quantized activation of an int8/uint8 dtype.
Status check_quantized_activation(const KernelContext& context, const Tensor& tensor, const char* role) {
  if (!is_quantized_dtype(tensor.dtype))
    return op_error(context, StatusCode::kInvalidModel, "%s '%s' is %s; a quantized op takes int8 or uint8", role,
                    tensor.name, dtype_name(tensor.dtype));
  if (!tensor.quant.per_tensor())
    return op_error(context, StatusCode::kInvalidModel,
                    "%s '%s' needs one scale and zero point (per-tensor quantization)", role, tensor.name);
  return Status::ok();
}

bool all_zero_points_zero(const Quantization& quant) {
  for (uint32_t i = 0; i < quant.zero_point_count(); ++i)
    if (quant.zero_points[i] != 0) return false;
  return true;
}

}  // namespace

Status quantized_output_range(const KernelContext& context, const Tensor& output, QuantizedRange* range) {
  *range = quantized_range(output.dtype);
  const FusedActivation& act = context.attributes.activation;
  if (act.kind == ActivationKind::kNone) return Status::ok();
  if (act.kind == ActivationKind::kLeakyRelu) {
    if (!(act.param0 >= 0.f && act.param0 <= 1.f))
      return op_error(context, StatusCode::kUnsupportedOp,
                      "a quantized op can fuse a leaky ReLU with alpha in [0, 1] only (alpha %g): keep it as its own op",
                      static_cast<double>(act.param0));
    range->negative_slope = act.param0;
    return Status::ok();
  }
  if (act.kind != ActivationKind::kRelu && act.kind != ActivationKind::kClip)
    return op_error(context, StatusCode::kUnsupportedOp,
                    "a quantized op can fuse ReLU, leaky ReLU or Clip only (fused activation %u): keep the activation "
                    "as its own op",
                    static_cast<unsigned>(act.kind));
  if (!output.quant.present()) return Status::ok();  // the converter's infer: range checked once declared
  const float scale = output.quant.scale();
  const int32_t zero_point = output.quant.zero_point();
  const float low_real = act.kind == ActivationKind::kRelu ? 0.f : act.param0;
  const float high_real = act.kind == ActivationKind::kRelu ? INFINITY : act.param1;
  if (!(low_real <= high_real))
    return op_error(context, StatusCode::kInvalidModel, "fused Clip has min %g above max %g", low_real, high_real);
  // The quantized bounds; clamped before rounding so that nothing overflows.
  auto to_quantized = [&](float real, int32_t fallback) -> int32_t {
    float q = real / scale + static_cast<float>(zero_point);
    if (q != q) return fallback;
    q = q < -1e6f ? -1e6f : (q > 1e6f ? 1e6f : q);
    return static_cast<int32_t>(round_half_even(q));
  };
  const int32_t low = to_quantized(low_real, range->min);
  const int32_t high = to_quantized(high_real, range->max);
  if (low > range->min) range->min = low < range->max ? low : range->max;
  if (high < range->max) range->max = high > range->min ? high : range->min;
  return Status::ok();
}

Status check_quantized_linear(const KernelContext& context, int weight_axis, int64_t channels, bool int32_output) {
  const Tensor& x = context.input(0);
  const Tensor& weight = context.input(1);
  EG_RETURN_IF_ERROR(check_quantized_activation(context, x, "input"));
  if (!is_quantized_dtype(weight.dtype))
    return op_error(context, StatusCode::kUnsupportedOp, "weight '%s' is %s; quantized weights must be int8 or uint8",
                    weight.name, dtype_name(weight.dtype));
  const bool per_tensor = weight.quant.per_tensor();
  const bool per_channel = weight.quant.axis == weight_axis && weight.quant.count == static_cast<uint64_t>(channels);
  if (!weight.quant.present() || (!per_tensor && !per_channel))
    return op_error(context, StatusCode::kInvalidModel,
                    "weight '%s' needs one scale, or one per output channel along axis %d (%lld)", weight.name,
                    weight_axis, static_cast<long long>(channels));
  if (context.has_input(2)) {
    const Tensor& bias = context.input(2);
    EG_RETURN_IF_ERROR(check_input_constant(context, 2));
    EG_RETURN_IF_ERROR(check_input_dtype(context, 2, DType::kInt32));
    EG_RETURN_IF_ERROR(check_input_rank(context, 2, 1, 1));
    if (bias.shape.dims[0] != channels)
      return op_error(context, StatusCode::kInvalidModel, "bias '%s' has %lld elements, expected %lld", bias.name,
                      static_cast<long long>(bias.shape.dims[0]), static_cast<long long>(channels));
    if (bias.quant.present() && !all_zero_points_zero(bias.quant))
      return op_error(context, StatusCode::kInvalidModel, "bias '%s' must have zero point 0", bias.name);
  }
  const Tensor& y = context.output(0);
  if (int32_output) {
    if (context.attributes.activation.kind != ActivationKind::kNone)
      return op_error(context, StatusCode::kInvalidModel, "an int32 output takes no fused activation");
    if (y.quant.present() && !all_zero_points_zero(y.quant))
      return op_error(context, StatusCode::kInvalidModel, "int32 output '%s' must have zero point 0", y.name);
    return Status::ok();
  }
  if (y.quant.present() && !y.quant.per_tensor())
    return op_error(context, StatusCode::kInvalidModel,
                    "output '%s' needs one scale and zero point (per-tensor quantization)", y.name);
  QuantizedRange range;
  Tensor declared = y;
  declared.dtype = x.dtype;
  return quantized_output_range(context, declared, &range);
}

Status check_symmetric_int8_weight(const KernelContext& context) {
  const Tensor& weight = context.input(1);
  EG_RETURN_IF_ERROR(check_input_constant(context, 1));
  if (weight.dtype != DType::kInt8 || !all_zero_points_zero(weight.quant))
    return op_error(context, StatusCode::kUnsupportedOp,
                    "weight '%s' must be int8 with zero point 0 (symmetric) for this quantized op", weight.name);
  return Status::ok();
}

Status read_int32_output_flag(const KernelContext& context, size_t index, bool* int32_output) {
  *int32_output = false;
  if (context.attributes.num_ints != index && context.attributes.num_ints != index + 1)
    return op_error(context, StatusCode::kInvalidModel, "has %zu int attributes, expected %zu or %zu",
                    context.attributes.num_ints, index, index + 1);
  if (context.attributes.num_ints == index) return Status::ok();
  const int64_t flag = context.int_param(index);
  if (flag != 0 && flag != 1)
    return op_error(context, StatusCode::kInvalidModel, "int32_output = %lld; expected 0 or 1",
                    static_cast<long long>(flag));
  if (!is_quantized_dtype(context.input(0).dtype))
    return op_error(context, StatusCode::kInvalidModel, "has the int32_output attribute, which needs an int8 or uint8 input");
  *int32_output = flag == 1;
  return Status::ok();
}

Requantize channel_requantize(const Tensor& x, const Tensor& w, const Tensor& y, int64_t channel,
                              const QuantizedRange& range) {
  Requantize r;
  r.scale = x.quant.scale() * w.quant.scale(static_cast<size_t>(channel)) / y.quant.scale();
  r.zero_point = y.quant.zero_point();
  r.negative_slope = range.negative_slope;
  r.low = static_cast<float>(range.min - r.zero_point);
  r.high = static_cast<float>(range.max - r.zero_point);
  return r;
}

int32_t quantize_value(float value, float scale, int32_t zero_point, const QuantizedRange& range) {
  float q = value / scale;
  // Clamped before rounding (round_half_even needs |q| < 2^22); NaN -> 0.
  const float low = static_cast<float>(range.min - zero_point), high = static_cast<float>(range.max - zero_point);
  q = q > low ? q : (q == q ? low : 0.f);
  q = q < high ? q : high;
  return static_cast<int32_t>(round_half_even(q)) + zero_point;
}

}  // namespace edgegen
