// Transpose reference kernel: ints = perm, a permutation of 0..rank-1;
// output dim i is input dim perm[i]. Any dtype (elements are moved as bytes);
// rank 0 (an empty perm) copies the scalar. Not in place: the output must
// not alias the input.
#include <cstring>

#include "kernels/kernel_util.h"
#include "kernels/strided_copy.h"

namespace edgegen {
namespace {

Status transpose_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  const Tensor& input = context.input(0);
  const int rank = input.shape.rank;
  EG_RETURN_IF_ERROR(check_attribute_counts(context, static_cast<size_t>(rank), 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  if (dtype_size(input.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", input.name);

  bool seen[kMaxRank] = {};
  Shape shape;
  shape.rank = rank;
  for (int i = 0; i < rank; ++i) {
    const int64_t axis = context.int_param(static_cast<size_t>(i));
    if (axis < 0 || axis >= rank || seen[axis])
      return op_error(context, StatusCode::kInvalidModel,
                      "perm[%d] = %lld: perm must be a permutation of 0..%d for input '%s'", i,
                      static_cast<long long>(axis), rank - 1, input.name);
    seen[axis] = true;
    shape.dims[i] = input.shape.dims[axis];
  }
  return set_output(context, 0, input.dtype, shape);
}

Status transpose_eval(const KernelContext& context) {
  const Tensor& input = context.input(0);
  Tensor& output = context.output(0);
  int64_t input_strides[kMaxRank];
  contiguous_strides(input.shape, input_strides);
  int64_t strides[kMaxRank];  // input stride of each output dim
  for (int i = 0; i < output.shape.rank; ++i) strides[i] = input_strides[context.int_param(static_cast<size_t>(i))];

  const size_t size = dtype_size(input.dtype);
  if (size != 1 && size != 2 && size != 4 && size != 8)
    return op_error(context, StatusCode::kInternal, "unexpected element size");
  copy_strided(input.data, 0, output.data, output.shape, strides, size);
  return Status::ok();
}

}  // namespace

extern const Kernel kTransposeKernel = {transpose_infer, transpose_eval};

}  // namespace edgegen
