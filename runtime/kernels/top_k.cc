// TopK (ONNX): the k largest (or smallest) values along one axis and their
// int64 indices; ints {axis, k, largest, sorted} (k fixed at conversion).
// Equal values keep their index order, as ONNX requires; the output is
// sorted whether or not `sorted` asks (an order ONNX allows either way).
// Scratch: one row of int64 indices.
#include <algorithm>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status top_k_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 2));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 4, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& x = context.input(0);
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32 && x.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "input '%s' is %s, expected float32, int32 or int64", x.name,
                    dtype_name(x.dtype));
  const int64_t axis = context.int_param(kTopKAxis), k = context.int_param(kTopKK);
  if (x.shape.rank < 1 || axis < 0 || axis >= x.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for rank %d",
                    static_cast<long long>(axis), x.shape.rank);
  if (k < 0 || k > x.shape.dims[axis])
    return op_error(context, StatusCode::kInvalidModel, "k = %lld is outside [0, %lld], the size of axis %lld",
                    static_cast<long long>(k), static_cast<long long>(x.shape.dims[axis]),
                    static_cast<long long>(axis));
  for (size_t i : {size_t{kTopKLargest}, size_t{kTopKSorted}})
    if (context.int_param(i) != 0 && context.int_param(i) != 1)
      return op_error(context, StatusCode::kInvalidModel, "largest and sorted must be 0 or 1");
  Shape out = x.shape;
  out.dims[axis] = k;
  EG_RETURN_IF_ERROR(set_output(context, 0, x.dtype, out));
  EG_RETURN_IF_ERROR(set_output(context, 1, DType::kInt64, out));
  context.scratch_bytes = static_cast<size_t>(x.shape.dims[axis]) * sizeof(int64_t);
  return Status::ok();
}

// a > b, with NaN above every number (as NumPy sorts), so that the order is
// strict and weak even with NaNs.
template <typename T>
bool ranks_above(T a, T b) {
  if (a != a) return b == b;
  if (b != b) return false;
  return a > b;
}

template <typename T>
void top_k(const KernelContext& context) {
  const Tensor& x = context.input(0);
  const int axis = static_cast<int>(context.int_param(kTopKAxis));
  const int64_t k = context.int_param(kTopKK);
  const bool largest = context.int_param(kTopKLargest) != 0;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape.dims[d];
  for (int d = axis + 1; d < x.shape.rank; ++d) inner *= x.shape.dims[d];
  const int64_t length = x.shape.dims[axis];
  const T* in = x.data_as<const T>();
  T* values = context.output(0).data_as<T>();
  int64_t* indices = context.output(1).data_as<int64_t>();
  int64_t* order = static_cast<int64_t*>(context.scratch);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* row = in + o * length * inner + i;
      for (int64_t n = 0; n < length; ++n) order[n] = n;
      auto before = [row, inner, largest](int64_t a, int64_t b) {
        const T va = row[a * inner], vb = row[b * inner];
        const bool a_first = largest ? ranks_above(va, vb) : ranks_above(vb, va);
        const bool b_first = largest ? ranks_above(vb, va) : ranks_above(va, vb);
        return a_first || (!b_first && a < b);
      };
      std::partial_sort(order, order + k, order + length, before);
      for (int64_t n = 0; n < k; ++n) {
        const int64_t at = (o * k + n) * inner + i;
        values[at] = row[order[n] * inner];
        indices[at] = order[n];
      }
    }
}

Status top_k_eval(const KernelContext& context) {
  switch (context.input(0).dtype) {
    case DType::kFloat32: top_k<float>(context); break;
    case DType::kInt32: top_k<int32_t>(context); break;
    case DType::kInt64: top_k<int64_t>(context); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kTopKKernel = {top_k_infer, top_k_eval};

}  // namespace edgegen
