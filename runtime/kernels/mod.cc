// Mod (ONNX): element-wise remainder with NumPy broadcasting; ints {fmod};
// f32, int8, uint8, int32 or int64 (plain integers, not quantized values).
// fmod 0 (integers): the remainder has the divisor's sign (Python's %);
// fmod 1: the dividend's sign (C's fmod / %). Integer division by zero is
// undefined in ONNX; here it gives 0 rather than a trap, and so does
// INT_MIN % -1.
#include <cmath>
#include <type_traits>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status mod_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  if (a.dtype != DType::kFloat32 && a.dtype != DType::kInt32 && a.dtype != DType::kInt64 &&
      a.dtype != DType::kInt8 && a.dtype != DType::kUInt8)
    return op_error(context, StatusCode::kUnsupportedOp, "input '%s' is %s, expected float32, int8, uint8, int32 or int64", a.name,
                    dtype_name(a.dtype));
  if (b.dtype != a.dtype)
    return op_error(context, StatusCode::kInvalidModel, "inputs '%s' (%s) and '%s' (%s) differ in dtype", a.name,
                    dtype_name(a.dtype), b.name, dtype_name(b.dtype));
  const int64_t fmod = context.int_param(kModFmod);
  if (fmod != 0 && fmod != 1) return op_error(context, StatusCode::kInvalidModel, "fmod must be 0 or 1");
  if (fmod == 0 && a.dtype == DType::kFloat32)
    return op_error(context, StatusCode::kInvalidModel, "float inputs need fmod = 1 (the ONNX spec)");
  Shape out;
  EG_RETURN_IF_ERROR(broadcast_shapes(context, a.shape, b.shape, &out));
  return set_output(context, 0, a.dtype, out);
}

template <typename T>
T integer_remainder(T a, T b, bool fmod) {
  if (b == 0 || (std::is_signed<T>::value && b == static_cast<T>(-1))) return 0;
  T r = static_cast<T>(a % b);
  if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
  return r;
}

template <typename T>
void integer_mod(const KernelContext& context, bool fmod) {
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  Tensor& out = context.output(0);
  broadcast_apply(a.data_as<const T>(), a.shape, b.data_as<const T>(), b.shape, out.data_as<T>(), out.shape,
                  [fmod](T x, T y) { return integer_remainder(x, y, fmod); });
}

Status mod_eval(const KernelContext& context) {
  const bool fmod = context.int_param(kModFmod) != 0;
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  Tensor& out = context.output(0);
  switch (a.dtype) {
    case DType::kFloat32:
      broadcast_apply(a.data_as<const float>(), a.shape, b.data_as<const float>(), b.shape, out.data_as<float>(),
                      out.shape, [](float x, float y) { return std::fmod(x, y); });
      break;
    case DType::kInt32: integer_mod<int32_t>(context, fmod); break;
    case DType::kInt64: integer_mod<int64_t>(context, fmod); break;
    case DType::kInt8: integer_mod<int8_t>(context, fmod); break;
    case DType::kUInt8: integer_mod<uint8_t>(context, fmod); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kModKernel = {mod_infer, mod_eval};

}  // namespace edgegen
