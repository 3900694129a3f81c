// Cast: converts every element to the dtype in ints {to}; same shape. All 49
// conversions among f32, f16, i8, u8, i32, i64 and bool.
//   float -> int   truncates toward zero; out-of-range values saturate to the
//                  type's limits and NaN gives 0 (ONNX leaves these undefined;
//                  C++ makes them UB, so we pick the safe answer).
//   int -> int     wraps (keeps the low bits), as NumPy's astype.
//   x -> bool      x != 0 (NaN is true); bool -> x gives 0 or 1.
//   -> f16         rounds to nearest even (via f32, exact for every source:
//                  integers that f32 cannot hold exactly overflow f16 anyway).
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

enum class Kind { kFloat, kHalf, kInteger, kBool };

template <DType D> struct Traits;
template <> struct Traits<DType::kFloat32> { using Storage = float; static constexpr Kind kKind = Kind::kFloat; };
template <> struct Traits<DType::kFloat16> { using Storage = uint16_t; static constexpr Kind kKind = Kind::kHalf; };
template <> struct Traits<DType::kInt8> { using Storage = int8_t; static constexpr Kind kKind = Kind::kInteger; };
template <> struct Traits<DType::kUInt8> { using Storage = uint8_t; static constexpr Kind kKind = Kind::kInteger; };
template <> struct Traits<DType::kInt32> { using Storage = int32_t; static constexpr Kind kKind = Kind::kInteger; };
template <> struct Traits<DType::kInt64> { using Storage = int64_t; static constexpr Kind kKind = Kind::kInteger; };
template <> struct Traits<DType::kBool> { using Storage = uint8_t; static constexpr Kind kKind = Kind::kBool; };

// Truncates toward zero, saturating; compared in double, which holds every
// float exactly and every bound below (limits of 64-bit types round to +-2^63).
template <typename Int>
Int float_to_int(float value) {
  const double x = value;
  const double upper = static_cast<double>(std::numeric_limits<Int>::max()) + 1.0;  // first value too large
  const double lower = static_cast<double>(std::numeric_limits<Int>::min()) - 1.0;  // last value too small
  if (x != x) return 0;
  if (x >= upper) return std::numeric_limits<Int>::max();
  if (x <= lower) return std::numeric_limits<Int>::min();
  return static_cast<Int>(x);
}

template <DType kSrc, DType kDst>
typename Traits<kDst>::Storage convert(typename Traits<kSrc>::Storage value) {
  using Dst = typename Traits<kDst>::Storage;
  constexpr Kind kFrom = Traits<kSrc>::kKind;
  constexpr Kind kTo = Traits<kDst>::kKind;
  if constexpr (kTo == Kind::kBool) {
    if constexpr (kFrom == Kind::kHalf) return (value & 0x7fffu) != 0;  // +-0 is false, NaN true
    else return value != 0;
  } else if constexpr (kFrom == Kind::kBool) {
    return convert<DType::kUInt8, kDst>(value != 0 ? 1 : 0);  // any nonzero byte is true
  } else if constexpr (kSrc == kDst) {
    return value;
  } else if constexpr (kFrom == Kind::kHalf) {
    return convert<DType::kFloat32, kDst>(half_to_float(value));
  } else if constexpr (kTo == Kind::kHalf) {
    return float_to_half(convert<kSrc, DType::kFloat32>(value));
  } else if constexpr (kFrom == Kind::kFloat && kTo == Kind::kInteger) {
    return float_to_int<Dst>(value);
  } else {
    // int/bool -> int wraps, anything -> float rounds to nearest.
    return static_cast<Dst>(value);
  }
}

template <DType kSrc, DType kDst>
void cast_loop(const void* in, void* out, size_t count) {
  const auto* src = static_cast<const typename Traits<kSrc>::Storage*>(in);
  auto* dst = static_cast<typename Traits<kDst>::Storage*>(out);
  for (size_t i = 0; i < count; ++i) dst[i] = convert<kSrc, kDst>(src[i]);
}

template <DType kSrc>
bool cast_from(DType to, const void* in, void* out, size_t count) {
  switch (to) {
    case DType::kFloat32: cast_loop<kSrc, DType::kFloat32>(in, out, count); return true;
    case DType::kFloat16: cast_loop<kSrc, DType::kFloat16>(in, out, count); return true;
    case DType::kInt8: cast_loop<kSrc, DType::kInt8>(in, out, count); return true;
    case DType::kUInt8: cast_loop<kSrc, DType::kUInt8>(in, out, count); return true;
    case DType::kInt32: cast_loop<kSrc, DType::kInt32>(in, out, count); return true;
    case DType::kInt64: cast_loop<kSrc, DType::kInt64>(in, out, count); return true;
    case DType::kBool: cast_loop<kSrc, DType::kBool>(in, out, count); return true;
  }
  return false;
}

Status cast_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& in = context.input(0);
  if (dtype_size(in.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has unknown dtype %u", in.name,
                    static_cast<unsigned>(in.dtype));
  const int64_t to = context.int_param(params::kCastTo);
  if (to < 0 || to >= static_cast<int64_t>(kNumDTypes))
    return op_error(context, StatusCode::kInvalidModel, "target dtype 'to' is %lld, not a known dtype",
                    static_cast<long long>(to));
  return set_output(context, 0, static_cast<DType>(to), in.shape);
}

Status cast_eval(const KernelContext& context) {
  const Tensor& in = context.input(0);
  Tensor& out = context.output(0);
  const size_t count = in.num_elements();
  bool done = false;
  switch (in.dtype) {
    case DType::kFloat32: done = cast_from<DType::kFloat32>(out.dtype, in.data, out.data, count); break;
    case DType::kFloat16: done = cast_from<DType::kFloat16>(out.dtype, in.data, out.data, count); break;
    case DType::kInt8: done = cast_from<DType::kInt8>(out.dtype, in.data, out.data, count); break;
    case DType::kUInt8: done = cast_from<DType::kUInt8>(out.dtype, in.data, out.data, count); break;
    case DType::kInt32: done = cast_from<DType::kInt32>(out.dtype, in.data, out.data, count); break;
    case DType::kInt64: done = cast_from<DType::kInt64>(out.dtype, in.data, out.data, count); break;
    case DType::kBool: done = cast_from<DType::kBool>(out.dtype, in.data, out.data, count); break;
  }
  if (!done) return op_error(context, StatusCode::kInternal, "dtypes not accepted by infer");
  return Status::ok();
}

}  // namespace

extern const Kernel kCastKernel = {cast_infer, cast_eval};

}  // namespace edgegen
