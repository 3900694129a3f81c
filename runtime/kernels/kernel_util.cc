#include "kernels/kernel_util.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "core/format_message.h"

namespace edgegen {

Status op_error(const KernelContext& context, StatusCode code, const char* format, ...) {
  char detail[Status::kMaxMessage];
  va_list args;
  va_start(args, format);
  format_message(detail, sizeof detail, format, args);
  va_end(args);
  return Status::error(code, "%s '%s': %s", kernel_op_name(context), context.op_name, detail);
}

Status check_arity(const KernelContext& context, size_t min_inputs, size_t max_inputs, size_t outputs) {
  if (context.num_inputs < min_inputs || context.num_inputs > max_inputs)
    return op_error(context, StatusCode::kInvalidModel, "has %zu inputs, expected %zu to %zu",
                    context.num_inputs, min_inputs, max_inputs);
  for (size_t i = 0; i < min_inputs; ++i)
    if (context.inputs[i] == nullptr)
      return op_error(context, StatusCode::kInvalidModel, "required input %zu is missing", i);
  if (context.num_outputs != outputs)
    return op_error(context, StatusCode::kInvalidModel, "has %zu outputs, expected %zu", context.num_outputs,
                    outputs);
  return Status::ok();
}

Status check_input_dtype(const KernelContext& context, size_t index, DType dtype) {
  const Tensor& tensor = context.input(index);
  if (tensor.dtype != dtype)
    return op_error(context, StatusCode::kInvalidModel, "input %zu '%s' is %s, expected %s", index, tensor.name,
                    dtype_name(tensor.dtype), dtype_name(dtype));
  return Status::ok();
}

Status check_input_rank(const KernelContext& context, size_t index, int min_rank, int max_rank) {
  const Tensor& tensor = context.input(index);
  if (tensor.shape.rank < min_rank || tensor.shape.rank > max_rank)
    return op_error(context, StatusCode::kInvalidModel, "input %zu '%s' has rank %d, expected %d to %d", index,
                    tensor.name, tensor.shape.rank, min_rank, max_rank);
  return Status::ok();
}

Status check_attribute_counts(const KernelContext& context, size_t ints, size_t floats) {
  if (context.attributes.num_ints != ints || context.attributes.num_floats != floats)
    return op_error(context, StatusCode::kInvalidModel,
                    "has %zu integer and %zu float attributes, expected %zu and %zu",
                    context.attributes.num_ints, context.attributes.num_floats, ints, floats);
  return Status::ok();
}

Status check_input_constant(const KernelContext& context, size_t index) {
  if (context.input(index).data == nullptr)
    return op_error(context, StatusCode::kUnsupportedOp, "input %zu '%s' must be a constant", index,
                    context.input(index).name);
  return Status::ok();
}

Status set_output(const KernelContext& context, size_t index, DType dtype, const Shape& shape) {
  // Keep every element count below 2^40 so byte sizes never overflow.
  constexpr int64_t kMaxElements = int64_t{1} << 40;
  int64_t count = 1;
  for (int i = 0; i < shape.rank; ++i) {
    if (shape.dims[i] < 0)
      return op_error(context, StatusCode::kInvalidModel, "output %zu would have negative dimension %lld", index,
                      static_cast<long long>(shape.dims[i]));
    if (shape.dims[i] > 0 && count > kMaxElements / shape.dims[i])
      return op_error(context, StatusCode::kInvalidModel, "output %zu would be too large", index);
    count *= shape.dims[i];
  }
  Tensor& out = context.output(index);
  out.dtype = dtype;
  out.shape = shape;
  return Status::ok();
}

Status broadcast_shapes(const KernelContext& context, const Shape& a, const Shape& b, Shape* out) {
  int rank = a.rank > b.rank ? a.rank : b.rank;
  out->rank = rank;
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a.rank), ib = i - (rank - b.rank);
    int64_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[96], sb[96];
      return op_error(context, StatusCode::kInvalidModel, "shapes %s and %s do not broadcast",
                      format_shape(a, sa, sizeof sa), format_shape(b, sb, sizeof sb));
    }
    out->dims[i] = da == 1 ? db : da;
  }
  return Status::ok();
}

void contiguous_strides(const Shape& shape, int64_t* strides) {
  int64_t stride = 1;
  for (int i = shape.rank - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape.dims[i];
  }
}

Status check_activation(const KernelContext& context, bool allowed) {
  ActivationKind kind = context.attributes.activation.kind;
  if (static_cast<uint32_t>(kind) > static_cast<uint32_t>(ActivationKind::kSilu))
    return op_error(context, StatusCode::kInvalidModel, "has unknown fused activation %u",
                    static_cast<unsigned>(kind));
  if (!allowed && kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation (got kind %u)",
                    static_cast<unsigned>(kind));
  return Status::ok();
}

Status check_channel_vector(const KernelContext& context, size_t index, int64_t channels) {
  EG_RETURN_IF_ERROR(check_input_dtype(context, index, DType::kFloat32));
  const Tensor& tensor = context.input(index);
  if (tensor.shape.rank != 1 || tensor.shape.dims[0] != channels) {
    char text[96];
    return op_error(context, StatusCode::kInvalidModel, "input %zu '%s' has shape %s, expected [%lld] (channels)",
                    index, tensor.name, format_shape(tensor.shape, text, sizeof text),
                    static_cast<long long>(channels));
  }
  return Status::ok();
}

Status check_epsilon(const KernelContext& context, size_t index) {
  const float epsilon = context.float_param(index);
  if (!(epsilon >= 0.f) || !std::isfinite(epsilon))
    return op_error(context, StatusCode::kInvalidModel, "epsilon %g must be finite and >= 0",
                    static_cast<double>(epsilon));
  return Status::ok();
}

void broadcast_strides(const Shape& shape, const Shape& out, int64_t* strides) {
  int64_t stride = 1;
  for (int i = out.rank - 1; i >= 0; --i) {
    int axis = i - (out.rank - shape.rank);
    int64_t dim = axis >= 0 ? shape.dims[axis] : 1;
    strides[i] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
}

float half_to_float(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t result;
  if (exponent == 0x1f) {
    // inf, or NaN with its payload kept and made quiet (as F16C and Arm FCVT do)
    result = sign | 0x7f800000u | (mantissa != 0 ? 0x400000u : 0u) | (mantissa << 13);
  } else if (exponent != 0) {
    result = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 -> 127
  } else if (mantissa == 0) {
    result = sign;
  } else {
    // Subnormal half: normalize, since every half subnormal is a float normal.
    uint32_t float_exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --float_exponent;
    }
    result = sign | (float_exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &result, sizeof value);
  return value;
}

uint16_t float_to_half(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u)  // NaN: keep the top payload bits, force quiet
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (magnitude >= 0x38800000u) {
    // Normal half: rebias the exponent (127 -> 15) and round the 13 dropped
    // bits to nearest even; a carry out of the mantissa bumps the exponent.
    uint32_t odd = (magnitude >> 13) & 1u;
    return static_cast<uint16_t>(sign | ((magnitude - 0x38000000u + 0xfffu + odd) >> 13));
  }
  if (magnitude < 0x33000000u) return sign;  // below 2^-25: rounds to (signed) zero
  // Subnormal half: value / 2^-24 = significand >> shift, rounded to nearest even.
  uint32_t exponent = magnitude >> 23;
  uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126 - exponent;
  uint32_t result = significand >> shift;
  uint32_t remainder = significand & ((1u << shift) - 1);
  uint32_t half_way = 1u << (shift - 1);
  if (remainder > half_way || (remainder == half_way && (result & 1u))) ++result;
  return static_cast<uint16_t>(sign | result);
}

}  // namespace edgegen
