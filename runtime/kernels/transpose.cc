// Transpose reference kernel: ints = perm, a permutation of 0..rank-1;
// output dim i is input dim perm[i]. Any dtype (elements are moved as bytes);
// rank 0 (an empty perm) copies the scalar. Not in place: the output must
// not alias the input.
#include <cstring>

#include "kernels/kernel_util.h"

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

// Walks the output in order while an odometer over its dims keeps `offset`
// pointing at the matching input element. kSize is the element size, a
// constant so each memcpy compiles to one move.
template <size_t kSize>
void copy_strided(const unsigned char* in, unsigned char* out, const Shape& out_shape, const int64_t* strides) {
  const int rank = out_shape.rank;
  const int64_t count = out_shape.num_elements();
  int64_t index[kMaxRank] = {};
  int64_t offset = 0;
  for (int64_t k = 0; k < count; ++k) {
    std::memcpy(out + k * kSize, in + offset * kSize, kSize);
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < out_shape.dims[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (out_shape.dims[d] - 1);
      index[d] = 0;
    }
  }
}

Status transpose_eval(const KernelContext& context) {
  const Tensor& input = context.input(0);
  Tensor& output = context.output(0);
  int64_t input_strides[kMaxRank];
  contiguous_strides(input.shape, input_strides);
  int64_t strides[kMaxRank];  // input stride of each output dim
  for (int i = 0; i < output.shape.rank; ++i) strides[i] = input_strides[context.int_param(static_cast<size_t>(i))];

  const auto* in = static_cast<const unsigned char*>(input.data);
  auto* out = static_cast<unsigned char*>(output.data);
  switch (dtype_size(input.dtype)) {
    case 1: copy_strided<1>(in, out, output.shape, strides); break;
    case 2: copy_strided<2>(in, out, output.shape, strides); break;
    case 4: copy_strided<4>(in, out, output.shape, strides); break;
    case 8: copy_strided<8>(in, out, output.shape, strides); break;
    default: return op_error(context, StatusCode::kInternal, "unexpected element size");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kTransposeKernel = {transpose_infer, transpose_eval};

}  // namespace edgegen
