// Softmax and LogSoftmax over the contiguous dims [begin, end) of an f32
// tensor (ints {begin, end}, 0 <= begin < end <= rank); same shape out.
// The tensor is viewed as [outer, reduce, inner] and each of the outer * inner
// rows of `reduce` elements (stride `inner`) is normalized on its own.
// Subtracting the row maximum first keeps exp() from overflowing. No scratch;
// the output may alias the input.
#include <cmath>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

Status softmax_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 2, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  const Shape& shape = context.input(0).shape;
  const int64_t begin = context.int_param(params::kSoftmaxBegin);
  const int64_t end = context.int_param(params::kSoftmaxEnd);
  if (begin < 0 || begin >= end || end > shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axes [%lld, %lld) are not a non-empty range of input rank %d",
                    static_cast<long long>(begin), static_cast<long long>(end), shape.rank);
  return set_output(context, 0, DType::kFloat32, shape);
}

template <bool kLog>
Status softmax_eval(const KernelContext& context) {
  const Shape& shape = context.input(0).shape;
  const int begin = static_cast<int>(context.int_param(params::kSoftmaxBegin));
  const int end = static_cast<int>(context.int_param(params::kSoftmaxEnd));
  int64_t outer = 1, reduce = 1, inner = 1;
  for (int d = 0; d < begin; ++d) outer *= shape.dims[d];
  for (int d = begin; d < end; ++d) reduce *= shape.dims[d];
  for (int d = end; d < shape.rank; ++d) inner *= shape.dims[d];

  const float* in = context.input(0).data_as<const float>();
  float* out = context.output(0).data_as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * reduce * inner + i;
      float max = -INFINITY;
      for (int64_t r = 0; r < reduce; ++r) max = std::fmax(max, in[base + r * inner]);
      float sum = 0.f;
      if (kLog) {
        for (int64_t r = 0; r < reduce; ++r) sum += std::exp(in[base + r * inner] - max);
        const float log_sum = std::log(sum);
        for (int64_t r = 0; r < reduce; ++r) out[base + r * inner] = (in[base + r * inner] - max) - log_sum;
      } else {
        for (int64_t r = 0; r < reduce; ++r) {
          const float e = std::exp(in[base + r * inner] - max);
          out[base + r * inner] = e;
          sum += e;
        }
        for (int64_t r = 0; r < reduce; ++r) out[base + r * inner] /= sum;
      }
    }
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kSoftmaxKernel = {softmax_infer, softmax_eval<false>};
extern const Kernel kLogSoftmaxKernel = {softmax_infer, softmax_eval<true>};

}  // namespace edgegen
