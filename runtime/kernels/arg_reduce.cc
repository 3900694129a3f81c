// ArgMax, ArgMin (ONNX): the index of the largest / smallest value along one
// axis, as int64; ints {axis, keepdims, select_last_index}. Ties go to the
// first index, or the last with select_last_index. f32, i32 or i64 in.
#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status arg_reduce_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 3, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& x = context.input(0);
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32 && x.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "input '%s' is %s, expected float32, int32 or int64", x.name,
                    dtype_name(x.dtype));
  const int64_t axis = context.int_param(kArgAxis);
  if (x.shape.rank < 1 || axis < 0 || axis >= x.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for rank %d",
                    static_cast<long long>(axis), x.shape.rank);
  if (x.shape.dims[axis] == 0)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld of '%s' is empty: no index to return",
                    static_cast<long long>(axis), x.name);
  for (size_t i : {size_t{kArgKeepDims}, size_t{kArgSelectLast}})
    if (context.int_param(i) != 0 && context.int_param(i) != 1)
      return op_error(context, StatusCode::kInvalidModel, "keepdims and select_last_index must be 0 or 1");
  Shape out;
  out.rank = 0;
  for (int d = 0; d < x.shape.rank; ++d) {
    if (d != axis) out.dims[out.rank++] = x.shape.dims[d];
    else if (context.int_param(kArgKeepDims) != 0) out.dims[out.rank++] = 1;
  }
  return set_output(context, 0, DType::kInt64, out);
}

template <typename T, bool kMax>
void arg_reduce(const KernelContext& context) {
  const Tensor& x = context.input(0);
  const int axis = static_cast<int>(context.int_param(kArgAxis));
  const bool last = context.int_param(kArgSelectLast) != 0;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape.dims[d];
  for (int d = axis + 1; d < x.shape.rank; ++d) inner *= x.shape.dims[d];
  const int64_t length = x.shape.dims[axis];
  const T* in = x.data_as<const T>();
  int64_t* out = context.output(0).data_as<int64_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* row = in + o * length * inner + i;
      T best = row[0];
      int64_t best_index = 0;
      for (int64_t k = 1; k < length; ++k) {
        const T value = row[k * inner];
        const bool better = kMax ? (last ? value >= best : value > best) : (last ? value <= best : value < best);
        if (better) best = value, best_index = k;
      }
      out[o * inner + i] = best_index;
    }
}

template <bool kMax>
Status arg_reduce_eval(const KernelContext& context) {
  switch (context.input(0).dtype) {
    case DType::kFloat32: arg_reduce<float, kMax>(context); break;
    case DType::kInt32: arg_reduce<int32_t, kMax>(context); break;
    case DType::kInt64: arg_reduce<int64_t, kMax>(context); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kArgMaxKernel = {arg_reduce_infer, arg_reduce_eval<true>};
extern const Kernel kArgMinKernel = {arg_reduce_infer, arg_reduce_eval<false>};

}  // namespace edgegen
