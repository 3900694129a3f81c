// Expand: broadcasts the input to the shape in ints (NumPy rules). The
// converter has already resolved ONNX's broadcast of the input shape with the
// requested shape, so ints must be exactly a shape the input broadcasts to.
// Any dtype: elements are copied as raw bytes.
#include <cstring>

#include "kernels/kernel_util.h"

namespace edgegen {
namespace {

Status expand_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& in = context.input(0);
  if (dtype_size(in.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has unknown dtype %u", in.name,
                    static_cast<unsigned>(in.dtype));
  const size_t rank = context.attributes.num_ints;
  if (rank > static_cast<size_t>(kMaxRank) || rank < static_cast<size_t>(in.shape.rank) ||
      context.attributes.num_floats != 0)
    return op_error(context, StatusCode::kInvalidModel,
                    "has %zu integer and %zu float attributes, expected an output shape of rank %d to %d and none",
                    rank, context.attributes.num_floats, in.shape.rank, kMaxRank);
  Shape out;
  out.rank = static_cast<int>(rank);
  for (int d = 0; d < out.rank; ++d) out.dims[d] = context.int_param(d);
  for (int d = 0; d < in.shape.rank; ++d) {
    const int64_t in_dim = in.shape.dims[d];
    const int64_t out_dim = out.dims[d + out.rank - in.shape.rank];
    if (in_dim != out_dim && in_dim != 1) {
      char in_text[96], out_text[96];
      return op_error(context, StatusCode::kInvalidModel, "input '%s' of shape %s does not broadcast to %s", in.name,
                      format_shape(in.shape, in_text, sizeof in_text), format_shape(out, out_text, sizeof out_text));
    }
  }
  return set_output(context, 0, in.dtype, out);
}

template <size_t kBytes>
void expand_loop(const Tensor& in, Tensor& out) {
  const int64_t count = out.shape.num_elements();
  if (count == 0) return;
  const unsigned char* src = static_cast<const unsigned char*>(in.data);
  unsigned char* dst = static_cast<unsigned char*>(out.data);
  int64_t strides[kMaxRank];
  broadcast_strides(in.shape, out.shape, strides);
  IndexWalker<1> walker(out.shape.rank, out.shape.dims);
  walker.set_strides(0, strides);
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * kBytes, src + walker.offset(0) * kBytes, kBytes);
    walker.next();
  }
}

Status expand_eval(const KernelContext& context) {
  const Tensor& in = context.input(0);
  Tensor& out = context.output(0);
  switch (dtype_size(in.dtype)) {
    case 1: expand_loop<1>(in, out); break;
    case 2: expand_loop<2>(in, out); break;
    case 4: expand_loop<4>(in, out); break;
    case 8: expand_loop<8>(in, out); break;
    default: return op_error(context, StatusCode::kInternal, "dtype not accepted by infer");
  }
  return Status::ok();
}

}  // namespace

extern const Kernel kExpandKernel = {expand_infer, expand_eval};

}  // namespace edgegen
