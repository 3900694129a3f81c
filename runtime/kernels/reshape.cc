// Reshape reference kernel: ints = the output shape, every dim explicit and
// >= 0 (the converter resolves ONNX's 0 and -1), with the same element count
// as the input. Any dtype; the output is a byte copy, made with memmove so
// the output may alias the input.
#include <cstring>

#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

Status reshape_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  if (context.attributes.num_floats != 0)
    return op_error(context, StatusCode::kInvalidModel, "has %zu float attributes, expected 0",
                    context.attributes.num_floats);
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  const Tensor& input = context.input(0);
  if (dtype_size(input.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", input.name);
  const size_t rank = context.attributes.num_ints;
  if (rank > static_cast<size_t>(kMaxRank))
    return op_error(context, StatusCode::kInvalidModel, "output rank %zu exceeds %d", rank, kMaxRank);

  Shape shape;
  shape.rank = static_cast<int>(rank);
  const int64_t input_count = input.shape.num_elements();
  // Count the output's elements, stopping once past the input's count so a
  // product of huge dims cannot overflow.
  int64_t count = 1;
  bool has_zero = false;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t dim = context.int_param(i);
    if (dim < 0)
      return op_error(context, StatusCode::kInvalidModel, "output dim %zu is %lld, expected >= 0", i,
                      static_cast<long long>(dim));
    shape.dims[i] = dim;
    if (dim == 0) has_zero = true;
    else if (count <= input_count) count = dim > input_count / count ? input_count + 1 : count * dim;
  }
  if (has_zero) count = 0;
  if (count != input_count) {
    char in_text[96], out_text[96];
    return op_error(context, StatusCode::kInvalidModel, "cannot reshape '%s' %s to %s: element counts differ",
                    input.name, format_shape(input.shape, in_text, sizeof in_text),
                    format_shape(shape, out_text, sizeof out_text));
  }
  return set_output(context, 0, input.dtype, shape);
}

Status reshape_eval(const KernelContext& context) {
  const Tensor& input = context.input(0);
  Tensor& output = context.output(0);
  const size_t bytes = input.bytes();
  if (bytes != 0 && output.data != input.data) std::memmove(output.data, input.data, bytes);
  return Status::ok();
}

}  // namespace

extern const Kernel kReshapeKernel = {reshape_infer, reshape_eval};

}  // namespace edgegen
