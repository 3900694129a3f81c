// Where (ONNX): out = condition ? x : y with NumPy broadcasting of all three.
// condition bool; x and y f32, i32 or i64 (the same dtype).
#include <cstring>

#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

Status where_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 3, 3, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kBool));
  const Tensor& x = context.input(1);
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32 && x.dtype != DType::kInt64)
    return op_error(context, StatusCode::kUnsupportedOp, "input 1 '%s' is %s, expected float32, int32 or int64",
                    x.name, dtype_name(x.dtype));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 2, x.dtype));
  Shape partial, out_shape;
  EG_RETURN_IF_ERROR(broadcast_shapes(context, context.input(0).shape, x.shape, &partial));
  EG_RETURN_IF_ERROR(broadcast_shapes(context, partial, context.input(2).shape, &out_shape));
  return set_output(context, 0, x.dtype, out_shape);
}

Status where_eval(const KernelContext& context) {
  const Tensor& condition = context.input(0);
  const Tensor& x = context.input(1);
  const Tensor& y = context.input(2);
  Tensor& out = context.output(0);
  const int64_t count = out.shape.num_elements();
  if (count == 0) return Status::ok();
  const size_t element = dtype_size(out.dtype);
  const uint8_t* pc = condition.data_as<const uint8_t>();
  const uint8_t* px = x.data_as<const uint8_t>();
  const uint8_t* py = y.data_as<const uint8_t>();
  uint8_t* po = out.data_as<uint8_t>();
  if (out.shape.rank == 0) {
    std::memcpy(po, pc[0] ? px : py, element);
    return Status::ok();
  }
  int64_t strides[3][kMaxRank];
  broadcast_strides(condition.shape, out.shape, strides[0]);
  broadcast_strides(x.shape, out.shape, strides[1]);
  broadcast_strides(y.shape, out.shape, strides[2]);
  IndexWalker<3> walker(out.shape.rank, out.shape.dims);
  for (int k = 0; k < 3; ++k) walker.set_strides(k, strides[k]);
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* source = pc[walker.offset(0)] ? px + walker.offset(1) * element : py + walker.offset(2) * element;
    std::memcpy(po + i * element, source, element);
    walker.next();
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kWhereKernel = {where_infer, where_eval};

}  // namespace edgegen
