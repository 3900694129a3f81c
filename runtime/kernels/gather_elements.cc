// GatherElements (ONNX): out[i][j][k] = data[index[i][j][k]][j][k] (axis 0;
// likewise for any axis); ints {axis}, already normalized. data f32, i32 or
// i64; indices int32 or int64 of data's rank, negative counting from the end.
// Indices are run-time data: one out of range fails the run with a message
// (never a read outside the tensor). Spline flows gather each input's bin
// parameters with it (Durkan et al. 2019).
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status gather_elements_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  if (data.dtype != DType::kFloat32 && data.dtype != DType::kInt32 && data.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "data '%s' is %s, expected float32, int32 or int64", data.name,
                    dtype_name(data.dtype));
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "indices '%s' are %s, expected int32 or int64", indices.name,
                    dtype_name(indices.dtype));
  const int64_t axis = context.int_param(kAxis);
  if (data.shape.rank < 1 || indices.shape.rank != data.shape.rank || axis < 0 || axis >= data.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "indices must have data's rank %d and axis %lld be in range",
                    data.shape.rank, static_cast<long long>(axis));
  for (int d = 0; d < data.shape.rank; ++d)
    if (d != axis && indices.shape.dims[d] > data.shape.dims[d])
      return op_error(context, StatusCode::kInvalidModel, "indices dimension %d (%lld) exceeds data's (%lld)", d,
                      static_cast<long long>(indices.shape.dims[d]), static_cast<long long>(data.shape.dims[d]));
  return set_output(context, 0, data.dtype, indices.shape);
}

template <typename Index>
Status gather_elements(const KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  const int axis = static_cast<int>(context.int_param(kAxis));
  const int rank = data.shape.rank;
  int64_t data_strides[kMaxRank];
  contiguous_strides(data.shape, data_strides);
  const size_t element = dtype_size(data.dtype);
  const uint8_t* in = data.data_as<const uint8_t>();
  uint8_t* out = context.output(0).data_as<uint8_t>();
  const Index* index = indices.data_as<const Index>();
  const int64_t count = indices.shape.num_elements();
  const int64_t dim = data.shape.dims[axis];
  int64_t position[kMaxRank] = {};
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = static_cast<int64_t>(index[i]);
    if (value < 0) value += dim;
    if (value < 0 || value >= dim)
      return op_error(context, StatusCode::kInvalidArgument, "index %lld at element %lld is out of range [-%lld, %lld)",
                      static_cast<long long>(index[i]), static_cast<long long>(i), static_cast<long long>(dim),
                      static_cast<long long>(dim));
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d) offset += (d == axis ? value : position[d]) * data_strides[d];
    std::memcpy(out + i * element, in + offset * element, element);
    for (int d = rank - 1; d >= 0; --d) {
      if (++position[d] < indices.shape.dims[d]) break;
      position[d] = 0;
    }
  }
  return Status::ok();
}

Status gather_elements_eval(const KernelContext& context) {
  return context.input(1).dtype == DType::kInt32 ? gather_elements<int32_t>(context) : gather_elements<int64_t>(context);
}

}  // namespace

extern const Kernel kGatherElementsKernel = {gather_elements_infer, gather_elements_eval};

}  // namespace edgegen
