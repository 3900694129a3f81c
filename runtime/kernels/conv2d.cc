// Conv2d: direct convolution, NCHW, grouped and depthwise, optional bias and
// fused activation. A 1-D convolution [N, C, L] runs as a 2-D one with H = 1.
#include "kernels/kernel_util.h"
#include "kernels/quantization.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

// Strides, dilations and pads above this are rejected as malformed; it keeps
// every size computation far from int64 overflow.
constexpr int64_t kMaxConvParam = int64_t{1} << 24;

struct ConvGeometry {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, groups;
};

// Reads the geometry from shapes and attributes; 1-D tensors get H = 1.
ConvGeometry conv_geometry(const KernelContext& context) {
  const Shape& x = context.input(0).shape;
  const Shape& w = context.input(1).shape;
  const bool two_d = x.rank == 4;
  ConvGeometry g;
  g.batch = x.dims[0];
  g.in_channels = x.dims[1];
  g.in_h = two_d ? x.dims[2] : 1;
  g.in_w = x.dims[x.rank - 1];
  g.out_channels = w.dims[0];
  g.kernel_h = two_d ? w.dims[2] : 1;
  g.kernel_w = w.dims[w.rank - 1];
  g.stride_h = context.int_param(kStrideH);
  g.stride_w = context.int_param(kStrideW);
  g.dilation_h = context.int_param(kDilationH);
  g.dilation_w = context.int_param(kDilationW);
  g.pad_top = context.int_param(kPadTop);
  g.pad_left = context.int_param(kPadLeft);
  g.groups = context.int_param(kGroups);
  const Shape& y = context.output(0).shape;
  g.out_h = two_d ? y.dims[2] : 1;
  g.out_w = y.dims[y.rank - 1];
  return g;
}

// Output length of one spatial dim, or -1 when the dilated kernel does not fit
// in the padded input.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                         int64_t pad_end) {
  const int64_t padded = in + pad_begin + pad_end;
  // dilation * (kernel - 1) + 1 <= padded, written so that it cannot overflow.
  if (padded < 1 || kernel - 1 > (padded - 1) / dilation) return -1;
  return (padded - dilation * (kernel - 1) - 1) / stride + 1;
}

Status conv_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 3, 1));
  bool int32_output = false;
  EG_RETURN_IF_ERROR(read_int32_output_flag(context, kConvInt32Output, &int32_output));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, context.attributes.num_ints, 0));
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

  static const char* const kNames[kConvIntCount] = {"stride_h", "stride_w", "dilation_h", "dilation_w", "pad_top",
                                                    "pad_left", "pad_bottom", "pad_right", "groups"};
  for (int i = 0; i < kConvIntCount; ++i) {
    const int64_t value = context.int_param(i);
    const bool is_pad = i >= kPadTop && i <= kPadRight;
    if (value < (is_pad ? 0 : 1) || value > kMaxConvParam)
      return op_error(context, StatusCode::kInvalidModel, "%s = %lld is out of range", kNames[i],
                      static_cast<long long>(value));
  }
  if (rank == 3 && (context.int_param(kStrideH) != 1 || context.int_param(kDilationH) != 1 ||
                    context.int_param(kPadTop) != 0 || context.int_param(kPadBottom) != 0))
    return op_error(context, StatusCode::kInvalidModel,
                    "1-D convolution needs stride_h = dilation_h = 1 and zero top/bottom padding");

  const int64_t channels = x.shape.dims[1];
  const int64_t out_channels = w.shape.dims[0];
  const int64_t groups = context.int_param(kGroups);
  char xs[96], ws[96];
  if (channels % groups != 0 || out_channels % groups != 0)
    return op_error(context, StatusCode::kInvalidModel,
                    "groups = %lld does not divide the %lld input and %lld output channels",
                    static_cast<long long>(groups), static_cast<long long>(channels),
                    static_cast<long long>(out_channels));
  if (w.shape.dims[1] != channels / groups)
    return op_error(context, StatusCode::kInvalidModel, "weight '%s' %s does not match input '%s' %s with %lld groups",
                    w.name, format_shape(w.shape, ws, sizeof ws), x.name, format_shape(x.shape, xs, sizeof xs),
                    static_cast<long long>(groups));
  for (int i = 2; i < rank; ++i)
    if (w.shape.dims[i] < 1)
      return op_error(context, StatusCode::kInvalidModel, "weight '%s' %s has an empty kernel", w.name,
                      format_shape(w.shape, ws, sizeof ws));
  if (quantized) {
    EG_RETURN_IF_ERROR(check_quantized_linear(context, 0, out_channels, int32_output));
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
    out.dims[2] = conv_output_size(x.shape.dims[2], w.shape.dims[2], context.int_param(kStrideH),
                                   context.int_param(kDilationH), context.int_param(kPadTop),
                                   context.int_param(kPadBottom));
  }
  out.dims[rank - 1] = conv_output_size(x.shape.dims[rank - 1], w.shape.dims[rank - 1], context.int_param(kStrideW),
                                        context.int_param(kDilationW), context.int_param(kPadLeft),
                                        context.int_param(kPadRight));
  if (out.dims[rank - 1] < 0 || (rank == 4 && out.dims[2] < 0))
    return op_error(context, StatusCode::kInvalidModel, "kernel of weight '%s' %s is larger than padded input '%s' %s",
                    w.name, format_shape(w.shape, ws, sizeof ws), x.name, format_shape(x.shape, xs, sizeof xs));
  // A quantized convolution accumulates one output plane in int32 scratch.
  if (quantized) context.scratch_bytes = static_cast<size_t>(out.dims[rank - 1] * (rank == 4 ? out.dims[2] : 1)) * 4;
  return set_output(context, 0, int32_output ? DType::kInt32 : quantized ? x.dtype : DType::kFloat32, out);
}

// The output positions [*begin, *end) of a kernel tap whose input index
// o * stride + offset lies in [0, in_size).
void valid_outputs(int64_t offset, int64_t stride, int64_t in_size, int64_t out_size, int64_t* begin,
                   int64_t* end) {
  int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t last = offset >= in_size ? 0 : (in_size - 1 - offset) / stride + 1;
  if (last > out_size) last = out_size;
  if (first > last) first = last;
  *begin = first;
  *end = last;
}

// Adds output channel `oc` of image `n` into the plane `out`:
// out[i] += sum over input channels and taps of (w - w_zero) * (x - x_zero).
// One loop for float (zero points 0) and quantized (int32 accumulators)
// convolutions; padding contributes nothing (x = x_zero there).
template <typename In, typename Weight, typename Acc>
void accumulate_output_plane(const ConvGeometry& g, const In* input, Acc x_zero, const Weight* weights, Acc w_zero,
                             int64_t n, int64_t oc, Acc* out) {
  const int64_t in_per_group = g.in_channels / g.groups;
  const int64_t out_per_group = g.out_channels / g.groups;
  const int64_t in_plane = g.in_h * g.in_w;
  const int64_t kernel_size = g.kernel_h * g.kernel_w;
  const int64_t first_ic = (oc / out_per_group) * in_per_group;
  for (int64_t ic = 0; ic < in_per_group; ++ic) {
    const In* in = input + (n * g.in_channels + first_ic + ic) * in_plane;
    const Weight* kernel = weights + (oc * in_per_group + ic) * kernel_size;
    // Each kernel tap adds a scaled, strided copy of the input plane to
    // the output plane. Clipping the tap's valid output rectangle up
    // front leaves a branch-free inner loop along a contiguous output row.
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      const int64_t offset_h = kh * g.dilation_h - g.pad_top;
      int64_t oh_begin, oh_end;
      valid_outputs(offset_h, g.stride_h, g.in_h, g.out_h, &oh_begin, &oh_end);
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t offset_w = kw * g.dilation_w - g.pad_left;
        int64_t ow_begin, ow_end;
        valid_outputs(offset_w, g.stride_w, g.in_w, g.out_w, &ow_begin, &ow_end);
        const Acc w = static_cast<Acc>(kernel[kh * g.kernel_w + kw]) - w_zero;
        for (int64_t oh = oh_begin; oh < oh_end; ++oh) {
          const In* in_row = in + (oh * g.stride_h + offset_h) * g.in_w;
          Acc* out_row = out + oh * g.out_w;
          for (int64_t ow = ow_begin; ow < ow_end; ++ow)
            out_row[ow] += w * (static_cast<Acc>(in_row[ow * g.stride_w + offset_w]) - x_zero);
        }
      }
    }
  }
}

Status conv_eval_float(const KernelContext& context) {
  const ConvGeometry g = conv_geometry(context);
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
      accumulate_output_plane(g, input, 0.f, weights, 0.f, n, oc, out);
      apply_activation(out, static_cast<size_t>(out_plane), context.attributes.activation);
    }
  }
  return Status::ok();
}

// A quantized convolution, x of type T and weight of type W; the output is
// requantized to T, or (int32_output) the int32 accumulator itself.
template <typename T, typename W>
Status conv_eval_quantized(const KernelContext& context) {
  const ConvGeometry g = conv_geometry(context);
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  const Tensor& y = context.output(0);
  const bool int32_output = y.dtype == DType::kInt32;
  const int32_t* bias = context.has_input(2) ? context.input(2).data_as<const int32_t>() : nullptr;
  int32_t* acc = static_cast<int32_t*>(context.scratch);
  QuantizedRange range;
  if (!int32_output) EG_RETURN_IF_ERROR(quantized_output_range(context, y, &range));
  const int64_t out_plane = g.out_h * g.out_w;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int32_t init = bias ? bias[oc] : 0;
      for (int64_t i = 0; i < out_plane; ++i) acc[i] = init;
      accumulate_output_plane(g, x.data_as<const T>(), x.quant.zero_point(), w.data_as<const W>(),
                              weight_zero_point(w, oc), n, oc, acc);
      if (int32_output) {
        int32_t* out = y.data_as<int32_t>() + (n * g.out_channels + oc) * out_plane;
        for (int64_t i = 0; i < out_plane; ++i) out[i] = acc[i];
        continue;
      }
      const Requantize requantize = channel_requantize(x, w, y, oc, range);
      T* out = y.data_as<T>() + (n * g.out_channels + oc) * out_plane;
      for (int64_t i = 0; i < out_plane; ++i) out[i] = static_cast<T>(requantize(acc[i]));
    }
  }
  return Status::ok();
}

template <typename T>
Status conv_eval_quantized_input(const KernelContext& context) {
  return context.input(1).dtype == DType::kUInt8 ? conv_eval_quantized<T, uint8_t>(context)
                                                 : conv_eval_quantized<T, int8_t>(context);
}

Status conv_eval(const KernelContext& context) {
  switch (context.input(0).dtype) {
    case DType::kInt8: return conv_eval_quantized_input<int8_t>(context);
    case DType::kUInt8: return conv_eval_quantized_input<uint8_t>(context);
    default: return conv_eval_float(context);
  }
}

}  // namespace

extern const Kernel kConv2dKernel = {conv_infer, conv_eval};

}  // namespace edgegen
