// Binary element-wise operators with NumPy broadcasting: Add Sub Mul Div Pow
// Min Max on f32, i32 and i64 (both inputs and the output share the dtype).
// The fused activation applies to f32 only. The output may alias an input of
// the output's shape. Add also takes quantized int8/uint8 operands, each
// with its own per-tensor scale and zero point (kernels/quantized_add.h),
// and then fuses ReLU or Clip as the output's integer range.
//
// Integers follow ONNX (and NumPy) results without C++ undefined behaviour:
// +, -, * wrap around; Div truncates toward zero like C, x / 0 gives 0 and
// MIN / -1 wraps to MIN; Pow with a negative exponent gives the truncated
// real result (1 for base 1, +-1 for base -1, 0 otherwise, and 0 for base 0).
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/kernel_util.h"
#include "kernels/quantized_add.h"

namespace edgegen {
namespace {

template <typename T>
using Unsigned = std::make_unsigned_t<T>;

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Unsigned<T>>(a) + static_cast<Unsigned<T>>(b));
    else return a + b;
  }
};

struct SubOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Unsigned<T>>(a) - static_cast<Unsigned<T>>(b));
    else return a - b;
  }
};

struct MulOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Unsigned<T>>(a) * static_cast<Unsigned<T>>(b));
    else return a * b;
  }
};

struct DivOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if (b == -1) return SubOp()(T{0}, a);  // wraps MIN / -1 instead of trapping
      return a / b;
    } else {
      return a / b;
    }
  }
};

struct PowOp {
  template <typename T>
  T operator()(T base, T exponent) const {
    if constexpr (std::is_integral_v<T>) {
      if (exponent < 0) {
        if (base == 1) return 1;
        if (base == -1) return (exponent & 1) ? -1 : 1;
        return 0;
      }
      // Square-and-multiply, wrapping on overflow.
      T result = 1;
      while (exponent > 0) {
        if (exponent & 1) result = MulOp()(result, base);
        base = MulOp()(base, base);
        exponent >>= 1;
      }
      return result;
    } else {
      return std::pow(base, exponent);
    }
  }
};

// Min and Max propagate NaN, as np.minimum / np.maximum.
struct MinOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(b)) return b;
    return b < a ? b : a;
  }
};

struct MaxOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(b)) return b;
    return a < b ? b : a;
  }
};

template <typename T, typename Op>
void binary_loop(const Tensor& a, const Tensor& b, Tensor& out) {
  const Op op;
  const T* pa = a.data_as<const T>();
  const T* pb = b.data_as<const T>();
  T* po = out.data_as<T>();
  const int64_t count = out.shape.num_elements();
  if (count == 0) return;

  if (a.shape == b.shape) {
    for (int64_t i = 0; i < count; ++i) po[i] = op(pa[i], pb[i]);
    return;
  }
  if (b.shape.num_elements() == 1 && a.shape == out.shape) {
    const T scalar = pb[0];
    for (int64_t i = 0; i < count; ++i) po[i] = op(pa[i], scalar);
    return;
  }
  if (a.shape.num_elements() == 1 && b.shape == out.shape) {
    const T scalar = pa[0];
    for (int64_t i = 0; i < count; ++i) po[i] = op(scalar, pb[i]);
    return;
  }

  broadcast_apply(pa, a.shape, pb, b.shape, po, out.shape, op);
}

Status binary_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  if (a.dtype != DType::kFloat32 && a.dtype != DType::kInt32 && a.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "input 0 '%s' is %s, expected float32, int32 or int64",
                    a.name, dtype_name(a.dtype));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 1, a.dtype));
  EG_RETURN_IF_ERROR(check_activation(context, a.dtype == DType::kFloat32));
  Shape out_shape;
  EG_RETURN_IF_ERROR(broadcast_shapes(context, a.shape, b.shape, &out_shape));
  return set_output(context, 0, a.dtype, out_shape);
}

template <typename Op>
Status binary_eval(const KernelContext& context) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  Tensor& out = context.output(0);
  switch (a.dtype) {
    case DType::kFloat32:
      binary_loop<float, Op>(a, b, out);
      apply_activation(out.data_as<float>(), out.num_elements(), context.attributes.activation);
      break;
    case DType::kInt32: binary_loop<int32_t, Op>(a, b, out); break;
    case DType::kInt64: binary_loop<int64_t, Op>(a, b, out); break;
    default: return op_error(context, StatusCode::kInternal, "dtype %s not accepted by infer", dtype_name(a.dtype));
  }
  return Status::ok();
}

// A quantized Add: int8 (or uint8) operands and output of one dtype, each
// quantized per tensor (the output once the converter has declared it).
Status quantized_add_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  const Tensor& a = context.input(0);
  EG_RETURN_IF_ERROR(check_input_dtype(context, 1, a.dtype));
  for (int i = 0; i < 2; ++i)
    if (!context.input(i).quant.per_tensor())
      return op_error(context, StatusCode::kInvalidModel,
                      "quantized input %d '%s' needs one scale and zero point (per-tensor quantization)", i,
                      context.input(i).name);
  Shape out_shape;
  EG_RETURN_IF_ERROR(broadcast_shapes(context, a.shape, context.input(1).shape, &out_shape));
  EG_RETURN_IF_ERROR(set_output(context, 0, a.dtype, out_shape));
  const Tensor& y = context.output(0);
  if (y.quant.present() && !y.quant.per_tensor())
    return op_error(context, StatusCode::kInvalidModel,
                    "output '%s' needs one scale and zero point (per-tensor quantization)", y.name);
  QuantizedRange range;
  EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  if (range.negative_slope != 1.f)
    return op_error(context, StatusCode::kUnsupportedOp, "a quantized Add fuses ReLU or Clip only, not a leaky ReLU");
  if (!y.quant.present()) return Status::ok();  // the converter's infer, before it declares the output's scale
  QuantizedAdd add;
  return quantized_add_of(context, &add);
}

template <typename T>
void quantized_add_loop(const Tensor& a, const Tensor& b, Tensor& out, const QuantizedAdd& add) {
  broadcast_apply(a.data_as<const T>(), a.shape, b.data_as<const T>(), b.shape, out.data_as<T>(), out.shape,
                  [&](T x, T y) { return static_cast<T>(add(x, y)); });
}

Status add_infer(KernelContext& context) {
  // int8/uint8 with quantization parameters: the quantized Add; without,
  // plain 8-bit integer sums, which binary_infer refuses as unsupported.
  if (context.has_input(0) && is_quantized(context.input(0)))
    return quantized_add_infer(context);
  return binary_infer(context);
}

Status add_eval(const KernelContext& context) {
  const Tensor& a = context.input(0);
  if (!is_quantized_dtype(a.dtype)) return binary_eval<AddOp>(context);
  const Tensor& b = context.input(1);
  Tensor& out = context.output(0);
  QuantizedAdd add;
  EG_RETURN_IF_ERROR(quantized_add_of(context, &add));
  if (a.dtype == DType::kInt8) quantized_add_loop<int8_t>(a, b, out, add);
  else quantized_add_loop<uint8_t>(a, b, out, add);
  return Status::ok();
}

}  // namespace

extern const Kernel kAddKernel = {add_infer, add_eval};
extern const Kernel kSubKernel = {binary_infer, binary_eval<SubOp>};
extern const Kernel kMulKernel = {binary_infer, binary_eval<MulOp>};
extern const Kernel kDivKernel = {binary_infer, binary_eval<DivOp>};
extern const Kernel kPowKernel = {binary_infer, binary_eval<PowOp>};
extern const Kernel kMinKernel = {binary_infer, binary_eval<MinOp>};
extern const Kernel kMaxKernel = {binary_infer, binary_eval<MaxOp>};

}  // namespace edgegen
