// Trilu (ONNX): keeps the upper (or lower) triangle of the last two dims,
// zeroing the rest; inputs {x (rank >= 2, any dtype), k (int64/int32 scalar,
// may be computed at run time) or absent}; ints {upper}. Upper keeps
// column - row >= k, lower keeps column - row <= k. Output may alias x.
#include <cstring>

#include "kernels/kernel_util.h"
#include "ops/op_params.h"

namespace edgegen {
namespace {

using namespace params;

Status trilu_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 2, 1));
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 1, 0));
  EG_RETURN_IF_ERROR(check_activation(context, false));
  const Tensor& x = context.input(0);
  if (x.shape.rank < 2) return op_error(context, StatusCode::kInvalidModel, "input '%s' has rank %d, needs 2 or more",
                                        x.name, x.shape.rank);
  if (dtype_size(x.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input '%s' has an unknown dtype", x.name);
  if (context.has_input(1)) {
    const Tensor& k = context.input(1);
    if ((k.dtype != DType::kInt64 && k.dtype != DType::kInt32) || k.shape.num_elements() != 1)
      return op_error(context, StatusCode::kInvalidModel, "k '%s' must be one int64 value", k.name);
  }
  if (context.int_param(kTriluUpper) != 0 && context.int_param(kTriluUpper) != 1)
    return op_error(context, StatusCode::kInvalidModel, "upper must be 0 or 1");
  return set_output(context, 0, x.dtype, x.shape);
}

Status trilu_eval(const KernelContext& context) {
  const Tensor& x = context.input(0);
  Tensor& out = context.output(0);
  int64_t k = 0;
  if (context.has_input(1)) {
    const Tensor& kt = context.input(1);
    k = kt.dtype == DType::kInt64 ? kt.data_as<const int64_t>()[0] : kt.data_as<const int32_t>()[0];
  }
  const bool upper = context.int_param(kTriluUpper) != 0;
  const int64_t rows = x.shape.dims[x.shape.rank - 2], cols = x.shape.dims[x.shape.rank - 1];
  const int64_t matrices = rows * cols == 0 ? 0 : x.shape.num_elements() / (rows * cols);
  const size_t element = dtype_size(x.dtype);
  const auto* in = static_cast<const unsigned char*>(x.data);
  auto* dst = static_cast<unsigned char*>(out.data);
  if (dst != in && x.bytes() != 0) std::memcpy(dst, in, x.bytes());
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t r = 0; r < rows; ++r) {
      unsigned char* row = dst + static_cast<size_t>((m * rows + r) * cols) * element;
      // The kept columns are [begin, end); the rest become zero bytes (0 in every dtype).
      int64_t begin = 0, end = cols;
      if (upper) begin = r + k < 0 ? 0 : (r + k > cols ? cols : r + k);
      else end = r + k + 1 < 0 ? 0 : (r + k + 1 > cols ? cols : r + k + 1);
      if (begin > 0) std::memset(row, 0, static_cast<size_t>(begin) * element);
      if (end < cols) std::memset(row + static_cast<size_t>(end) * element, 0, static_cast<size_t>(cols - end) * element);
    }
  return Status::ok();
}

}  // namespace

extern const Kernel kTriluKernel = {trilu_infer, trilu_eval};

}  // namespace edgegen
