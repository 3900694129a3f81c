// BatchNorm reference kernel (inference form): y = act(x * scale[c] + shift[c]).
// The converter folds mean, variance and epsilon into scale and shift, so the
// kernel is a per-channel affine map; x is f32 [N, C, ...] of rank >= 2.
// Element-wise per index, so it is safe in place (output aliasing x).
#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

enum Input : size_t { kX = 0, kScale = 1, kShift = 2 };

Status batch_norm_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 3, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  if (context.attributes.activation.kind > ActivationKind::kSilu)
    return op_error(context, StatusCode::kInvalidModel, "unknown fused activation %u",
                    static_cast<unsigned>(context.attributes.activation.kind));
  EG_RETURN_IF_ERROR(check_input_dtype(context, kX, DType::kFloat32));
  EG_RETURN_IF_ERROR(check_input_rank(context, kX, 2, kMaxRank));
  const Shape& x = context.input(kX).shape;
  EG_RETURN_IF_ERROR(check_channel_vector(context, kScale, x.dims[1]));
  EG_RETURN_IF_ERROR(check_channel_vector(context, kShift, x.dims[1]));
  return set_output(context, 0, DType::kFloat32, x);
}

Status batch_norm_eval(const KernelContext& context) {
  const Tensor& x = context.input(kX);
  const float* in = x.data_as<const float>();
  const float* scale = context.input(kScale).data_as<const float>();
  const float* shift = context.input(kShift).data_as<const float>();
  float* out = context.output(0).data_as<float>();
  const FusedActivation& activation = context.attributes.activation;

  const int64_t batch = x.shape.dims[0], channels = x.shape.dims[1];
  int64_t spatial = 1;
  for (int d = 2; d < x.shape.rank; ++d) spatial *= x.shape.dims[d];

  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t base = (n * channels + c) * spatial;
      const float s = scale[c], b = shift[c];
      for (int64_t i = 0; i < spatial; ++i)
        out[base + i] = apply_activation(in[base + i] * s + b, activation);
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kBatchNormKernel = {batch_norm_infer, batch_norm_eval};

}  // namespace edgegen
