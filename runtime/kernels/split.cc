// Split reference kernel: ints {axis, size_0, size_1, ...}; output i takes
// size_i consecutive slices along `axis`. Sizes are >= 0 (zero-size outputs
// are allowed) and sum to the axis length. Any dtype, input rank >= 1; the
// outputs must not alias the input.
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

constexpr size_t kFirstSize = 1;  // int_params index of size_0

Status split_infer(KernelContext& context) {
  if (context.attributes.num_ints < kFirstSize + 1)
    return op_error(context, StatusCode::kInvalidModel, "has %zu integer attributes, expected {axis, sizes...}",
                    context.attributes.num_ints);
  const size_t parts = context.attributes.num_ints - kFirstSize;
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, parts));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, context.attributes.num_ints, 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  const Tensor& input = context.input(0);
  if (dtype_size(input.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", input.name);
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 1, kMaxRank));
  const int64_t axis = context.int_param(params::kAxis);
  if (axis < 0 || axis >= input.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for input '%s' of rank %d",
                    static_cast<long long>(axis), input.name, input.shape.rank);

  const int64_t length = input.shape.dims[axis];
  int64_t total = 0;
  for (size_t i = 0; i < parts; ++i) {
    const int64_t size = context.int_param(kFirstSize + i);
    if (size < 0 || size > length - total)
      return op_error(context, StatusCode::kInvalidModel,
                      "size %zu is %lld: sizes must be >= 0 and sum to %lld, the length of axis %lld", i,
                      static_cast<long long>(size), static_cast<long long>(length), static_cast<long long>(axis));
    total += size;
    Shape shape = input.shape;
    shape.dims[axis] = size;
    EG_RETURN_IF_ERROR(set_output(context, i, input.dtype, shape));
  }
  if (total != length)
    return op_error(context, StatusCode::kInvalidModel, "sizes sum to %lld, but axis %lld of '%s' has length %lld",
                    static_cast<long long>(total), static_cast<long long>(axis), input.name,
                    static_cast<long long>(length));
  return Status::ok();
}

Status split_eval(const KernelContext& context) {
  const Tensor& input = context.input(0);
  const int axis = static_cast<int>(context.int_param(params::kAxis));
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= input.shape.dims[d];
  size_t inner_bytes = dtype_size(input.dtype);
  for (int d = axis + 1; d < input.shape.rank; ++d) inner_bytes *= static_cast<size_t>(input.shape.dims[d]);
  if (input.bytes() == 0) return Status::ok();

  // Each outer index owns one row of the input: the outputs' blocks in order.
  const auto* in = static_cast<const unsigned char*>(input.data);
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < context.num_outputs; ++i) {
      const size_t block = static_cast<size_t>(context.int_param(kFirstSize + i)) * inner_bytes;
      if (block == 0) continue;
      std::memcpy(static_cast<unsigned char*>(context.output(i).data) + static_cast<size_t>(o) * block, in, block);
      in += block;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kSplitKernel = {split_infer, split_eval};

}  // namespace edgegen
