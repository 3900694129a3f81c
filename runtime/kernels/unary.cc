// Unary element-wise operators: one kernel template, one small functor per op.
// f32 in, f32 out, same shape (any rank, empty allowed); Identity copies any
// dtype. Definitions follow the ONNX operator specs. Output may alias input.
// Every op also takes an int8/uint8 tensor quantized per tensor, into one of
// the same dtype: a table of the float function (kernels/quantized_unary.h).
#include <cmath>
#include <cstring>

#include "kernels/kernel_util.h"
#include "kernels/quantization.h"
#include "kernels/quantized_unary.h"
#include "ops/op_params.h"
#include "ops/registry.h"

namespace edgegen {
namespace {

// 1 / (1 + e^-x) without overflowing e^-x for large negative x.
inline float sigmoid(float x) {
  if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.f + e);
}

// A functor declares the attributes it reads (kInts, kFloats), may reject bad
// attribute values in check(), is built from the attributes, and maps one
// value in operator().
struct NoAttributes {
  static constexpr size_t kInts = 0, kFloats = 0;
  static Status check(const KernelContext&) { return Status::ok(); }
  explicit NoAttributes(const OpAttributes&) {}
};

struct Relu : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return x < 0.f ? 0.f : x; }  // NaN passes through, as np.maximum
};

struct LeakyRelu : NoAttributes {
  static constexpr size_t kFloats = 1;
  float alpha;
  explicit LeakyRelu(const OpAttributes& a) : NoAttributes(a), alpha(a.floats[params::kAlpha]) {}
  float operator()(float x) const { return x < 0.f ? alpha * x : x; }
};

struct Sigmoid : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return sigmoid(x); }
};

struct Tanh : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::tanh(x); }
};

struct Elu : NoAttributes {
  static constexpr size_t kFloats = 1;
  float alpha;
  explicit Elu(const OpAttributes& a) : NoAttributes(a), alpha(a.floats[params::kAlpha]) {}
  float operator()(float x) const { return x < 0.f ? alpha * std::expm1(x) : x; }
};

struct Softplus : NoAttributes {
  using NoAttributes::NoAttributes;
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, exact for large |x|.
  float operator()(float x) const { return (x > 0.f ? x : 0.f) + std::log1p(std::exp(-std::fabs(x))); }
};

struct Exp : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::exp(x); }
};

struct Log : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::log(x); }  // log(0) = -inf, log(<0) = NaN
};

struct Sqrt : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::sqrt(x); }
};

struct Neg : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return -x; }
};

struct Abs : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::fabs(x); }
};

struct Clip : NoAttributes {
  static constexpr size_t kFloats = 2;
  float min, max;
  explicit Clip(const OpAttributes& a)
      : NoAttributes(a), min(a.floats[params::kClipMin]), max(a.floats[params::kClipMax]) {}
  // min(max(x, lo), hi), as np.clip: min > max gives max everywhere; NaN passes through.
  float operator()(float x) const {
    float y = x < min ? min : x;
    return y > max ? max : y;
  }
};

struct Silu : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return x * sigmoid(x); }
};

struct Gelu : NoAttributes {
  static constexpr size_t kInts = 1;
  bool tanh_approximation;
  static Status check(const KernelContext& context) {
    int64_t approximate = context.int_param(params::kGeluApproximate);
    if (approximate != 0 && approximate != 1)
      return op_error(context, StatusCode::kInvalidModel, "approximate is %lld, expected 0 (erf) or 1 (tanh)",
                      static_cast<long long>(approximate));
    return Status::ok();
  }
  explicit Gelu(const OpAttributes& a) : NoAttributes(a), tanh_approximation(a.ints[params::kGeluApproximate] == 1) {}
  float operator()(float x) const {
    if (tanh_approximation) {
      constexpr float kSqrt2OverPi = 0.7978845608028654f;
      return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
    constexpr float kInvSqrt2 = 0.7071067811865476f;
    return 0.5f * x * (1.f + std::erf(x * kInvSqrt2));
  }
};

struct Sin : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::sin(x); }
};

struct Cos : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::cos(x); }
};

struct Erf : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::erf(x); }
};

struct Reciprocal : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return 1.f / x; }
};

struct Floor : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::floor(x); }
};

struct Ceil : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::ceil(x); }
};

// np.sign: NaN stays NaN, zero stays zero.
struct Sign : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return x > 0.f ? 1.f : (x < 0.f ? -1.f : x); }
};

// ONNX Round: halves to even (np.round), which is nearbyint in the default
// rounding mode.
struct Round : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const { return std::nearbyint(x); }
};

struct HardSigmoid : NoAttributes {
  static constexpr size_t kFloats = 2;
  float alpha, beta;
  explicit HardSigmoid(const OpAttributes& a)
      : NoAttributes(a), alpha(a.floats[params::kAlpha]), beta(a.floats[params::kBeta]) {}
  float operator()(float x) const {
    float y = alpha * x + beta;
    y = y < 0.f ? 0.f : y;
    return y > 1.f ? 1.f : y;
  }
};

// x * HardSigmoid(x) with ONNX's alpha 1/6 and beta 0.5, computed as that
// product (the same bits as the two ops it replaces).
struct HardSwish : NoAttributes {
  using NoAttributes::NoAttributes;
  float operator()(float x) const {
    float gate = (1.f / 6.f) * x + 0.5f;
    gate = gate < 0.f ? 0.f : gate;
    return x * (gate > 1.f ? 1.f : gate);
  }
};

template <typename Fn>
Status unary_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, Fn::kInts, Fn::kFloats));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(Fn::check(context));
  if (is_quantized(context.input(0))) {
    const Tensor& x = context.input(0);
    if (!x.quant.per_tensor())
      return op_error(context, StatusCode::kInvalidModel,
                      "quantized input '%s' needs one scale and zero point (per-tensor quantization)", x.name);
    EG_RETURN_IF_ERROR(set_output(context, 0, x.dtype, x.shape));
    const Tensor& y = context.output(0);
    if (y.quant.present() && !y.quant.per_tensor())
      return op_error(context, StatusCode::kInvalidModel,
                      "output '%s' needs one scale and zero point (per-tensor quantization)", y.name);
    return Status::ok();
  }
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  return set_output(context, 0, DType::kFloat32, context.input(0).shape);
}

// table[byte] = quantize(fn(dequantize(byte))), as DequantizeLinear, the
// float op and QuantizeLinear compute it.
template <typename Fn>
Status fill_quantized_table(const KernelContext& context, uint8_t table[256]) {
  const Tensor& x = context.input(0);
  const Tensor& y = context.output(0);
  if (!y.quant.present())
    return op_error(context, StatusCode::kInvalidModel, "%s output '%s' has no quantization", dtype_name(y.dtype),
                    y.name);
  const Fn fn(context.attributes);
  const QuantizedRange range = quantized_range(y.dtype);
  const float x_scale = x.quant.scale(), y_scale = y.quant.scale();
  const int32_t x_zero = x.quant.zero_point(), y_zero = y.quant.zero_point();
  for (int byte = 0; byte < 256; ++byte) {
    const int32_t q = x.dtype == DType::kInt8 ? static_cast<int8_t>(byte) : byte;
    const float real = static_cast<float>(q - x_zero) * x_scale;
    table[byte] = static_cast<uint8_t>(quantize_value(fn(real), y_scale, y_zero, range));
  }
  return Status::ok();
}

template <typename Fn>
Status unary_eval(const KernelContext& context) {
  if (is_quantized(context.input(0))) {
    uint8_t table[256];
    EG_RETURN_IF_ERROR(fill_quantized_table<Fn>(context, table));
    const uint8_t* in = context.input(0).data_as<const uint8_t>();
    uint8_t* out = context.output(0).data_as<uint8_t>();
    const size_t count = context.output(0).num_elements();
    for (size_t i = 0; i < count; ++i) out[i] = table[in[i]];
    return Status::ok();
  }
  const Fn fn(context.attributes);
  const float* in = context.input(0).data_as<const float>();
  float* out = context.output(0).data_as<float>();
  const size_t count = context.output(0).num_elements();
  for (size_t i = 0; i < count; ++i) out[i] = fn(in[i]);
  return Status::ok();
}

Status identity_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& in = context.input(0);
  if (dtype_size(in.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has unknown dtype %u", in.name,
                    static_cast<unsigned>(in.dtype));
  return set_output(context, 0, in.dtype, in.shape);
}

Status identity_eval(const KernelContext& context) {
  const Tensor& in = context.input(0);
  Tensor& out = context.output(0);
  if (out.data != in.data && in.bytes() != 0) std::memcpy(out.data, in.data, in.bytes());
  return Status::ok();
}

}  // namespace

extern const Kernel kReluKernel = {unary_infer<Relu>, unary_eval<Relu>};
extern const Kernel kLeakyReluKernel = {unary_infer<LeakyRelu>, unary_eval<LeakyRelu>};
extern const Kernel kSigmoidKernel = {unary_infer<Sigmoid>, unary_eval<Sigmoid>};
extern const Kernel kTanhKernel = {unary_infer<Tanh>, unary_eval<Tanh>};
extern const Kernel kEluKernel = {unary_infer<Elu>, unary_eval<Elu>};
extern const Kernel kSoftplusKernel = {unary_infer<Softplus>, unary_eval<Softplus>};
extern const Kernel kExpKernel = {unary_infer<Exp>, unary_eval<Exp>};
extern const Kernel kLogKernel = {unary_infer<Log>, unary_eval<Log>};
extern const Kernel kSqrtKernel = {unary_infer<Sqrt>, unary_eval<Sqrt>};
extern const Kernel kNegKernel = {unary_infer<Neg>, unary_eval<Neg>};
extern const Kernel kAbsKernel = {unary_infer<Abs>, unary_eval<Abs>};
extern const Kernel kClipKernel = {unary_infer<Clip>, unary_eval<Clip>};
extern const Kernel kSiluKernel = {unary_infer<Silu>, unary_eval<Silu>};
extern const Kernel kGeluKernel = {unary_infer<Gelu>, unary_eval<Gelu>};
extern const Kernel kSinKernel = {unary_infer<Sin>, unary_eval<Sin>};
extern const Kernel kCosKernel = {unary_infer<Cos>, unary_eval<Cos>};
extern const Kernel kErfKernel = {unary_infer<Erf>, unary_eval<Erf>};
extern const Kernel kReciprocalKernel = {unary_infer<Reciprocal>, unary_eval<Reciprocal>};
extern const Kernel kFloorKernel = {unary_infer<Floor>, unary_eval<Floor>};
extern const Kernel kCeilKernel = {unary_infer<Ceil>, unary_eval<Ceil>};
extern const Kernel kHardSigmoidKernel = {unary_infer<HardSigmoid>, unary_eval<HardSigmoid>};
extern const Kernel kHardSwishKernel = {unary_infer<HardSwish>, unary_eval<HardSwish>};
extern const Kernel kSignKernel = {unary_infer<Sign>, unary_eval<Sign>};
extern const Kernel kRoundKernel = {unary_infer<Round>, unary_eval<Round>};
extern const Kernel kIdentityKernel = {identity_infer, identity_eval};

Status quantized_unary_table(const KernelContext& context, uint8_t table[256]) {
  // The op's own eval over the 256 input bytes: its output is the table.
  const Kernel* kernel = find_reference_kernel(context.opcode);
  if (kernel == nullptr) return op_error(context, StatusCode::kInternal, "no reference kernel");
  uint8_t codes[256];
  for (int byte = 0; byte < 256; ++byte) codes[byte] = static_cast<uint8_t>(byte);
  Tensor x = context.input(0), y = context.output(0);
  x.shape = Shape{};
  x.shape.rank = 1;
  x.shape.dims[0] = 256;
  y.shape = x.shape;
  x.data = codes;
  y.data = table;
  const Tensor* inputs[1] = {&x};
  Tensor* outputs[1] = {&y};
  KernelContext one = context;
  one.inputs = inputs;
  one.outputs = outputs;
  one.num_inputs = one.num_outputs = 1;
  return kernel->eval(one);
}

}  // namespace edgegen
