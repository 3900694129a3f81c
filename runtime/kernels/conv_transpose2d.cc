// ConvTranspose2d: the adjoint of Conv2d, NCHW, weight [C, O/groups, kH, kW]
// (ONNX layout), grouped, dilated, with output_padding, optional bias and
// fused activation. A 1-D input [N, C, L] runs as 2-D with H = 1.
#include "kernels/kernel_util.h"
#include "kernels/quantization.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

// Strides, dilations and pads above this are rejected as malformed; with
// kMaxSize it keeps every size computation far from int64 overflow.
constexpr int64_t kMaxConvParam = int64_t{1} << 24;
constexpr int64_t kMaxSize = int64_t{1} << 40;

struct ConvTransposeGeometry {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, groups;
};

ConvTransposeGeometry conv_transpose_geometry(const KernelContext& context) {
  const Shape& x = context.input(0).shape;
  const Shape& w = context.input(1).shape;
  const Shape& y = context.output(0).shape;
  const bool two_d = x.rank == 4;
  ConvTransposeGeometry g;
  g.batch = x.dims[0];
  g.in_channels = x.dims[1];
  g.in_h = two_d ? x.dims[2] : 1;
  g.in_w = x.dims[x.rank - 1];
  g.out_channels = y.dims[1];
  g.out_h = two_d ? y.dims[2] : 1;
  g.out_w = y.dims[y.rank - 1];
  g.kernel_h = two_d ? w.dims[2] : 1;
  g.kernel_w = w.dims[w.rank - 1];
  g.stride_h = context.int_param(kStrideH);
  g.stride_w = context.int_param(kStrideW);
  g.dilation_h = context.int_param(kDilationH);
  g.dilation_w = context.int_param(kDilationW);
  g.pad_top = context.int_param(kPadTop);
  g.pad_left = context.int_param(kPadLeft);
  g.groups = context.int_param(kGroups);
  return g;
}

// (in - 1) * stride - pad_begin - pad_end + dilation * (kernel - 1) + output_padding + 1,
// or -1 if it is negative or absurdly large.
int64_t conv_transpose_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                                   int64_t pad_end, int64_t output_padding) {
  if (in - 1 > kMaxSize / stride || kernel - 1 > kMaxSize / dilation) return -1;
  const int64_t size = (in - 1) * stride - pad_begin - pad_end + dilation * (kernel - 1) + output_padding + 1;
  return size < 0 ? -1 : size;
}

Status conv_transpose_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, kConvTransposeIntCount, 0));
  const uint32_t activation = static_cast<uint32_t>(context.attributes.activation.kind);
  if (activation > static_cast<uint32_t>(ActivationKind::kSilu))
    return op_error(context, StatusCode::kInvalidModel, "unknown fused activation %u", activation);
  const bool quantized = is_quantized_dtype(context.input(0).dtype);
  if (!quantized) {
    EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
    EG_RETURN_IF_ERROR(check_input_dtype(context, 1, DType::kFloat32));
  }
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 3, 4));
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const int rank = x.shape.rank;
  EG_RETURN_IF_ERROR(check_input_rank(context, 1, rank, rank));

  static const char* const kNames[kConvTransposeIntCount] = {
      "stride_h", "stride_w",  "dilation_h", "dilation_w",       "pad_top",         "pad_left",
      "pad_bottom", "pad_right", "groups",   "output_padding_h", "output_padding_w"};
  for (int i = 0; i < kConvTransposeIntCount; ++i) {
    const int64_t value = context.int_param(i);
    const bool may_be_zero = (i >= kPadTop && i <= kPadRight) || i >= kOutputPadH;
    if (value < (may_be_zero ? 0 : 1) || value > kMaxConvParam)
      return op_error(context, StatusCode::kInvalidModel, "%s = %lld is out of range", kNames[i],
                      static_cast<long long>(value));
  }
  if (rank == 3 && (context.int_param(kStrideH) != 1 || context.int_param(kDilationH) != 1 ||
                    context.int_param(kPadTop) != 0 || context.int_param(kPadBottom) != 0 ||
                    context.int_param(kOutputPadH) != 0))
    return op_error(context, StatusCode::kInvalidModel,
                    "1-D convolution needs stride_h = dilation_h = 1 and zero top/bottom and output padding");
  // As ONNX and PyTorch require: a larger output_padding would add rows no
  // input position reaches.
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t stride = context.int_param(axis == 0 ? kStrideH : kStrideW);
    const int64_t dilation = context.int_param(axis == 0 ? kDilationH : kDilationW);
    const int64_t output_padding = context.int_param(axis == 0 ? kOutputPadH : kOutputPadW);
    if (output_padding >= (stride > dilation ? stride : dilation) && !(rank == 3 && axis == 0))
      return op_error(context, StatusCode::kInvalidModel, "%s = %lld must be less than the stride or dilation",
                      kNames[axis == 0 ? kOutputPadH : kOutputPadW], static_cast<long long>(output_padding));
  }

  const int64_t channels = x.shape.dims[1];
  const int64_t groups = context.int_param(kGroups);
  char xs[96], ws[96];
  if (channels % groups != 0)
    return op_error(context, StatusCode::kInvalidModel, "groups = %lld does not divide the %lld input channels",
                    static_cast<long long>(groups), static_cast<long long>(channels));
  if (w.shape.dims[0] != channels)
    return op_error(context, StatusCode::kInvalidModel, "weight '%s' %s does not match input '%s' %s", w.name,
                    format_shape(w.shape, ws, sizeof ws), x.name, format_shape(x.shape, xs, sizeof xs));
  for (int i = 2; i < rank; ++i)
    if (w.shape.dims[i] < 1)
      return op_error(context, StatusCode::kInvalidModel, "weight '%s' %s has an empty kernel", w.name,
                      format_shape(w.shape, ws, sizeof ws));
  if (w.shape.dims[1] > kMaxSize / groups)
    return op_error(context, StatusCode::kInvalidModel, "weight '%s' %s has too many output channels", w.name,
                    format_shape(w.shape, ws, sizeof ws));
  const int64_t out_channels = w.shape.dims[1] * groups;
  if (quantized) {
    // Per-channel weight scales along axis 1 ([C_in, C_out / groups, ...]) need groups = 1.
    EG_RETURN_IF_ERROR(check_quantized_linear(context, 1, out_channels));
    EG_RETURN_IF_ERROR(check_symmetric_int8_weight(context));
  } else if (context.has_input(2)) {
    EG_RETURN_IF_ERROR(check_input_dtype(context, 2, DType::kFloat32));
    EG_RETURN_IF_ERROR(check_input_rank(context, 2, 1, 1));
    const Tensor& bias = context.input(2);
    if (bias.shape.dims[0] != out_channels)
      return op_error(context, StatusCode::kInvalidModel, "bias '%s' has %lld elements, expected %lld", bias.name,
                      static_cast<long long>(bias.shape.dims[0]), static_cast<long long>(out_channels));
  }

  Shape out = x.shape;
  out.dims[1] = out_channels;
  if (rank == 4) {
    out.dims[2] = conv_transpose_output_size(x.shape.dims[2], w.shape.dims[2], context.int_param(kStrideH),
                                             context.int_param(kDilationH), context.int_param(kPadTop),
                                             context.int_param(kPadBottom), context.int_param(kOutputPadH));
  }
  out.dims[rank - 1] = conv_transpose_output_size(
      x.shape.dims[rank - 1], w.shape.dims[rank - 1], context.int_param(kStrideW), context.int_param(kDilationW),
      context.int_param(kPadLeft), context.int_param(kPadRight), context.int_param(kOutputPadW));
  if (out.dims[rank - 1] < 0 || (rank == 4 && out.dims[2] < 0))
    return op_error(context, StatusCode::kInvalidModel, "padding leaves no output for input '%s' %s and weight '%s' %s",
                    x.name, format_shape(x.shape, xs, sizeof xs), w.name, format_shape(w.shape, ws, sizeof ws));
  // A quantized transposed convolution accumulates one output plane in int32 scratch.
  if (quantized) context.scratch_bytes = static_cast<size_t>(out.dims[rank - 1] * (rank == 4 ? out.dims[2] : 1)) * 4;
  return set_output(context, 0, quantized ? x.dtype : DType::kFloat32, out);
}

// The input positions [*begin, *end) of a kernel tap whose output index
// i * stride + offset lies in [0, out_size).
void valid_inputs(int64_t offset, int64_t stride, int64_t out_size, int64_t in_size, int64_t* begin, int64_t* end) {
  int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t last = offset >= out_size ? 0 : (out_size - 1 - offset) / stride + 1;
  if (last > in_size) last = in_size;
  if (first > last) first = last;
  *begin = first;
  *end = last;
}

// Adds output channel `oc` of image `n` into the plane `out`:
// out[...] += w * (x - x_zero) over the input channels of its group and the
// kernel taps. One loop for float (x_zero 0) and quantized (int32) ops.
template <typename In, typename Weight, typename Acc>
void accumulate_output_plane(const ConvTransposeGeometry& g, const In* input, Acc x_zero, const Weight* weights,
                             int64_t n, int64_t oc, Acc* out) {
  const int64_t in_per_group = g.in_channels / g.groups;
  const int64_t out_per_group = g.out_channels / g.groups;
  const int64_t in_plane = g.in_h * g.in_w;
  const int64_t kernel_size = g.kernel_h * g.kernel_w;
  const int64_t group = oc / out_per_group;
  const int64_t oc_in_group = oc % out_per_group;
  for (int64_t ic = group * in_per_group; ic < (group + 1) * in_per_group; ++ic) {
    const In* in = input + (n * g.in_channels + ic) * in_plane;
    const Weight* kernel = weights + (ic * out_per_group + oc_in_group) * kernel_size;
    // Scatter form: each kernel tap adds a scaled copy of the input plane
    // to a strided lattice of the output plane. Clipping the tap's valid
    // input rectangle up front keeps the inner loop branch-free; it walks
    // a contiguous input row.
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      const int64_t offset_h = kh * g.dilation_h - g.pad_top;
      int64_t ih_begin, ih_end;
      valid_inputs(offset_h, g.stride_h, g.out_h, g.in_h, &ih_begin, &ih_end);
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t offset_w = kw * g.dilation_w - g.pad_left;
        int64_t iw_begin, iw_end;
        valid_inputs(offset_w, g.stride_w, g.out_w, g.in_w, &iw_begin, &iw_end);
        const Acc w = static_cast<Acc>(kernel[kh * g.kernel_w + kw]);
        for (int64_t ih = ih_begin; ih < ih_end; ++ih) {
          const In* in_row = in + ih * g.in_w;
          Acc* out_row = out + (ih * g.stride_h + offset_h) * g.out_w;
          for (int64_t iw = iw_begin; iw < iw_end; ++iw)
            out_row[iw * g.stride_w + offset_w] += w * (static_cast<Acc>(in_row[iw]) - x_zero);
        }
      }
    }
  }
}

Status conv_transpose_eval_float(const KernelContext& context) {
  const ConvTransposeGeometry g = conv_transpose_geometry(context);
  const float* input = context.input(0).data_as<const float>();
  const float* weights = context.input(1).data_as<const float>();
  const float* bias = context.has_input(2) ? context.input(2).data_as<const float>() : nullptr;
  float* output = context.output(0).data_as<float>();
  const int64_t out_plane = g.out_h * g.out_w;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      float* out = output + (n * g.out_channels + oc) * out_plane;
      const float init = bias ? bias[oc] : 0.f;
      for (int64_t i = 0; i < out_plane; ++i) out[i] = init;
      accumulate_output_plane(g, input, 0.f, weights, n, oc, out);
      apply_activation(out, static_cast<size_t>(out_plane), context.attributes.activation);
    }
  }
  return Status::ok();
}

template <typename T>
Status conv_transpose_eval_quantized(const KernelContext& context) {
  const ConvTransposeGeometry g = conv_transpose_geometry(context);
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const Tensor& y = context.output(0);
  const int32_t* bias = context.has_input(2) ? context.input(2).data_as<const int32_t>() : nullptr;
  int32_t* acc = static_cast<int32_t*>(context.scratch);
  QuantizedRange range;
  EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  const int64_t out_plane = g.out_h * g.out_w;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int32_t init = bias ? bias[oc] : 0;
      for (int64_t i = 0; i < out_plane; ++i) acc[i] = init;
      accumulate_output_plane(g, x.data_as<const T>(), x.quant.zero_point(), w.data_as<const int8_t>(), n, oc, acc);
      const Requantize requantize = channel_requantize(x, w, y, oc, range);
      T* out = y.data_as<T>() + (n * g.out_channels + oc) * out_plane;
      for (int64_t i = 0; i < out_plane; ++i) out[i] = static_cast<T>(requantize(acc[i]));
    }
  }
  return Status::ok();
}

Status conv_transpose_eval(const KernelContext& context) {
  switch (context.input(0).dtype) {
    case DType::kInt8: return conv_transpose_eval_quantized<int8_t>(context);
    case DType::kUInt8: return conv_transpose_eval_quantized<uint8_t>(context);
    default: return conv_transpose_eval_float(context);
  }
}

}  // namespace

extern const Kernel kConvTranspose2dKernel = {conv_transpose_infer, conv_transpose_eval};

}  // namespace edgegen
