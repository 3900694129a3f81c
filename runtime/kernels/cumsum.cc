// CumSum (ONNX): running sums along one axis; ints {axis, exclusive, reverse}
// (axis already normalized by the converter). f32, i32 or i64. Spline flows
// (Durkan et al. 2019) build their knot positions with it.
#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status cumsum_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 3, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& x = context.input(0);
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32 && x.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "input '%s' is %s, expected float32, int32 or int64", x.name,
                    dtype_name(x.dtype));
  const int64_t axis = context.int_param(kCumSumAxis);
  if (x.shape.rank < 1 || axis < 0 || axis >= x.shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for rank %d",
                    static_cast<long long>(axis), x.shape.rank);
  for (size_t i : {size_t{kCumSumExclusive}, size_t{kCumSumReverse}})
    if (context.int_param(i) != 0 && context.int_param(i) != 1)
      return op_error(context, StatusCode::kInvalidModel, "exclusive and reverse must be 0 or 1");
  return set_output(context, 0, x.dtype, x.shape);
}

template <typename T>
void cumsum(const KernelContext& context) {
  const Tensor& x = context.input(0);
  const int axis = static_cast<int>(context.int_param(kCumSumAxis));
  const bool exclusive = context.int_param(kCumSumExclusive) != 0, reverse = context.int_param(kCumSumReverse) != 0;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.shape.dims[d];
  for (int d = axis + 1; d < x.shape.rank; ++d) inner *= x.shape.dims[d];
  const int64_t length = x.shape.dims[axis];
  const T* in = x.data_as<const T>();
  T* out = context.output(0).data_as<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      T running = 0;
      for (int64_t step = 0; step < length; ++step) {
        const int64_t k = reverse ? length - 1 - step : step;
        const int64_t at = (o * length + k) * inner + i;
        const T value = in[at];  // read before writing: the output may alias the input
        if (exclusive) {
          out[at] = running;
          running += value;
        } else {
          running += value;
          out[at] = running;
        }
      }
    }
}

Status cumsum_eval(const KernelContext& context) {
  switch (context.input(0).dtype) {
    case DType::kFloat32: cumsum<float>(context); break;
    case DType::kInt32: cumsum<int32_t>(context); break;
    case DType::kInt64: cumsum<int64_t>(context); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kCumSumKernel = {cumsum_infer, cumsum_eval};

}  // namespace edgegen
