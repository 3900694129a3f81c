// Gather reference kernel (ONNX Gather): inputs {data (any dtype, rank >= 1),
// indices (int32 or int64, any shape)}, ints {axis}. The output shape is
// data.shape[:axis] + indices.shape + data.shape[axis+1:]; an index i in
// [-n, n) picks slice i (negative ones count from the end, i + n). Indices
// are checked in infer when they are a constant and always in eval, which
// fails with an error naming the bad index rather than read out of bounds.
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

enum Input : size_t { kData = 0, kIndices = 1 };

int64_t index_at(const Tensor& indices, size_t i) {
  return indices.dtype == DType::kInt64 ? indices.data_as<const int64_t>()[i]
                                        : static_cast<int64_t>(indices.data_as<const int32_t>()[i]);
}

// Every index must be in [-length, length). `code` says who is at fault: the
// model for a constant index, the input data for a computed one.
Status check_indices(const KernelContext& context, const Tensor& indices, int64_t length, int64_t axis,
                     StatusCode code) {
  const size_t count = indices.num_elements();
  for (size_t i = 0; i < count; ++i) {
    const int64_t index = index_at(indices, i);
    if (index < -length || index >= length)
      return op_error(context, code,
                      "index %lld at position %zu of '%s' is out of range for axis %lld of length %lld",
                      static_cast<long long>(index), i, indices.name, static_cast<long long>(axis),
                      static_cast<long long>(length));
  }
  return Status::ok();
}

Status gather_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  const Tensor& data = context.input(kData);
  const Tensor& indices = context.input(kIndices);
  if (dtype_size(data.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", data.name);
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64)
    return op_error(context, StatusCode::kInvalidModel, "indices '%s' are %s, expected int32 or int64",
                    indices.name, dtype_name(indices.dtype));
  EG_RETURN_IF_ERROR(check_input_rank(context, kData, 1, kMaxRank));
  const int64_t axis = context.int_param(params::kAxis);
  if (axis < 0 || axis >= data.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for data '%s' of rank %d",
                    static_cast<long long>(axis), data.name, data.shape.rank);
  const int rank = data.shape.rank - 1 + indices.shape.rank;
  if (rank > kMaxRank)
    return op_error(context, StatusCode::kInvalidModel, "output rank %d exceeds %d", rank, kMaxRank);

  if (indices.data != nullptr)
    EG_RETURN_IF_ERROR(check_indices(context, indices, data.shape.dims[axis], axis, StatusCode::kInvalidModel));

  Shape shape;
  shape.rank = rank;
  int out = 0;
  for (int d = 0; d < axis; ++d) shape.dims[out++] = data.shape.dims[d];
  for (int d = 0; d < indices.shape.rank; ++d) shape.dims[out++] = indices.shape.dims[d];
  for (int d = static_cast<int>(axis) + 1; d < data.shape.rank; ++d) shape.dims[out++] = data.shape.dims[d];
  return set_output(context, 0, data.dtype, shape);
}

Status gather_eval(const KernelContext& context) {
  const Tensor& data = context.input(kData);
  const Tensor& indices = context.input(kIndices);
  Tensor& output = context.output(0);
  const int axis = static_cast<int>(context.int_param(params::kAxis));
  const int64_t length = data.shape.dims[axis];
  EG_RETURN_IF_ERROR(check_indices(context, indices, length, axis, StatusCode::kInvalidArgument));
  if (output.num_elements() == 0) return Status::ok();

  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= data.shape.dims[d];
  size_t block = dtype_size(data.dtype);  // bytes of one slice along axis
  for (int d = axis + 1; d < data.shape.rank; ++d) block *= static_cast<size_t>(data.shape.dims[d]);
  const size_t count = indices.num_elements();

  const auto* in = static_cast<const unsigned char*>(data.data);
  auto* out = static_cast<unsigned char*>(output.data);
  for (int64_t o = 0; o < outer; ++o) {
    const unsigned char* row = in + static_cast<size_t>(o * length) * block;
    for (size_t i = 0; i < count; ++i) {
      int64_t index = index_at(indices, i);
      if (index < 0) index += length;
      std::memcpy(out, row + static_cast<size_t>(index) * block, block);
      out += block;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kGatherKernel = {gather_infer, gather_eval};

}  // namespace edgegen
