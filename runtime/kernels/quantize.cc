// QuantizeLinear and DequantizeLinear: the precision boundaries of a
// quantized model, with the scales and zero points of the quantized tensor
// (per tensor, or per slice along its axis).
//   quantize:   q = clamp(round_half_even(x / scale) + zero_point)   (ONNX QuantizeLinear)
//   dequantize: x = (q - zero_point) * scale                          (ONNX DequantizeLinear)
#include "kernels/quantization.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

// The quantized tensor's parameters must fit its shape: one pair, or one
// per slice along an axis inside the rank.
Status check_quantized_tensor(const KernelContext& context, const Tensor& tensor) {
  const Quantization& quant = tensor.quant;
  if (!quant.present())
    return op_error(context, StatusCode::kInvalidModel, "tensor '%s' has no scale and zero point", tensor.name);
  if (quant.per_tensor()) return Status::ok();
  if (quant.axis < 0 || quant.axis >= tensor.shape.rank ||
      tensor.shape.dims[quant.axis] != static_cast<int64_t>(quant.count))
    return op_error(context, StatusCode::kInvalidModel,
                    "tensor '%s' has %u scales along axis %d, which does not match its shape", tensor.name,
                    quant.count, quant.axis);
  return Status::ok();
}

// Elements per slice along the quantized axis (1 for per-tensor).
size_t inner_size(const Tensor& tensor) {
  if (tensor.quant.per_tensor()) return tensor.num_elements() ? tensor.num_elements() : 1;
  size_t inner = 1;
  for (int d = tensor.quant.axis + 1; d < tensor.shape.rank; ++d) inner *= static_cast<size_t>(tensor.shape.dims[d]);
  return inner;
}

Status quantize_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  const int64_t to = context.int_param(params::kQuantizeTo);
  if (to != static_cast<int64_t>(DType::kInt8) && to != static_cast<int64_t>(DType::kUInt8))
    return op_error(context, StatusCode::kUnsupportedOp, "quantizes to dtype %lld; only int8 and uint8 are supported",
                    static_cast<long long>(to));
  Tensor& y = context.output(0);
  if (y.quant.present()) {  // declared (at load); the converter infers before it sets it
    Tensor declared = y;
    declared.shape = context.input(0).shape;
    EG_RETURN_IF_ERROR(check_quantized_tensor(context, declared));
  }
  return set_output(context, 0, static_cast<DType>(to), context.input(0).shape);
}

template <typename T>
void quantize_values(const float* x, const Tensor& y, T* out) {
  const QuantizedRange range = quantized_range(y.dtype);
  const size_t count = y.num_elements(), inner = inner_size(y);
  const size_t channels = y.quant.per_tensor() ? 1 : y.quant.count;
  for (size_t i = 0; i < count; ++i) {
    const size_t channel = (i / inner) % channels;
    out[i] = static_cast<T>(quantize_value(x[i], y.quant.scale(channel), y.quant.zero_point(channel), range));
  }
}

Status quantize_eval(const KernelContext& context) {
  const float* x = context.input(0).data_as<const float>();
  const Tensor& y = context.output(0);
  if (y.dtype == DType::kUInt8)
    quantize_values(x, y, y.data_as<uint8_t>());
  else
    quantize_values(x, y, y.data_as<int8_t>());
  return Status::ok();
}

Status dequantize_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& x = context.input(0);
  if (!is_quantized_dtype(x.dtype) && x.dtype != DType::kInt32)
    return op_error(context, StatusCode::kInvalidModel, "input '%s' is %s; expected int8, uint8 or int32", x.name,
                    dtype_name(x.dtype));
  EG_RETURN_IF_ERROR(check_quantized_tensor(context, x));
  return set_output(context, 0, DType::kFloat32, x.shape);
}

template <typename T>
void dequantize_values(const Tensor& x, float* out) {
  const T* q = x.data_as<const T>();
  const size_t count = x.num_elements(), inner = inner_size(x);
  const size_t channels = x.quant.per_tensor() ? 1 : x.quant.count;
  for (size_t i = 0; i < count; ++i) {
    const size_t channel = (i / inner) % channels;
    // In int64: an int32 minus its zero point can overflow int32.
    const int64_t centered = static_cast<int64_t>(q[i]) - x.quant.zero_point(channel);
    out[i] = static_cast<float>(centered) * x.quant.scale(channel);
  }
}

Status dequantize_eval(const KernelContext& context) {
  const Tensor& x = context.input(0);
  float* out = context.output(0).data_as<float>();
  switch (x.dtype) {
    case DType::kUInt8: dequantize_values<uint8_t>(x, out); break;
    case DType::kInt8: dequantize_values<int8_t>(x, out); break;
    default: dequantize_values<int32_t>(x, out); break;
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kQuantizeLinearKernel = {quantize_infer, quantize_eval};
extern const Kernel kDequantizeLinearKernel = {dequantize_infer, dequantize_eval};

}  // namespace edgegen
