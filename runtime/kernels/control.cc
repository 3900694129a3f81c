// If, Else and EndIf: the markers of an inline If (runtime/ops/op_list.inc).
// infer checks each marker's own operands; that the markers nest and their
// targets point at each other is the loader's check (core/control_flow.cc),
// and the session's loop follows them (eval is never what moves on).
#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

Status if_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 0));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 2, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& condition = context.input(0);
  if (condition.shape.num_elements() != 1)
    return op_error(context, StatusCode::kInvalidModel, "condition '%s' has %lld elements, expected 1",
                    condition.name, static_cast<long long>(condition.shape.num_elements()));
  switch (condition.dtype) {
    case DType::kBool: case DType::kUInt8: case DType::kInt8: case DType::kInt32: case DType::kInt64:
    case DType::kFloat32: break;
    default:
      return op_error(context, StatusCode::kUnsupportedOp,
                      "condition '%s' is %s, expected bool, uint8, int8, int32, int64 or float32", condition.name,
                      dtype_name(condition.dtype));
  }
  const int64_t run_first_when = context.int_param(0);
  if (run_first_when != 0 && run_first_when != 1)
    return op_error(context, StatusCode::kInvalidModel, "int_params[0] is %lld, expected 0 or 1",
                    static_cast<long long>(run_first_when));
  return Status::ok();
}

Status else_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 0, 0, 0));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  return check_activation(context, false);
}

Status end_if_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 0, 0, 0));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  return check_activation(context, false);
}

Status marker_eval(const KernelContext&) { return Status::ok(); }

}  // namespace

extern const Kernel kIfKernel = {if_infer, marker_eval};
extern const Kernel kElseKernel = {else_infer, marker_eval};
extern const Kernel kEndIfKernel = {end_if_infer, marker_eval};

}  // namespace edgegen
