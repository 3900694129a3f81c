// ScatterND and ScatterElements (ONNX, reduction "none"): out = data with
// the rows (ScatterND) or elements (ScatterElements) that `indices` name
// replaced by `updates`. data and updates f32, i32 or i64 (the same dtype);
// indices int32 or int64, negative counting from the end. No attributes for
// ScatterND; ints {axis} (normalized) for ScatterElements.
//
// In place: when the output is placed on the data input (a token decoder's
// KV cache, converter/memory_plan.cc), the copy of data is skipped and only
// the updated rows are written, so a cache update costs O(rows written),
// not O(cache). Indices are run-time data: one out of range fails the run
// with a message, before anything is written. Duplicate indices: the last
// update wins (ONNX leaves the order undefined).
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status check_scatter_dtypes(KernelContext& context) {
  const Tensor& data = context.input(0);
  if (data.dtype != DType::kFloat32 && data.dtype != DType::kInt32 && data.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "data '%s' is %s, expected float32, int32 or int64", data.name,
                    dtype_name(data.dtype));
  const Tensor& indices = context.input(1);
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "indices '%s' are %s, expected int32 or int64", indices.name,
                    dtype_name(indices.dtype));
  return check_input_dtype(context, 2, data.dtype);
}

int64_t index_value(const Tensor& indices, int64_t i) {
  return indices.dtype == DType::kInt32 ? static_cast<int64_t>(indices.data_as<const int32_t>()[i])
                                        : indices.data_as<const int64_t>()[i];
}

// Copies data to the output unless the output is placed on it.
void copy_data_unless_in_place(const KernelContext& context) {
  const Tensor& data = context.input(0);
  Tensor& out = context.output(0);
  if (out.data != data.data) std::memcpy(out.data, data.data, data.bytes());
}

// --- ScatterND ----------------------------------------------------------------
// indices [..., k] (k <= rank of data); updates = indices.shape[:-1] + data.shape[k:].

Status scatter_nd_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 3, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_scatter_dtypes(context));
  const Shape& data = context.input(0).shape;
  const Shape& indices = context.input(1).shape;
  const Shape& updates = context.input(2).shape;
  if (indices.rank < 1)
    return op_error(context, StatusCode::kInvalidModel, "indices must have rank >= 1, not %d", indices.rank);
  const int64_t k = indices.dims[indices.rank - 1];
  if (k < 1 || k > data.rank)
    return op_error(context, StatusCode::kInvalidModel, "the last dimension of indices (%lld) must be in [1, %d]",
                    static_cast<long long>(k), data.rank);
  const int expected_rank = indices.rank - 1 + data.rank - static_cast<int>(k);
  bool ok = updates.rank == expected_rank;
  for (int d = 0; ok && d < indices.rank - 1; ++d) ok = updates.dims[d] == indices.dims[d];
  for (int d = 0; ok && d < data.rank - static_cast<int>(k); ++d)
    ok = updates.dims[indices.rank - 1 + d] == data.dims[k + d];
  if (!ok)
    return op_error(context, StatusCode::kInvalidModel,
                    "updates '%s' must have shape indices.shape[:-1] + data.shape[%lld:]", context.input(2).name,
                    static_cast<long long>(k));
  return set_output(context, 0, context.input(0).dtype, data);
}

Status scatter_nd_eval(const KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  const Tensor& updates = context.input(2);
  const int64_t k = indices.shape.dims[indices.shape.rank - 1];
  const int64_t rows = indices.shape.num_elements() / (k > 0 ? k : 1);
  int64_t strides[kMaxRank];
  contiguous_strides(data.shape, strides);
  const size_t element = dtype_size(data.dtype);
  const size_t row_bytes = static_cast<size_t>(strides[k - 1]) * element;
  // Check every index before writing: a refused run leaves the output (the
  // cache, in place) as it was.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j) {
      int64_t value = index_value(indices, r * k + j);
      const int64_t dim = data.shape.dims[j];
      if (value < -dim || value >= dim)
        return op_error(context, StatusCode::kInvalidArgument,
                        "index %lld (row %lld, dimension %lld) is out of range [-%lld, %lld)",
                        static_cast<long long>(value), static_cast<long long>(r), static_cast<long long>(j),
                        static_cast<long long>(dim), static_cast<long long>(dim));
    }
  copy_data_unless_in_place(context);
  uint8_t* out = context.output(0).data_as<uint8_t>();
  const uint8_t* source = updates.data_as<const uint8_t>();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t offset = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t value = index_value(indices, r * k + j);
      if (value < 0) value += data.shape.dims[j];
      offset += value * strides[j];
    }
    std::memcpy(out + offset * element, source + r * row_bytes, row_bytes);
  }
  return Status::ok();
}

// --- ScatterElements ------------------------------------------------------------
// indices and updates of one shape, data's rank; out[.., indices[i], ..] = updates[i] along axis.

Status scatter_elements_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 3, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_scatter_dtypes(context));
  const Shape& data = context.input(0).shape;
  const Shape& indices = context.input(1).shape;
  const Shape& updates = context.input(2).shape;
  const int64_t axis = context.int_param(kAxis);
  if (data.rank < 1 || indices.rank != data.rank || axis < 0 || axis >= data.rank)
    return op_error(context, StatusCode::kInvalidModel, "indices must have data's rank %d and axis %lld be in range",
                    data.rank, static_cast<long long>(axis));
  bool same = updates.rank == indices.rank;
  for (int d = 0; same && d < indices.rank; ++d) same = updates.dims[d] == indices.dims[d];
  if (!same)
    return op_error(context, StatusCode::kInvalidModel, "updates '%s' must have the shape of indices '%s'",
                    context.input(2).name, context.input(1).name);
  for (int d = 0; d < data.rank; ++d)
    if (d != axis && indices.dims[d] > data.dims[d])
      return op_error(context, StatusCode::kInvalidModel, "indices dimension %d (%lld) exceeds data's (%lld)", d,
                      static_cast<long long>(indices.dims[d]), static_cast<long long>(data.dims[d]));
  return set_output(context, 0, context.input(0).dtype, data);
}

Status scatter_elements_eval(const KernelContext& context) {
  const Tensor& data = context.input(0);
  const Tensor& indices = context.input(1);
  const Tensor& updates = context.input(2);
  const int axis = static_cast<int>(context.int_param(kAxis));
  const int rank = data.shape.rank;
  const int64_t count = indices.shape.num_elements();
  const int64_t dim = data.shape.dims[axis];
  for (int64_t i = 0; i < count; ++i) {
    const int64_t value = index_value(indices, i);
    if (value < -dim || value >= dim)
      return op_error(context, StatusCode::kInvalidArgument, "index %lld at element %lld is out of range [-%lld, %lld)",
                      static_cast<long long>(value), static_cast<long long>(i), static_cast<long long>(dim),
                      static_cast<long long>(dim));
  }
  copy_data_unless_in_place(context);
  int64_t strides[kMaxRank];
  contiguous_strides(data.shape, strides);
  const size_t element = dtype_size(data.dtype);
  uint8_t* out = context.output(0).data_as<uint8_t>();
  const uint8_t* source = updates.data_as<const uint8_t>();
  int64_t position[kMaxRank] = {};
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = index_value(indices, i);
    if (value < 0) value += dim;
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d) offset += (d == axis ? value : position[d]) * strides[d];
    std::memcpy(out + offset * element, source + i * element, element);
    for (int d = rank - 1; d >= 0; --d) {
      if (++position[d] < indices.shape.dims[d]) break;
      position[d] = 0;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kScatterNDKernel = {scatter_nd_infer, scatter_nd_eval};
extern const Kernel kScatterElementsKernel = {scatter_elements_infer, scatter_elements_eval};

}  // namespace edgegen
