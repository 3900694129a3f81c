// FullyConnected: y[..., n] = act(sum_k x[..., k] * weight[n, k] + bias[n]).
#include "kernels/kernel_util.h"
#include "kernels/quantization.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

Status fully_connected_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 3, 1));
  bool int32_output = false;
  EG_RETURN_IF_ERROR(read_int32_output_flag(context, params::kFullyConnectedInt32Output, &int32_output));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, context.attributes.num_ints, 0));
  const uint32_t activation = static_cast<uint32_t>(context.attributes.activation.kind);
  if (activation > static_cast<uint32_t>(ActivationKind::kSilu))
    return op_error(context, StatusCode::kInvalidModel, "unknown fused activation %u", activation);
  const bool quantized = is_quantized_dtype(context.input(0).dtype);
  if (!quantized) {
    EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
    EG_RETURN_IF_ERROR(check_input_dtype(context, 1, DType::kFloat32));
  }
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 1, kMaxRank));
  EG_RETURN_IF_ERROR(check_input_rank(context, 1, 2, 2));

  const Tensor& x = context.input(0);
  const Tensor& weight = context.input(1);
  const int64_t depth = x.shape.dims[x.shape.rank - 1];
  const int64_t units = weight.shape.dims[0];
  if (weight.shape.dims[1] != depth) {
    char xs[96], ws[96];
    return op_error(context, StatusCode::kInvalidModel,
                    "weight '%s' %s does not match input '%s' %s (expected [N, %lld])", weight.name,
                    format_shape(weight.shape, ws, sizeof ws), x.name, format_shape(x.shape, xs, sizeof xs),
                    static_cast<long long>(depth));
  }
  if (quantized) {
    EG_RETURN_IF_ERROR(check_quantized_linear(context, 0, units, int32_output));
  } else if (context.has_input(2)) {
    EG_RETURN_IF_ERROR(check_input_dtype(context, 2, DType::kFloat32));
    EG_RETURN_IF_ERROR(check_input_rank(context, 2, 1, 1));
    const Tensor& bias = context.input(2);
    if (bias.shape.dims[0] != units)
      return op_error(context, StatusCode::kInvalidModel, "bias '%s' has %lld elements, expected %lld", bias.name,
                      static_cast<long long>(bias.shape.dims[0]), static_cast<long long>(units));
  }
  Shape out = x.shape;
  out.dims[out.rank - 1] = units;
  return set_output(context, 0, int32_output ? DType::kInt32 : quantized ? x.dtype : DType::kFloat32, out);
}

// x of type T, weight of type W; the output requantized to T, or (int32
// output) the accumulator itself.
template <typename T, typename W>
Status fully_connected_eval_quantized(const KernelContext& context) {
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const Tensor& y = context.output(0);
  const bool int32_output = y.dtype == DType::kInt32;
  const int32_t* bias = context.has_input(2) ? context.input(2).data_as<const int32_t>() : nullptr;
  QuantizedRange range;
  if (!int32_output) EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  const int64_t depth = x.shape.dims[x.shape.rank - 1];
  const int64_t units = w.shape.dims[0];
  int64_t rows = 1;
  for (int i = 0; i + 1 < x.shape.rank; ++i) rows *= x.shape.dims[i];
  const int32_t x_zero = x.quant.zero_point();
  for (int64_t unit = 0; unit < units; ++unit) {
    const W* w_row = w.data_as<const W>() + unit * depth;
    const int32_t w_zero = weight_zero_point(w, unit);
    const Requantize requantize = int32_output ? Requantize{} : channel_requantize(x, w, y, unit, range);
    for (int64_t row = 0; row < rows; ++row) {
      const T* x_row = x.data_as<const T>() + row * depth;
      int32_t acc = bias ? bias[unit] : 0;
      for (int64_t k = 0; k < depth; ++k)
        acc += (static_cast<int32_t>(x_row[k]) - x_zero) * (static_cast<int32_t>(w_row[k]) - w_zero);
      if (int32_output)
        y.data_as<int32_t>()[row * units + unit] = acc;
      else
        y.data_as<T>()[row * units + unit] = static_cast<T>(requantize(acc));
    }
  }
  return Status::ok();
}

template <typename T>
Status fully_connected_eval_quantized_input(const KernelContext& context) {
  return context.input(1).dtype == DType::kUInt8 ? fully_connected_eval_quantized<T, uint8_t>(context)
                                                 : fully_connected_eval_quantized<T, int8_t>(context);
}

Status fully_connected_eval(const KernelContext& context) {
  if (context.input(0).dtype == DType::kInt8) return fully_connected_eval_quantized_input<int8_t>(context);
  if (context.input(0).dtype == DType::kUInt8) return fully_connected_eval_quantized_input<uint8_t>(context);
  const Tensor& x = context.input(0);
  const Tensor& weight = context.input(1);
  const float* input = x.data_as<const float>();
  const float* weights = weight.data_as<const float>();
  const float* bias = context.has_input(2) ? context.input(2).data_as<const float>() : nullptr;
  float* output = context.output(0).data_as<float>();
  const FusedActivation& act = context.attributes.activation;

  const int64_t depth = x.shape.dims[x.shape.rank - 1];
  const int64_t units = weight.shape.dims[0];
  int64_t rows = 1;
  for (int i = 0; i + 1 < x.shape.rank; ++i) rows *= x.shape.dims[i];

  // Both x rows and weight rows are contiguous in k: each output is one dot product.
  for (int64_t row = 0; row < rows; ++row) {
    const float* x_row = input + row * depth;
    float* y_row = output + row * units;
    for (int64_t unit = 0; unit < units; ++unit) {
      const float* w_row = weights + unit * depth;
      float sum = bias ? bias[unit] : 0.f;
      for (int64_t k = 0; k < depth; ++k) sum += x_row[k] * w_row[k];
      y_row[unit] = apply_activation(sum, act);
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kFullyConnectedKernel = {fully_connected_infer, fully_connected_eval};

}  // namespace edgegen
