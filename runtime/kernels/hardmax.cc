// Hardmax (ONNX): 1 at the first maximum over the flattened dims
// [axis_begin, axis_end), 0 elsewhere; ints {axis_begin, axis_end} as
// Softmax (opset < 13 flattens from the axis to the end). f32.
#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status hardmax_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 2, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  const Shape& shape = context.input(0).shape;
  const int64_t begin = context.int_param(kSoftmaxBegin), end = context.int_param(kSoftmaxEnd);
  if (begin < 0 || end <= begin || end > shape.rank)
    return op_error(context, StatusCode::kInvalidModel, "axes [%lld, %lld) are not a range of rank %d",
                    static_cast<long long>(begin), static_cast<long long>(end), shape.rank);
  return set_output(context, 0, DType::kFloat32, shape);
}

Status hardmax_eval(const KernelContext& context) {
  const Shape& shape = context.input(0).shape;
  const int begin = static_cast<int>(context.int_param(kSoftmaxBegin));
  const int end = static_cast<int>(context.int_param(kSoftmaxEnd));
  int64_t outer = 1, length = 1, inner = 1;
  for (int d = 0; d < begin; ++d) outer *= shape.dims[d];
  for (int d = begin; d < end; ++d) length *= shape.dims[d];
  for (int d = end; d < shape.rank; ++d) inner *= shape.dims[d];
  const float* in = context.input(0).data_as<const float>();
  float* out = context.output(0).data_as<float>();
  if (length == 0) return Status::ok();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* row = in + o * length * inner + i;
      int64_t best = 0;
      for (int64_t n = 1; n < length; ++n)
        if (row[n * inner] > row[best * inner]) best = n;
      // Written after the search: the output may alias the input.
      float* out_row = out + o * length * inner + i;
      for (int64_t n = 0; n < length; ++n) out_row[n * inner] = n == best ? 1.f : 0.f;
    }
  return Status::ok();
}

}  // namespace

extern const Kernel kHardmaxKernel = {hardmax_infer, hardmax_eval};

}  // namespace edgegen
