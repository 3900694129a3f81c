// IsNaN, IsInf (ONNX): classify float32 values into a bool tensor of the
// same shape. IsInf ints {detect_negative, detect_positive}.
#include <cmath>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

template <size_t kInts>
Status float_class_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, kInts, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kFloat32));
  for (size_t i = 0; i < kInts; ++i)
    if (context.int_param(i) != 0 && context.int_param(i) != 1)
      return op_error(context, StatusCode::kInvalidModel, "detect_negative and detect_positive must be 0 or 1");
  return set_output(context, 0, DType::kBool, context.input(0).shape);
}

Status is_nan_eval(const KernelContext& context) {
  const float* in = context.input(0).data_as<const float>();
  uint8_t* out = context.output(0).data_as<uint8_t>();
  const size_t count = context.output(0).num_elements();
  for (size_t i = 0; i < count; ++i) out[i] = std::isnan(in[i]) ? 1 : 0;
  return Status::ok();
}

Status is_inf_eval(const KernelContext& context) {
  const bool negative = context.int_param(kIsInfDetectNegative) != 0;
  const bool positive = context.int_param(kIsInfDetectPositive) != 0;
  const float* in = context.input(0).data_as<const float>();
  uint8_t* out = context.output(0).data_as<uint8_t>();
  const size_t count = context.output(0).num_elements();
  for (size_t i = 0; i < count; ++i) {
    const float x = in[i];
    out[i] = std::isinf(x) && (x > 0.f ? positive : negative) ? 1 : 0;
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kIsNaNKernel = {float_class_infer<0>, is_nan_eval};
extern const Kernel kIsInfKernel = {float_class_infer<2>, is_inf_eval};

}  // namespace edgegen
