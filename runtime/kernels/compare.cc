// Comparisons with NumPy broadcasting: Less LessOrEqual Greater
// GreaterOrEqual Equal. f32, i32 or i64 inputs (the same dtype), bool output
// (one byte, 0 or 1). NaN compares false (Equal too), as IEEE and ONNX.
// Rational-quadratic spline flows (Durkan et al., "Neural Spline Flows",
// 2019) use them to find each input's bin (searchsorted).
#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

struct LessOp { template <typename T> bool operator()(T a, T b) const { return a < b; } };
struct LessOrEqualOp { template <typename T> bool operator()(T a, T b) const { return a <= b; } };
struct GreaterOp { template <typename T> bool operator()(T a, T b) const { return a > b; } };
struct GreaterOrEqualOp { template <typename T> bool operator()(T a, T b) const { return a >= b; } };
struct EqualOp { template <typename T> bool operator()(T a, T b) const { return a == b; } };

template <typename T, typename Op>
void compare_loop(const Tensor& a, const Tensor& b, Tensor& out) {
  const Op op;
  const T* pa = a.data_as<const T>();
  const T* pb = b.data_as<const T>();
  uint8_t* po = out.data_as<uint8_t>();
  const int64_t count = out.shape.num_elements();
  if (count == 0) return;
  if (a.shape == b.shape) {
    for (int64_t i = 0; i < count; ++i) po[i] = op(pa[i], pb[i]);
    return;
  }
  broadcast_apply(pa, a.shape, pb, b.shape, po, out.shape, op);
}

Status compare_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  if (a.dtype != DType::kFloat32 && a.dtype != DType::kInt32 && a.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "input 0 '%s' is %s, expected float32, int32 or int64",
                    a.name, dtype_name(a.dtype));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 1, a.dtype));
  Shape out_shape;
  EG_RETURN_IF_ERROR(broadcast_shapes(context, a.shape, b.shape, &out_shape));
  return set_output(context, 0, DType::kBool, out_shape);
}

template <typename Op>
Status compare_eval(const KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  Tensor& out = context.output(0);
  switch (a.dtype) {
    case DType::kFloat32: compare_loop<float, Op>(a, b, out); break;
    case DType::kInt32: compare_loop<int32_t, Op>(a, b, out); break;
    case DType::kInt64: compare_loop<int64_t, Op>(a, b, out); break;
    default: return op_error(context, StatusCode::kInternal, "dtype %s not accepted by infer", dtype_name(a.dtype));
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kLessKernel = {compare_infer, compare_eval<LessOp>};
extern const Kernel kLessOrEqualKernel = {compare_infer, compare_eval<LessOrEqualOp>};
extern const Kernel kGreaterKernel = {compare_infer, compare_eval<GreaterOp>};
extern const Kernel kGreaterOrEqualKernel = {compare_infer, compare_eval<GreaterOrEqualOp>};
extern const Kernel kEqualKernel = {compare_infer, compare_eval<EqualOp>};

}  // namespace edgegen
