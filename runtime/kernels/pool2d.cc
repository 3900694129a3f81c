// MaxPool2d and AveragePool2d, NCHW, with strides, dilations, pads, ceil_mode
// and count_include_pad as in ONNX. A 1-D input [N, C, L] pools as H = 1.
#include <limits>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

// Kernel sizes, strides, dilations and pads above this are rejected as
// malformed; it keeps every size computation far from int64 overflow.
constexpr int64_t kMaxPoolParam = int64_t{1} << 24;

struct PoolAxis {
  int64_t in, out, kernel, stride, dilation, pad_begin, pad_end;
};

PoolAxis pool_axis(const KernelContext& context, int64_t in, int64_t out, bool height) {
  PoolAxis a;
  a.in = in;
  a.out = out;
  a.kernel = context.int_param(height ? kPoolKernelH : kPoolKernelW);
  a.stride = context.int_param(height ? kPoolStrideH : kPoolStrideW);
  a.dilation = context.int_param(height ? kPoolDilationH : kPoolDilationW);
  a.pad_begin = context.int_param(height ? kPoolPadTop : kPoolPadLeft);
  a.pad_end = context.int_param(height ? kPoolPadBottom : kPoolPadRight);
  return a;
}

// Output length of one axis, or -1 when the dilated window does not fit in
// the padded input. In ceil mode a last window that would start inside the
// end padding is dropped (ONNX, PyTorch).
int64_t pool_output_size(const PoolAxis& a, bool ceil_mode) {
  const int64_t padded = a.in + a.pad_begin + a.pad_end;
  if (padded < 1 || a.kernel - 1 > (padded - 1) / a.dilation) return -1;
  const int64_t span = padded - a.dilation * (a.kernel - 1) - 1;
  int64_t out = (ceil_mode ? span + a.stride - 1 : span) / a.stride + 1;
  if (ceil_mode && (out - 1) * a.stride >= a.in + a.pad_begin) --out;
  return out;
}

Status pool_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, kPoolIntCount, 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not accept a fused activation");
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  EG_RETURN_IF_ERROR(check_input_rank(context, 0, 3, 4));
  const Tensor& x = context.input(0);
  const int rank = x.shape.rank;

  static const char* const kNames[kPoolIntCount] = {
      "kernel_h", "kernel_w", "stride_h",   "stride_w",  "dilation_h", "dilation_w",
      "pad_top",  "pad_left", "pad_bottom", "pad_right", "ceil_mode",  "count_include_pad"};
  for (int i = 0; i < kPoolIntCount; ++i) {
    const int64_t value = context.int_param(i);
    const bool is_pad = i >= kPoolPadTop && i <= kPoolPadRight;
    const bool is_flag = i == kPoolCeilMode || i == kPoolCountIncludePad;
    const int64_t low = is_pad || is_flag ? 0 : 1, high = is_flag ? 1 : kMaxPoolParam;
    if (value < low || value > high)
      return op_error(context, StatusCode::kInvalidModel, "%s = %lld is out of range", kNames[i],
                      static_cast<long long>(value));
  }
  if (rank == 3 && (context.int_param(kPoolKernelH) != 1 || context.int_param(kPoolStrideH) != 1 ||
                    context.int_param(kPoolDilationH) != 1 || context.int_param(kPoolPadTop) != 0 ||
                    context.int_param(kPoolPadBottom) != 0))
    return op_error(context, StatusCode::kInvalidModel,
                    "1-D pooling needs kernel_h = stride_h = dilation_h = 1 and zero top/bottom padding");

  const bool ceil_mode = context.int_param(kPoolCeilMode) != 0;
  Shape out = x.shape;
  for (int axis = 2; axis < rank; ++axis) {
    const bool height = rank == 4 && axis == 2;
    out.dims[axis] = pool_output_size(pool_axis(context, x.shape.dims[axis], 0, height), ceil_mode);
    if (out.dims[axis] < 0) {
      char xs[96];
      return op_error(context, StatusCode::kInvalidModel, "%s window is larger than padded input '%s' %s",
                      height ? "vertical" : "horizontal", x.name, format_shape(x.shape, xs, sizeof xs));
    }
  }
  return set_output(context, 0, DType::kFloat32, out);
}

// The output positions [*begin, *end) of a window tap whose input index
// o * stride + offset lies in [0, in).
void valid_outputs(const PoolAxis& a, int64_t offset, int64_t* begin, int64_t* end) {
  int64_t first = offset >= 0 ? 0 : (-offset + a.stride - 1) / a.stride;
  int64_t last = offset >= a.in ? 0 : (a.in - 1 - offset) / a.stride + 1;
  if (last > a.out) last = a.out;
  if (first > last) first = last;
  *begin = first;
  *end = last;
}

// How many taps of window `o` fall in [low, high).
int64_t count_taps(const PoolAxis& a, int64_t o, int64_t low, int64_t high) {
  int64_t count = 0;
  for (int64_t k = 0; k < a.kernel; ++k) {
    const int64_t i = o * a.stride - a.pad_begin + k * a.dilation;
    if (i >= low && i < high) ++count;
  }
  return count;
}

template <bool kMax>
Status pool_eval(const KernelContext& context) {
  const Tensor& x = context.input(0);
  const Tensor& y = context.output(0);
  const bool two_d = x.shape.rank == 4;
  const PoolAxis ah = pool_axis(context, two_d ? x.shape.dims[2] : 1, two_d ? y.shape.dims[2] : 1, true);
  const PoolAxis aw = pool_axis(context, x.shape.dims[x.shape.rank - 1], y.shape.dims[y.shape.rank - 1], false);
  const bool include_pad = context.int_param(kPoolCountIncludePad) != 0;
  const int64_t planes = x.shape.dims[0] * x.shape.dims[1];
  const float* input = x.data_as<const float>();
  float* output = y.data_as<float>();
  // A window with no input element (possible only with pads or dilation
  // larger than the input) gives -inf for max, like PyTorch, and 0 for an
  // average that excludes padding.
  const float init = kMax ? -std::numeric_limits<float>::infinity() : 0.f;

  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* in = input + plane * ah.in * aw.in;
    float* out = output + plane * ah.out * aw.out;
    for (int64_t oh = 0; oh < ah.out; ++oh) {
      float* out_row = out + oh * aw.out;
      for (int64_t ow = 0; ow < aw.out; ++ow) out_row[ow] = init;
      // Each window tap folds a strided input row into the contiguous output row.
      for (int64_t kh = 0; kh < ah.kernel; ++kh) {
        const int64_t ih = oh * ah.stride - ah.pad_begin + kh * ah.dilation;
        if (ih < 0 || ih >= ah.in) continue;
        const float* in_row = in + ih * aw.in;
        for (int64_t kw = 0; kw < aw.kernel; ++kw) {
          const int64_t offset = kw * aw.dilation - aw.pad_begin;
          int64_t begin, end;
          valid_outputs(aw, offset, &begin, &end);
          for (int64_t ow = begin; ow < end; ++ow) {
            const float v = in_row[ow * aw.stride + offset];
            if (kMax) {
              if (v > out_row[ow] || v != v) out_row[ow] = v;  // NaN wins, as in ONNX and PyTorch
            } else {
              out_row[ow] += v;
            }
          }
        }
      }
      if (!kMax) {
        // With count_include_pad the divisor counts taps inside the padded
        // input, not ceil_mode's overhang past it (ONNX, PyTorch).
        const int64_t rows = include_pad ? count_taps(ah, oh, -ah.pad_begin, ah.in + ah.pad_end)
                                         : count_taps(ah, oh, 0, ah.in);
        for (int64_t ow = 0; ow < aw.out; ++ow) {
          const int64_t count = rows * (include_pad ? count_taps(aw, ow, -aw.pad_begin, aw.in + aw.pad_end)
                                                    : count_taps(aw, ow, 0, aw.in));
          out_row[ow] = count > 0 ? out_row[ow] / static_cast<float>(count) : 0.f;
        }
      }
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kMaxPool2dKernel = {pool_infer, pool_eval<true>};
extern const Kernel kAveragePool2dKernel = {pool_infer, pool_eval<false>};

}  // namespace edgegen
