// InstanceNorm reference kernel (ONNX InstanceNormalization): each (n, c)
// plane of x [N, C, ...] is normalized over its spatial elements with the
// biased variance, then y = gamma[c] * x_hat + beta[c]. f32 only; rank >= 2
// (rank 2 has one-element planes, so y = beta).
//
// Statistics are accumulated in double with two passes (mean, then the mean
// squared deviation): one-pass E[x^2] - E[x]^2 in float cancels badly when the
// mean is large compared with the spread, as it is in VAE decoders.
// Each plane's statistics are taken before it is written, so the kernel is
// safe in place.
#include <cmath>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

enum Input : size_t { kX = 0, kGamma = 1, kBeta = 2 };

Status instance_norm_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 3, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 1));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_epsilon(context, params::kEpsilon));
  EG_RETURN_IF_ERROR(check_input_dtype(context, kX, DType::kFloat32));
  EG_RETURN_IF_ERROR(check_input_rank(context, kX, 2, kMaxRank));
  const Shape& x = context.input(kX).shape;
  EG_RETURN_IF_ERROR(check_channel_vector(context, kGamma, x.dims[1]));
  EG_RETURN_IF_ERROR(check_channel_vector(context, kBeta, x.dims[1]));
  return set_output(context, 0, DType::kFloat32, x);
}

Status instance_norm_eval(const KernelContext& context) {
  const Tensor& x = context.input(kX);
  const float* in = x.data_as<const float>();
  const float* gamma = context.input(kGamma).data_as<const float>();
  const float* beta = context.input(kBeta).data_as<const float>();
  float* out = context.output(0).data_as<float>();
  const double epsilon = context.float_param(params::kEpsilon);

  const int64_t planes = x.shape.dims[0] * x.shape.dims[1], channels = x.shape.dims[1];
  int64_t spatial = 1;
  for (int d = 2; d < x.shape.rank; ++d) spatial *= x.shape.dims[d];
  if (spatial == 0) return Status::ok();

  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* src = in + plane * spatial;
    float* dst = out + plane * spatial;
    double sum = 0.0;
    for (int64_t i = 0; i < spatial; ++i) sum += src[i];
    const double mean = sum / static_cast<double>(spatial);
    double squares = 0.0;
    for (int64_t i = 0; i < spatial; ++i) {
      const double deviation = src[i] - mean;
      squares += deviation * deviation;
    }
    const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>(spatial) + epsilon);
    const int64_t c = plane % channels;
    const double scale = inv_std * gamma[c];
    for (int64_t i = 0; i < spatial; ++i) dst[i] = static_cast<float>((src[i] - mean) * scale + beta[c]);
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kInstanceNormKernel = {instance_norm_infer, instance_norm_eval};

}  // namespace edgegen
