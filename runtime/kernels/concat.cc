// Concat reference kernel: ints {axis}; 1..n inputs of one dtype (any) and
// rank >= 1, equal in every dim except `axis`. An input may be empty
// (e.g. zero along `axis`); it then contributes nothing. Inputs are copied
// as byte blocks; the output must not alias an input.
//
// Quantized int8/uint8 inputs (each per tensor) into a quantized output: an
// input of the output's scale and zero point is copied, another is
// requantized on the way (kernels/quantized_add.h), as a UNet's skip
// connection and upsampled path meet in int8.
#include <cstdint>
#include <cstring>

#include "kernels/kernel_util.h"
#include "kernels/quantized_add.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

Status concat_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, SIZE_MAX, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  for (size_t i = 1; i < context.num_inputs; ++i)
    if (!context.has_input(i)) return op_error(context, StatusCode::kInvalidModel, "input %zu is missing", i);

  const Tensor& first = context.input(0);
  if (dtype_size(first.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", first.name);
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 1, kMaxRank));
  const int rank = first.shape.rank;
  const int64_t axis = context.int_param(params::kAxis);
  if (axis < 0 || axis >= rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for inputs of rank %d",
                    static_cast<long long>(axis), rank);

  Shape shape = first.shape;
  for (size_t i = 1; i < context.num_inputs; ++i) {
    EG_RETURN_IF_ERROR(check_input_dtype(context, i, first.dtype));
    const Tensor& input = context.input(i);
    bool matches = input.shape.rank == rank;
    for (int d = 0; matches && d < rank; ++d) matches = d == axis || input.shape.dims[d] == first.shape.dims[d];
    if (!matches) {
      char text[96], first_text[96];
      return op_error(context, StatusCode::kInvalidModel,
                      "input %zu '%s' has shape %s, which does not match input 0 %s outside axis %lld", i,
                      input.name, format_shape(input.shape, text, sizeof text),
                      format_shape(first.shape, first_text, sizeof first_text), static_cast<long long>(axis));
    }
    const int64_t dim = input.shape.dims[axis];
    if (dim > INT64_MAX - shape.dims[axis])
      return op_error(context, StatusCode::kInvalidModel, "output would be too large");
    shape.dims[axis] += dim;
  }
  EG_RETURN_IF_ERROR(set_output(context, 0, first.dtype, shape));
  if (!is_quantized(first)) return Status::ok();
  for (size_t i = 0; i < context.num_inputs; ++i)
    if (!context.input(i).quant.per_tensor())
      return op_error(context, StatusCode::kInvalidModel,
                      "quantized input %zu '%s' needs one scale and zero point (per-tensor quantization)", i,
                      context.input(i).name);
  const Tensor& y = context.output(0);
  if (!y.quant.present()) return Status::ok();  // the converter's infer, before it declares the output's scale
  if (!y.quant.per_tensor())
    return op_error(context, StatusCode::kInvalidModel,
                    "output '%s' needs one scale and zero point (per-tensor quantization)", y.name);
  for (size_t i = 0; i < context.num_inputs; ++i) {
    QuantizedAdd requantize;
    if (!make_quantized_requantize(context.input(i).quant.scale(), context.input(i).quant.zero_point(),
                                   y.quant.scale(), y.quant.zero_point(), quantized_range(y.dtype), &requantize))
      return op_error(context, StatusCode::kInvalidModel,
                      "input %zu '%s' has scale %g, 2^14 times output '%s''s %g or more", i, context.input(i).name,
                      static_cast<double>(context.input(i).quant.scale()), y.name,
                      static_cast<double>(y.quant.scale()));
  }
  return Status::ok();
}

Status concat_eval(const KernelContext& context) {
  Tensor& output = context.output(0);
  const int axis = static_cast<int>(context.int_param(params::kAxis));
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= output.shape.dims[d];
  size_t inner_bytes = dtype_size(output.dtype);
  for (int d = axis + 1; d < output.shape.rank; ++d) inner_bytes *= static_cast<size_t>(output.shape.dims[d]);
  if (output.bytes() == 0) return Status::ok();

  // Each outer index owns one row of the output: the inputs' blocks in order.
  auto* out = static_cast<unsigned char*>(output.data);
  const bool is_int8 = output.dtype == DType::kInt8;
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < context.num_inputs; ++i) {
      const Tensor& input = context.input(i);
      const size_t block = static_cast<size_t>(input.shape.dims[axis]) * inner_bytes;
      if (block == 0) continue;
      const unsigned char* in = static_cast<const unsigned char*>(input.data) + static_cast<size_t>(o) * block;
      QuantizedAdd requantize;
      if (copied_as_is(input, output, &requantize)) {
        std::memcpy(out, in, block);
      } else {  // one byte per value
        for (size_t k = 0; k < block; ++k)
          out[k] = static_cast<unsigned char>(
              requantize(is_int8 ? static_cast<int32_t>(static_cast<signed char>(in[k])) : in[k], 0));
      }
      out += block;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kConcatKernel = {concat_infer, concat_eval};

}  // namespace edgegen
