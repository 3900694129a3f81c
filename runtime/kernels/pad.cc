// Pad reference kernel (ONNX Pad): ints {mode, begin_0..begin_{r-1},
// end_0..end_{r-1}}, floats {value}. Modes: constant (fill with `value`),
// reflect (mirror about the edge element, which is not repeated) and edge
// (repeat the edge element).
//
// A negative pad crops, as in ONNX Runtime: an axis is first cropped by its
// negative pads, then padded by its positive ones, so reflect and edge read
// only kept elements. Per axis of length n infer requires:
//   -n <= begin, end <= 2^40 and kept = n + min(begin, 0) + min(end, 0) >= 0;
//   reflect: every positive pad < kept (numpy would reflect repeatedly);
//   edge: kept >= 1 if any pad is positive.
// Dtypes: float32, int32, int64, int8, uint8, bool (value must convert
// exactly: an integer in range, 0 or 1 for bool); float16 in reflect and edge
// modes only. Any rank (rank 0 copies the scalar). The output must not alias
// the input.
#include <cmath>
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

constexpr int64_t kMaxPad = int64_t{1} << 40;

struct AxisPad {
  int64_t pad_begin;   // elements added before the kept range
  int64_t crop_begin;  // input elements dropped before it
  int64_t kept;        // input elements kept
  int64_t pad_end;     // elements added after it
};

AxisPad axis_pad(const KernelContext& context, const Shape& input, int d) {
  const int64_t begin = context.int_param(params::kPadBegin + d);
  const int64_t end = context.int_param(params::kPadBegin + input.rank + d);
  return {begin > 0 ? begin : 0, begin < 0 ? -begin : 0,
          input.dims[d] + (begin < 0 ? begin : 0) + (end < 0 ? end : 0), end > 0 ? end : 0};
}

// The input coordinate that output coordinate `o` reads along one axis, or -1
// where the constant goes.
int64_t source_index(int64_t o, const AxisPad& axis, int64_t mode) {
  int64_t j = o - axis.pad_begin;
  if (j < 0 || j >= axis.kept) {
    if (mode == params::kPadConstant) return -1;
    if (mode == params::kPadEdge) j = j < 0 ? 0 : axis.kept - 1;
    else j = j < 0 ? -j : 2 * (axis.kept - 1) - j;
  }
  return axis.crop_begin + j;
}

// `value` as one element of `dtype`; false if it does not convert exactly.
bool encode_value(float value, DType dtype, unsigned char* bytes) {
  const bool integral = std::trunc(value) == value;
  switch (dtype) {
    case DType::kFloat32: std::memcpy(bytes, &value, sizeof value); return true;
    case DType::kFloat16: return false;
    case DType::kBool:
      if (value != 0.f && value != 1.f) return false;
      bytes[0] = value != 0.f ? 1 : 0;
      return true;
    case DType::kInt8: {
      if (!integral || value < -128.f || value > 127.f) return false;
      const auto v = static_cast<int8_t>(value);
      std::memcpy(bytes, &v, sizeof v);
      return true;
    }
    case DType::kUInt8: {
      if (!integral || value < 0.f || value > 255.f) return false;
      const auto v = static_cast<uint8_t>(value);
      std::memcpy(bytes, &v, sizeof v);
      return true;
    }
    case DType::kInt32: {
      if (!integral || value < -2147483648.f || value >= 2147483648.f) return false;
      const auto v = static_cast<int32_t>(value);
      std::memcpy(bytes, &v, sizeof v);
      return true;
    }
    case DType::kInt64: {
      if (!integral || value < -9223372036854775808.f || value >= 9223372036854775808.f) return false;
      const auto v = static_cast<int64_t>(value);
      std::memcpy(bytes, &v, sizeof v);
      return true;
    }
  }
  return false;
}

Status pad_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  const Tensor& input = context.input(0);
  const int rank = input.shape.rank;
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 2 * static_cast<size_t>(rank) + 1, 1));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  if (dtype_size(input.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", input.name);
  const int64_t mode = context.int_param(params::kPadMode);
  if (mode != params::kPadConstant && mode != params::kPadReflect && mode != params::kPadEdge)
    return op_error(context, StatusCode::kInvalidModel, "unknown mode %lld", static_cast<long long>(mode));
  if (mode == params::kPadConstant) {
    const float value = context.float_param(0);
    unsigned char bytes[8];
    if (input.dtype == DType::kFloat16)
      return op_error(context, StatusCode::kUnsupportedOp, "constant padding of float16 '%s' is not supported",
                      input.name);
    if (!encode_value(value, input.dtype, bytes))
      return op_error(context, StatusCode::kInvalidModel, "value %g cannot be stored exactly as %s",
                      static_cast<double>(value), dtype_name(input.dtype));
  }

  Shape shape;
  shape.rank = rank;
  for (int d = 0; d < rank; ++d) {
    const int64_t n = input.shape.dims[d];
    const int64_t begin = context.int_param(params::kPadBegin + d);
    const int64_t end = context.int_param(params::kPadBegin + rank + d);
    if (begin < -n || end < -n || begin > kMaxPad || end > kMaxPad)
      return op_error(context, StatusCode::kInvalidModel, "pads %lld, %lld are out of range for dim %d of length %lld",
                      static_cast<long long>(begin), static_cast<long long>(end), d, static_cast<long long>(n));
    const AxisPad axis = axis_pad(context, input.shape, d);
    if (axis.kept < 0)
      return op_error(context, StatusCode::kInvalidModel, "pads %lld, %lld crop more than dim %d of length %lld",
                      static_cast<long long>(begin), static_cast<long long>(end), d, static_cast<long long>(n));
    const bool pads = axis.pad_begin > 0 || axis.pad_end > 0;
    if (mode == params::kPadReflect && pads && (axis.pad_begin >= axis.kept || axis.pad_end >= axis.kept))
      return op_error(context, StatusCode::kInvalidModel,
                      "reflect pads %lld, %lld must be less than the %lld kept elements of dim %d",
                      static_cast<long long>(axis.pad_begin), static_cast<long long>(axis.pad_end),
                      static_cast<long long>(axis.kept), d);
    if (mode == params::kPadEdge && pads && axis.kept == 0)
      return op_error(context, StatusCode::kInvalidModel, "edge padding of dim %d, which keeps no elements", d);
    shape.dims[d] = axis.pad_begin + axis.kept + axis.pad_end;
  }
  return set_output(context, 0, input.dtype, shape);
}

Status pad_eval(const KernelContext& context) {
  const Tensor& input = context.input(0);
  Tensor& output = context.output(0);
  const int rank = input.shape.rank;
  const size_t element = dtype_size(input.dtype);
  const auto* in = static_cast<const unsigned char*>(input.data);
  auto* out = static_cast<unsigned char*>(output.data);
  if (output.num_elements() == 0) return Status::ok();
  if (rank == 0) {
    std::memcpy(out, in, element);
    return Status::ok();
  }
  const int64_t mode = context.int_param(params::kPadMode);
  unsigned char value[8] = {};
  if (mode == params::kPadConstant) encode_value(context.float_param(0), input.dtype, value);

  AxisPad axes[kMaxRank];
  for (int d = 0; d < rank; ++d) axes[d] = axis_pad(context, input.shape, d);
  int64_t input_strides[kMaxRank];
  contiguous_strides(input.shape, input_strides);

  // Rows along the last axis: find the input row the outer coordinates map
  // to (if any), copy its kept run in one block, fill the pads around it.
  const int last = rank - 1;
  const AxisPad& row_axis = axes[last];
  const int64_t row_length = output.shape.dims[last];
  const int64_t rows = output.shape.num_elements() / row_length;
  int64_t index[kMaxRank] = {};
  for (int64_t r = 0; r < rows; ++r) {
    unsigned char* dst = out + static_cast<size_t>(r * row_length) * element;
    bool constant_row = false;
    int64_t source_row = 0;
    for (int d = 0; d < last && !constant_row; ++d) {
      const int64_t source = source_index(index[d], axes[d], mode);
      if (source < 0) constant_row = true;
      else source_row += source * input_strides[d];
    }
    const unsigned char* src = constant_row ? nullptr : in + static_cast<size_t>(source_row) * element;
    auto put = [&](int64_t o) {
      const int64_t source = constant_row ? -1 : source_index(o, row_axis, mode);
      std::memcpy(dst + static_cast<size_t>(o) * element,
                  source < 0 ? value : src + static_cast<size_t>(source) * element, element);
    };
    if (constant_row) {
      for (int64_t o = 0; o < row_length; ++o) put(o);
    } else {
      const int64_t kept_end = row_axis.pad_begin + row_axis.kept;
      for (int64_t o = 0; o < row_axis.pad_begin; ++o) put(o);
      if (row_axis.kept > 0)
        std::memcpy(dst + static_cast<size_t>(row_axis.pad_begin) * element,
                    src + static_cast<size_t>(row_axis.crop_begin) * element,
                    static_cast<size_t>(row_axis.kept) * element);
      for (int64_t o = kept_end; o < row_length; ++o) put(o);
    }
    for (int d = last - 1; d >= 0; --d) {
      if (++index[d] < output.shape.dims[d]) break;
      index[d] = 0;
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kPadKernel = {pad_infer, pad_eval};

}  // namespace edgegen
