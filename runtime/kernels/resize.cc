// Resize of H and W (NCHW, or NCL as H = 1) with ONNX Resize semantics:
// nearest (four rounding modes) or linear (bilinear) sampling, and the
// half_pixel, asymmetric, align_corners and pytorch_half_pixel coordinate
// transforms. No antialiasing, as ONNX 'linear' without antialias.
// Nearest also resizes int8/uint8 tensors (the upsampling of an int8
// decoder): it only copies values, so the output keeps the input's scale and
// zero point, which the converter gives it.
#include <cmath>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"
#include "kernels/resize_coordinates.h"

namespace edgegen {
namespace {

using namespace params;

Status resize_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, kResizeOutW + 1, kResizeScaleW + 1));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not accept a fused activation");
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 3, 4));

  const int64_t mode = context.int_param(kResizeMode);
  const DType dtype = context.input(0).dtype;
  const bool integer = dtype == DType::kInt8 || dtype == DType::kUInt8;
  if (integer && mode != kResizeNearestMode)
    return op_error(context, StatusCode::kUnsupportedOp,
                    "resizes %s input '%s' in linear mode; only nearest resizes quantized tensors (it copies values)",
                    dtype_name(dtype), context.input(0).name);
  if (!integer) EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  const Quantization& in_quant = context.input(0).quant;
  const Quantization& out_quant = context.output(0).quant;
  if (integer && out_quant.present() &&
      !(in_quant.per_tensor() && out_quant.per_tensor() && in_quant.scale() == out_quant.scale() &&
        in_quant.zero_point() == out_quant.zero_point()))
    return op_error(context, StatusCode::kInvalidModel,
                    "resizes %s input '%s' into an output of another quantization; nearest copies values, so both "
                    "need the same scale and zero point",
                    dtype_name(dtype), context.input(0).name);
  const int64_t coordinate = context.int_param(kResizeCoordinate);
  const int64_t nearest = context.int_param(kResizeNearest);
  if (mode != kResizeNearestMode && mode != kResizeLinear)
    return op_error(context, StatusCode::kInvalidModel, "mode = %lld is out of range", static_cast<long long>(mode));
  if (coordinate < kHalfPixel || coordinate > kPytorchHalfPixel)
    return op_error(context, StatusCode::kInvalidModel, "coordinate transform = %lld is out of range",
                    static_cast<long long>(coordinate));
  if (nearest < kRoundPreferFloor || nearest > kNearestCeil)
    return op_error(context, StatusCode::kInvalidModel, "nearest rounding = %lld is out of range",
                    static_cast<long long>(nearest));
  const float scales[2] = {context.float_param(kResizeScaleH), context.float_param(kResizeScaleW)};
  for (int i = 0; i < 2; ++i)
    if (!(scales[i] > 0.f) || !std::isfinite(scales[i]))
      return op_error(context, StatusCode::kInvalidModel, "scale_%c = %g must be positive and finite", "hw"[i],
                      static_cast<double>(scales[i]));

  const Tensor& x = context.input(0);
  const int rank = x.shape.rank;
  const int64_t out_h = context.int_param(kResizeOutH), out_w = context.int_param(kResizeOutW);
  if (out_h < 0 || out_w < 0 || (rank == 3 && out_h != 1))
    return op_error(context, StatusCode::kInvalidModel, "output size %lld x %lld is invalid for input '%s' of rank %d",
                    static_cast<long long>(out_h), static_cast<long long>(out_w), x.name, rank);
  const int64_t in_h = rank == 4 ? x.shape.dims[2] : 1, in_w = x.shape.dims[rank - 1];
  if ((in_h == 0 && out_h > 0) || (in_w == 0 && out_w > 0)) {
    char xs[96];
    return op_error(context, StatusCode::kInvalidModel, "cannot resize empty input '%s' %s to %lld x %lld", x.name,
                    format_shape(x.shape, xs, sizeof xs), static_cast<long long>(out_h),
                    static_cast<long long>(out_w));
  }
  Shape out = x.shape;
  if (rank == 4) out.dims[2] = out_h;
  out.dims[rank - 1] = out_w;
  return set_output(context, 0, dtype, out);
}

// Nearest sampling copies elements: any element type.
template <typename T>
void resize_nearest(const T* input, T* output, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                    int64_t out_w, float scale_h, float scale_w, int64_t transform, int64_t rounding) {
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* in = input + plane * in_h * in_w;
    T* out = output + plane * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      const float sy = resize_source_coordinate(oh, in_h, out_h, scale_h, transform);
      const T* in_row = in + resize_round_nearest(sy, rounding) * in_w;
      T* out_row = out + oh * out_w;
      for (int64_t ow = 0; ow < out_w; ++ow)
        out_row[ow] = in_row[resize_round_nearest(resize_source_coordinate(ow, in_w, out_w, scale_w, transform), rounding)];
    }
  }
}

Status resize_eval(const KernelContext& context) {
  const Tensor& x = context.input(0);
  const Tensor& y = context.output(0);
  const int rank = x.shape.rank;
  const int64_t in_h = rank == 4 ? x.shape.dims[2] : 1, in_w = x.shape.dims[rank - 1];
  const int64_t out_h = rank == 4 ? y.shape.dims[2] : 1, out_w = y.shape.dims[rank - 1];
  const int64_t planes = x.shape.dims[0] * x.shape.dims[1];
  const bool linear = context.int_param(kResizeMode) == kResizeLinear;
  const int64_t transform = context.int_param(kResizeCoordinate);
  const int64_t rounding = context.int_param(kResizeNearest);
  const float scale_h = context.float_param(kResizeScaleH), scale_w = context.float_param(kResizeScaleW);
  if (!linear) {
    if (x.dtype == DType::kFloat32)
      resize_nearest(x.data_as<const float>(), y.data_as<float>(), planes, in_h, in_w, out_h, out_w, scale_h, scale_w,
                     transform, rounding);
    else  // int8 or uint8 (infer): the same bytes either way
      resize_nearest(x.data_as<const uint8_t>(), y.data_as<uint8_t>(), planes, in_h, in_w, out_h, out_w, scale_h,
                     scale_w, transform, rounding);
    return Status::ok();
  }
  const float* input = x.data_as<const float>();
  float* output = y.data_as<float>();

  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* in = input + plane * in_h * in_w;
    float* out = output + plane * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      const float sy = resize_source_coordinate(oh, in_h, out_h, scale_h, transform);
      float* out_row = out + oh * out_w;
      // Clamping the coordinate first makes both neighbours edge-replicate,
      // which is what ONNX's edge padding of the input amounts to.
      const int64_t y0 = static_cast<int64_t>(sy);
      const int64_t y1 = y0 + 1 < in_h ? y0 + 1 : y0;
      const float wy = sy - static_cast<float>(y0);
      const float* row0 = in + y0 * in_w;
      const float* row1 = in + y1 * in_w;
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const float sx = resize_source_coordinate(ow, in_w, out_w, scale_w, transform);
        const int64_t x0 = static_cast<int64_t>(sx);
        const int64_t x1 = x0 + 1 < in_w ? x0 + 1 : x0;
        const float wx = sx - static_cast<float>(x0);
        const float top = (1.f - wx) * row0[x0] + wx * row0[x1];
        const float bottom = (1.f - wx) * row1[x0] + wx * row1[x1];
        out_row[ow] = (1.f - wy) * top + wy * bottom;
      }
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kResizeKernel = {resize_infer, resize_eval};

// Maps an output index to a (fractional) input coordinate, clamped to
// [0, in - 1]. float, like onnxruntime and PyTorch.
float resize_source_coordinate(int64_t out_index, int64_t in, int64_t out, float scale, int64_t transform) {
  const float x = static_cast<float>(out_index);
  float source = 0.f;
  switch (transform) {
    case params::kHalfPixel:
      source = (x + 0.5f) / scale - 0.5f;
      break;
    case params::kAsymmetric:
      source = x / scale;
      break;
    case params::kPytorchHalfPixel:
      source = out > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
      break;
    case params::kAlignCorners: {
      // ONNX takes the resized length as in * scale, which is fractional when
      // scales were given (test_resize_downsample_scales_linear_align_corners);
      // when sizes were given it is the output size, up to float rounding of
      // the scale, so snap it there to keep integer coordinates exact.
      float resized = static_cast<float>(in) * scale;
      if (std::fabs(resized - static_cast<float>(out)) <= 1e-5f * static_cast<float>(out))
        resized = static_cast<float>(out);
      source = resized > 1.f ? x * static_cast<float>(in - 1) / (resized - 1.f) : 0.f;
      break;
    }
  }
  const float high = static_cast<float>(in - 1);
  if (!(source >= 0.f)) return 0.f;  // also catches NaN
  return source > high ? high : source;
}

// ONNX nearest rounding of a non-negative coordinate; exact integers map to themselves.
int64_t resize_round_nearest(float source, int64_t rounding) {
  const float floor_value = std::floor(source);
  const int64_t below = static_cast<int64_t>(floor_value);
  const float fraction = source - floor_value;
  if (fraction == 0.f) return below;
  switch (rounding) {
    case params::kRoundPreferFloor: return fraction <= 0.5f ? below : below + 1;
    case params::kRoundPreferCeil: return fraction < 0.5f ? below : below + 1;
    case params::kNearestFloor: return below;
    default: return below + 1;  // kNearestCeil
  }
}

}  // namespace edgegen
