// LayerNorm reference kernel (ONNX LayerNormalization, one output): x is
// normalized over the trailing dims [axis, rank) with the biased variance,
// then y = x_hat * gamma + beta. f32 only; x of rank >= 1, 0 <= axis < rank.
//
// gamma and beta (beta may be absent) are usually shaped like the normalized
// dims; as in ONNX, where they enter through broadcasting Mul/Add, any shape
// that broadcasts to x while varying only over the normalized dims is
// accepted: rank <= rank(x), right-aligned with x, each dim equal to x's or 1,
// and 1 on every dim before `axis`.
//
// Statistics are accumulated in double with two passes (mean, then the mean
// squared deviation). A row's statistics are taken before it is written, so
// the kernel is safe in place.
#include <cmath>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

enum Input : size_t { kX = 0, kGamma = 1, kBeta = 2 };

Status check_affine_shape(const KernelContext& context, size_t index, const Shape& x, int axis) {
  EG_RETURN_IF_ERROR(check_input_dtype(context, index, DType::kFloat32));
  const Tensor& tensor = context.input(index);
  const Shape& shape = tensor.shape;
  bool ok = shape.rank <= x.rank;
  for (int j = 0; ok && j < shape.rank; ++j) {
    const int d = x.rank - shape.rank + j;
    ok = shape.dims[j] == 1 || (d >= axis && shape.dims[j] == x.dims[d]);
  }
  if (!ok) {
    char text[96], x_text[96];
    return op_error(context, StatusCode::kInvalidModel,
                    "input %zu '%s' has shape %s, which does not broadcast to the dims from axis %d of x %s", index,
                    tensor.name, format_shape(shape, text, sizeof text), axis, format_shape(x, x_text, sizeof x_text));
  }
  return Status::ok();
}

Status layer_norm_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 1));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_epsilon(context, params::kEpsilon));
  EG_RETURN_IF_ERROR(check_input_dtype(context, kX, DType::kFloat32));
  EG_RETURN_IF_ERROR(check_input_rank(context, kX, 1, kMaxRank));
  const Shape& x = context.input(kX).shape;
  const int64_t axis = context.int_param(params::kNormAxis);
  if (axis < 0 || axis >= x.rank)
    return op_error(context, StatusCode::kInvalidModel, "axis %lld is out of range for x of rank %d",
                    static_cast<long long>(axis), x.rank);
  EG_RETURN_IF_ERROR(check_affine_shape(context, kGamma, x, static_cast<int>(axis)));
  if (context.has_input(kBeta)) EG_RETURN_IF_ERROR(check_affine_shape(context, kBeta, x, static_cast<int>(axis)));
  return set_output(context, 0, DType::kFloat32, x);
}

// Reads gamma or beta at a flat index into the normalized dims, following
// broadcasting. A tensor with as many elements as a row is laid out like the
// row, so it is indexed directly.
class AffineParam {
 public:
  AffineParam(const Tensor* tensor, const Shape& x, int axis, int64_t row_size) : x_(x), axis_(axis) {
    if (tensor == nullptr) return;
    data_ = tensor->data_as<const float>();
    const Shape& shape = tensor->shape;
    direct_ = shape.num_elements() == row_size;
    int64_t stride = 1;
    for (int d = x.rank - 1; d >= axis; --d) {
      const int j = d - (x.rank - shape.rank);
      const bool varies = j >= 0 && shape.dims[j] != 1;
      strides_[d] = varies ? stride : 0;
      if (j >= 0) stride *= shape.dims[j];
    }
  }

  float operator()(int64_t index) const {
    if (data_ == nullptr) return 0.f;
    if (direct_) return data_[index];
    int64_t offset = 0;
    for (int d = x_.rank - 1; d >= axis_; --d) {
      offset += (index % x_.dims[d]) * strides_[d];
      index /= x_.dims[d];
    }
    return data_[offset];
  }

 private:
  const float* data_ = nullptr;  // borrowed; null for an absent beta
  bool direct_ = false;
  int64_t strides_[kMaxRank] = {};
  const Shape& x_;
  int axis_;
};

Status layer_norm_eval(const KernelContext& context) {
  const Tensor& x = context.input(kX);
  const float* in = x.data_as<const float>();
  float* out = context.output(0).data_as<float>();
  const double epsilon = context.float_param(params::kEpsilon);
  const int axis = static_cast<int>(context.int_param(params::kNormAxis));

  int64_t rows = 1, row_size = 1;
  for (int d = 0; d < axis; ++d) rows *= x.shape.dims[d];
  for (int d = axis; d < x.shape.rank; ++d) row_size *= x.shape.dims[d];
  if (row_size == 0) return Status::ok();
  const AffineParam gamma(&context.input(kGamma), x.shape, axis, row_size);
  const AffineParam beta(context.has_input(kBeta) ? &context.input(kBeta) : nullptr, x.shape, axis, row_size);

  for (int64_t r = 0; r < rows; ++r) {
    const float* src = in + r * row_size;
    float* dst = out + r * row_size;
    double sum = 0.0;
    for (int64_t i = 0; i < row_size; ++i) sum += src[i];
    const double mean = sum / static_cast<double>(row_size);
    double squares = 0.0;
    for (int64_t i = 0; i < row_size; ++i) {
      const double deviation = src[i] - mean;
      squares += deviation * deviation;
    }
    const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>(row_size) + epsilon);
    for (int64_t i = 0; i < row_size; ++i)
      dst[i] = static_cast<float>((src[i] - mean) * inv_std * gamma(i) + beta(i));
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kLayerNormKernel = {layer_norm_infer, layer_norm_eval};

}  // namespace edgegen
