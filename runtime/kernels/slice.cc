// Slice reference kernel: ints = {start, end, step} for every input dim, in
// dim order (3 * rank entries), already clamped by the converter the way
// numpy (PySlice_AdjustIndices) clamps them. For a dim of length n infer
// accepts exactly:
//   step > 0:  0 <= start <= n,   0 <= end <= n
//   step < 0: -1 <= start <= n-1, -1 <= end <= n-1
//              (end = -1 runs through index 0; start = -1 gives an empty
//              slice, the only start a zero-length dim admits)
//   step = 0:  rejected.
// The output length is ceil((end - start) / step), or 0 when that is not
// positive. Every index read is then in [0, n). Any dtype, any rank (rank 0
// copies the scalar); the output must not alias the input.
#include <cstring>

#include "kernels/kernel_util.h"
#include "kernels/strided_copy.h"

namespace edgegen {
namespace {

struct DimSlice {
  int64_t start, end, step;
};

DimSlice dim_slice(const KernelContext& context, int d) {
  const size_t base = 3 * static_cast<size_t>(d);
  return {context.int_param(base), context.int_param(base + 1), context.int_param(base + 2)};
}

// Number of indices start, start + step, ... before end; no overflow for
// any step once start and end are in range.
int64_t slice_length(const DimSlice& s) {
  const int64_t span = s.step > 0 ? s.end - s.start : s.start - s.end;
  if (span <= 0) return 0;
  const uint64_t magnitude = s.step > 0 ? static_cast<uint64_t>(s.step) : 0 - static_cast<uint64_t>(s.step);
  return static_cast<int64_t>(1 + static_cast<uint64_t>(span - 1) / magnitude);
}

Status slice_infer(KernelContext& context) {
  EG_RETURN_IF_ERROR(check_arity(context, 1, 1, 1));
  const Tensor& input = context.input(0);
  const int rank = input.shape.rank;
  EG_RETURN_IF_ERROR(check_attribute_counts(context, 3 * static_cast<size_t>(rank), 0));
  if (context.attributes.activation.kind != ActivationKind::kNone)
    return op_error(context, StatusCode::kInvalidModel, "does not take a fused activation");
  if (dtype_size(input.dtype) == 0)
    return op_error(context, StatusCode::kInvalidModel, "input 0 '%s' has an unknown dtype", input.name);

  Shape shape;
  shape.rank = rank;
  for (int d = 0; d < rank; ++d) {
    const DimSlice s = dim_slice(context, d);
    const int64_t n = input.shape.dims[d];
    const long long first = static_cast<long long>(s.start), last = static_cast<long long>(s.end);
    if (s.step == 0)
      return op_error(context, StatusCode::kInvalidModel, "dim %d of '%s': step 0", d, input.name);
    if (s.step > 0 && (s.start < 0 || s.start > n || s.end < 0 || s.end > n))
      return op_error(context, StatusCode::kInvalidModel,
                      "dim %d of '%s': start %lld, end %lld must be in [0, %lld] for a positive step", d, input.name,
                      first, last, static_cast<long long>(n));
    if (s.step < 0 && (s.start < -1 || s.start > n - 1 || s.end < -1 || s.end > n - 1))
      return op_error(context, StatusCode::kInvalidModel,
                      "dim %d of '%s': start %lld, end %lld must be in [-1, %lld] for a negative step", d,
                      input.name, first, last, static_cast<long long>(n - 1));
    shape.dims[d] = slice_length(s);
  }
  return set_output(context, 0, input.dtype, shape);
}

Status slice_eval(const KernelContext& context) {
  const Tensor& input = context.input(0);
  Tensor& output = context.output(0);
  if (output.num_elements() == 0) return Status::ok();
  int64_t input_strides[kMaxRank];
  contiguous_strides(input.shape, input_strides);
  int64_t strides[kMaxRank];  // input elements between neighbours along each output dim
  int64_t offset = 0;         // the input element of output index 0
  for (int d = 0; d < input.shape.rank; ++d) {
    const DimSlice s = dim_slice(context, d);
    offset += s.start * input_strides[d];
    // A length-1 dim never steps; skipping the product keeps a huge step
    // from overflowing.
    strides[d] = output.shape.dims[d] > 1 ? s.step * input_strides[d] : 0;
  }

  const size_t size = dtype_size(input.dtype);
  if (size != 1 && size != 2 && size != 4 && size != 8)
    return op_error(context, StatusCode::kInternal, "unexpected element size");
  copy_strided(input.data, offset, output.data, output.shape, strides, size);
  return Status::ok();
}

}  // namespace

extern const Kernel kSliceKernel = {slice_infer, slice_eval};

}  // namespace edgegen
