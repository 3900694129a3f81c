// Concat reference kernel: ints {axis}; 1..n inputs of one dtype (any) and
// rank >= 1, equal in every dim except `axis`. An input may be empty
// (e.g. zero along `axis`); it then contributes nothing. Inputs are copied
// as byte blocks; the output must not alias an input.
#include <cstdint>
#include <cstring>

#include "kernels/kernel_util.h"
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
  return set_output(context, 0, first.dtype, shape);
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
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < context.num_inputs; ++i) {
      const Tensor& input = context.input(i);
      const size_t block = static_cast<size_t>(input.shape.dims[axis]) * inner_bytes;
      if (block == 0) continue;
      std::memcpy(out, static_cast<const unsigned char*>(input.data) + static_cast<size_t>(o) * block, block);
      out += block;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kConcatKernel = {concat_infer, concat_eval};

}  // namespace edgegen
