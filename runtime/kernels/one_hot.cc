// OneHot (ONNX): inputs {indices (f32, i32 or i64), values [off, on]
// (f32, i32 or i64)}; ints {axis, depth}. The output is indices' shape with
// a dimension of `depth` inserted at `axis` (already normalized against the
// output rank), in values' dtype. Float indices are truncated; negative ones
// count from depth; indices outside [-depth, depth) give an all-off row.
#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

bool is_number_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt64;
}

Status one_hot_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 2, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& indices = context.input(0);
  const Tensor& values = context.input(1);
  if (!is_number_dtype(indices.dtype) || !is_number_dtype(values.dtype))
    return op_error(context, StatusCode::kUnsupportedOp, "indices (%s) and values (%s) must be float32, int32 or int64",
                    dtype_name(indices.dtype), dtype_name(values.dtype));
  if (values.shape.num_elements() != 2)
    return op_error(context, StatusCode::kInvalidModel, "values '%s' must hold two elements [off, on]", values.name);
  const int64_t axis = context.int_param(kOneHotAxis), depth = context.int_param(kOneHotDepth);
  if (indices.shape.rank + 1 > kMaxRank || axis < 0 || axis > indices.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for an output of rank %d",
                    static_cast<long long>(axis), indices.shape.rank + 1);
  if (depth < 1) return op_error(context, StatusCode::kInvalidModel, "depth %lld must be positive",
                                 static_cast<long long>(depth));
  Shape out;
  out.rank = indices.shape.rank + 1;
  for (int d = 0, from = 0; d < out.rank; ++d) out.dims[d] = d == axis ? depth : indices.shape.dims[from++];
  return set_output(context, 0, values.dtype, out);
}

int64_t index_at(const Tensor& indices, int64_t i) {
  switch (indices.dtype) {
    case DType::kFloat32: {
      const float value = indices.data_as<const float>()[i];
      return value == value && value > -9e18f && value < 9e18f ? static_cast<int64_t>(value) : -1;
    }
    case DType::kInt32: return indices.data_as<const int32_t>()[i];
    default: return indices.data_as<const int64_t>()[i];
  }
}

template <typename T>
void one_hot(const KernelContext& context) {
  const Tensor& indices = context.input(0);
  const T off = context.input(1).data_as<const T>()[0], on = context.input(1).data_as<const T>()[1];
  const int axis = static_cast<int>(context.int_param(kOneHotAxis));
  const int64_t depth = context.int_param(kOneHotDepth);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= indices.shape.dims[d];
  for (int d = axis; d < indices.shape.rank; ++d) inner *= indices.shape.dims[d];
  T* out = context.output(0).data_as<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t index = index_at(indices, o * inner + i);
      if (index < 0 && index >= -depth) index += depth;
      for (int64_t k = 0; k < depth; ++k) out[(o * depth + k) * inner + i] = k == index ? on : off;
    }
}

Status one_hot_eval(const KernelContext& context) {
  switch (context.input(1).dtype) {
    case DType::kFloat32: one_hot<float>(context); break;
    case DType::kInt32: one_hot<int32_t>(context); break;
    case DType::kInt64: one_hot<int64_t>(context); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kOneHotKernel = {one_hot_infer, one_hot_eval};

}  // namespace edgegen
