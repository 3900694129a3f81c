// Logical operators on bool tensors (one byte each): And Or Xor with NumPy
// broadcasting, and Not. Any non-zero byte reads as true; outputs are 0 or 1.
// Spline flows (Durkan et al., "Neural Spline Flows", 2019) build their
// inside-the-interval mask as (x >= -B) & (x <= B), run-time data.
#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

struct AndOp { bool operator()(bool a, bool b) const { return a && b; } };
struct OrOp { bool operator()(bool a, bool b) const { return a || b; } };
struct XorOp { bool operator()(bool a, bool b) const { return a != b; } };

Status logical_binary_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 2, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kBool));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 1, DType::kBool));
  Shape out_shape;
  EG_RETURN_IF_ERROR(broadcast_shapes(context, context.input(0).shape, context.input(1).shape, &out_shape));
  return set_output(context, 0, DType::kBool, out_shape);
}

template <typename Op>
Status logical_binary_eval(const KernelContext& context) {
  const Op op;
  const Tensor& a = context.input(0);
  const Tensor& b = context.input(1);
  Tensor& out = context.output(0);
  const uint8_t* pa = a.data_as<const uint8_t>();
  const uint8_t* pb = b.data_as<const uint8_t>();
  uint8_t* po = out.data_as<uint8_t>();
  const int64_t count = out.shape.num_elements();
  if (count == 0) return Status::ok();
  if (a.shape == b.shape || out.shape.rank == 0) {  // rank 0: both are scalars
    for (int64_t i = 0; i < count; ++i) po[i] = op(pa[i] != 0, pb[i] != 0);
    return Status::ok();
  }
  broadcast_apply(pa, a.shape, pb, b.shape, po, out.shape,
                  [&op](uint8_t x, uint8_t y) -> uint8_t { return op(x != 0, y != 0); });
  return Status::ok();
}

Status not_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 0, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  EG_RETURN_IF_ERROR(check_input_dtype(context, 0, DType::kBool));
  return set_output(context, 0, DType::kBool, context.input(0).shape);
}

Status not_eval(const KernelContext& context) {
  const uint8_t* in = context.input(0).data_as<const uint8_t>();
  Tensor& out = context.output(0);
  uint8_t* po = out.data_as<uint8_t>();
  const int64_t count = out.shape.num_elements();
  for (int64_t i = 0; i < count; ++i) po[i] = in[i] == 0;
  return Status::ok();
}

}  // namespace

extern const Kernel kAndKernel = {logical_binary_infer, logical_binary_eval<AndOp>};
extern const Kernel kOrKernel = {logical_binary_infer, logical_binary_eval<OrOp>};
extern const Kernel kXorKernel = {logical_binary_infer, logical_binary_eval<XorOp>};
extern const Kernel kNotKernel = {not_infer, not_eval};

}  // namespace edgegen
