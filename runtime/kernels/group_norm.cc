// GroupNorm reference kernel (PyTorch nn.GroupNorm semantics): the C channels
// of x [N, C, ...] are split into `groups` groups of C / groups consecutive
// channels; each (n, group) is normalized over its channels x spatial elements
// with the biased variance, then y = gamma[c] * x_hat + beta[c] per channel.
// Rank >= 2, then the fused activation.
//
// Float32, or int8/uint8 with per-tensor quantization (an int8 decoder's
// norm between two int8 convolutions): kernels/quantized_group_norm.h has
// that arithmetic, which the fast path shares.
//
// Float statistics are accumulated in double with two passes (mean, then the mean
// squared deviation), which stays accurate when the mean is large compared
// with the spread. A group's statistics are taken before it is written, so
// the kernel is safe in place.
#include <cmath>

#include "kernels/kernel_util.h"
#include "kernels/quantized_group_norm.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

enum Input : size_t { kX = 0, kGamma = 1, kBeta = 2 };

Status group_norm_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 3, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 1));
  EG_RETURN_IF_ERROR(check_activation(context, true));
  EG_RETURN_IF_ERROR(check_epsilon(context, params::kEpsilon));
  const DType dtype = context.input(kX).dtype;
  if (is_quantized_dtype(dtype)) {
    const Tensor& x = context.input(kX);
    const Tensor& y = context.output(0);
    if (!x.quant.per_tensor())
      return op_error(context, StatusCode::kInvalidModel, "%s input '%s' needs one scale and zero point", dtype_name(dtype),
                      x.name);
    // Declared once the converter knows it; the model must declare it.
    if (y.quant.present() && !y.quant.per_tensor())
      return op_error(context, StatusCode::kInvalidModel, "%s output '%s' needs one scale and zero point",
                      dtype_name(dtype), y.name);
  } else {
    EG_RETURN_IF_ERROR(check_input_dtype(context, kX, DType::kFloat32));
  }
  EG_RETURN_IF_ERROR(check_input_rank(context, kX, 2, kMaxRank));
  const Shape& x = context.input(kX).shape;
  const int64_t channels = x.dims[1];
  const int64_t groups = context.int_param(params::kNormGroups);
  if (groups < 1 || channels % groups != 0)
    return op_error(context, StatusCode::kInvalidModel, "groups %lld must be >= 1 and divide the %lld channels of '%s'",
                    static_cast<long long>(groups), static_cast<long long>(channels), context.input(kX).name);
  EG_RETURN_IF_ERROR(check_channel_vector(context, kGamma, channels));
  EG_RETURN_IF_ERROR(check_channel_vector(context, kBeta, channels));
  return set_output(context, 0, dtype, x);
}

// The int8/uint8 form (quantized_group_norm.h), one group at a time.
template <typename T>
Status quantized_group_norm_eval(const KernelContext& context, int64_t batch, int64_t channels, int64_t groups,
                                 int64_t spatial) {
  const Tensor& x = context.input(kX);
  const Tensor& y = context.output(0);
  if (!y.quant.present())
    return op_error(context, StatusCode::kInvalidModel, "%s output '%s' has no quantization", dtype_name(y.dtype),
                    y.name);
  const T* in = x.data_as<const T>();
  T* out = y.data_as<T>();
  const float* gamma = context.input(kGamma).data_as<const float>();
  const float* beta = context.input(kBeta).data_as<const float>();
  const FusedActivation& act = context.attributes.activation;
  const QuantizedGroupNormOutput quantize = quantized_group_norm_output(y.quant.scale(), y.quant.zero_point(), y.dtype);
  const int64_t group_channels = channels / groups;
  const int64_t group_size = group_channels * spatial;
  // A group's coefficients in chunks on the stack: no scratch; statistics are
  // taken before the group is written, so the kernel is safe in place.
  constexpr int64_t kChunk = 64;
  float a[kChunk], b[kChunk];
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t first_channel = g * group_channels;
      const T* src = in + (n * channels + first_channel) * spatial;
      T* dst = out + (n * channels + first_channel) * spatial;
      int64_t sum = 0, squares = 0;
      for (int64_t i = 0; i < group_size; ++i) {
        const int64_t q = src[i];
        sum += q;
        squares += q * q;
      }
      for (int64_t k0 = 0; k0 < group_channels; k0 += kChunk) {
        const int64_t count = group_channels - k0 < kChunk ? group_channels - k0 : kChunk;
        quantized_group_norm_coefficients(sum, squares, group_size, x.quant.scale(),
                                          context.float_param(params::kEpsilon), gamma + first_channel + k0,
                                          beta + first_channel + k0, a, b, static_cast<size_t>(count));
        for (int64_t k = 0; k < count; ++k) {
          const T* channel_src = src + (k0 + k) * spatial;
          T* channel_dst = dst + (k0 + k) * spatial;
          for (int64_t i = 0; i < spatial; ++i) {
            const float value = apply_activation(quantized_group_norm_value(a[k], channel_src[i], b[k]), act);
            channel_dst[i] = static_cast<T>(quantize_group_norm_value(value, quantize));
          }
        }
      }
    }
  }
  return Status::ok();
}

Status group_norm_eval(const KernelContext& context) {
  const Tensor& x = context.input(kX);
  if (is_quantized_dtype(x.dtype)) {
    int64_t spatial = 1;
    for (int d = 2; d < x.shape.rank; ++d) spatial *= x.shape.dims[d];
    const int64_t batch = x.shape.dims[0], channels = x.shape.dims[1];
    const int64_t groups = context.int_param(params::kNormGroups);
    if (batch * channels * spatial == 0) return Status::ok();
    return x.dtype == DType::kInt8 ? quantized_group_norm_eval<int8_t>(context, batch, channels, groups, spatial)
                                   : quantized_group_norm_eval<uint8_t>(context, batch, channels, groups, spatial);
  }
  const float* in = x.data_as<const float>();
  const float* gamma = context.input(kGamma).data_as<const float>();
  const float* beta = context.input(kBeta).data_as<const float>();
  float* out = context.output(0).data_as<float>();
  const double epsilon = context.float_param(params::kEpsilon);
  const FusedActivation& act = context.attributes.activation;

  const int64_t batch = x.shape.dims[0], channels = x.shape.dims[1];
  const int64_t groups = context.int_param(params::kNormGroups);
  const int64_t group_channels = channels / groups;
  int64_t spatial = 1;
  for (int d = 2; d < x.shape.rank; ++d) spatial *= x.shape.dims[d];
  const int64_t group_size = group_channels * spatial;
  if (group_size == 0) return Status::ok();

  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      // A group's channels are consecutive, so its elements are one block.
      const int64_t first_channel = g * group_channels;
      const float* src = in + (n * channels + first_channel) * spatial;
      float* dst = out + (n * channels + first_channel) * spatial;
      double sum = 0.0;
      for (int64_t i = 0; i < group_size; ++i) sum += src[i];
      const double mean = sum / static_cast<double>(group_size);
      double squares = 0.0;
      for (int64_t i = 0; i < group_size; ++i) {
        const double deviation = src[i] - mean;
        squares += deviation * deviation;
      }
      const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>(group_size) + epsilon);
      for (int64_t k = 0; k < group_channels; ++k) {
        const int64_t c = first_channel + k;
        const double scale = inv_std * gamma[c];
        const float* channel_src = src + k * spatial;
        float* channel_dst = dst + k * spatial;
        for (int64_t i = 0; i < spatial; ++i)
          channel_dst[i] = apply_activation(static_cast<float>((channel_src[i] - mean) * scale + beta[c]), act);
      }
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kGroupNormKernel = {group_norm_infer, group_norm_eval};

}  // namespace edgegen
