// Checks and helpers shared by the reference kernels' infer steps.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops/kernel.h"
#include "ops/registry.h"

namespace edgegen {

// "Conv2d 'node_name'" for messages.
inline const char* kernel_op_name(const KernelContext& context) {
  const char* name = op_name(context.opcode);
  return name ? name : "?";
}

// The number of inputs must be in [min_inputs, max_inputs] and of outputs
// exactly `outputs`; required inputs (the first min_inputs) must be present.
Status check_arity(const KernelContext& context, size_t min_inputs, size_t max_inputs, size_t outputs);

// Input `index` must have dtype `dtype`.
Status check_input_dtype(const KernelContext& context, size_t index, DType dtype);

// Input `index` must have rank in [min_rank, max_rank].
Status check_input_rank(const KernelContext& context, size_t index, int min_rank, int max_rank);

// Exactly `ints` integer and `floats` float attributes.
Status check_attribute_counts(const KernelContext& context, size_t ints, size_t floats);

// Input `index` must be a constant (its data known at load).
Status check_input_constant(const KernelContext& context, size_t index);

// Sets output `index` to `dtype` and `shape`, rejecting negative dimensions
// and element counts that overflow.
Status set_output(const KernelContext& context, size_t index, DType dtype, const Shape& shape);

// NumPy broadcasting of two shapes into `out`; an error names both shapes.
Status broadcast_shapes(const KernelContext& context, const Shape& a, const Shape& b, Shape* out);

// Row-major strides of `shape` (in elements), written to `strides`.
void contiguous_strides(const Shape& shape, int64_t* strides);

// The node's fused activation must be None unless `allowed`; a kind outside
// ActivationKind is always rejected.
Status check_activation(const KernelContext& context, bool allowed);

// Input `index` must be the float32 vector [channels] (per-channel scale,
// shift, gamma or beta of a normalization).
Status check_channel_vector(const KernelContext& context, size_t index, int64_t channels);

// Float attribute `index` (a normalization's epsilon) must be finite and >= 0.
Status check_epsilon(const KernelContext& context, size_t index);

// Element strides of `shape` read as the broadcast shape `out` (NumPy rules:
// dimensions aligned from the right; a missing or size-1 dimension that `out`
// repeats gets stride 0). Writes out.rank entries. `shape` must broadcast to `out`.
void broadcast_strides(const Shape& shape, const Shape& out, int64_t* strides);

// IEEE 754 binary16 <-> binary32. float_to_half rounds to nearest even,
// handles subnormals, overflows to infinity and keeps NaN a (quiet) NaN.
float half_to_float(uint16_t bits);
uint16_t float_to_half(float value);

// Walks a row-major index space of up to kMaxRank dimensions and keeps one
// linear element offset per operand, each with its own strides (stride 0
// repeats a broadcast dimension). Starts at index 0; next() steps to the next
// index and wraps to 0 after the last. Rank 0 is a single index.
//
//   IndexWalker<2> walker(out.rank, out.dims);
//   walker.set_strides(0, a_strides);
//   walker.set_strides(1, b_strides);
//   for (...) { use(walker.offset(0), walker.offset(1)); walker.next(); }
template <int kOperands>
class IndexWalker {
 public:
  IndexWalker(int rank, const int64_t* dims) : rank_(rank) {
    for (int d = 0; d < rank; ++d) dims_[d] = dims[d];
  }
  void set_strides(int operand, const int64_t* strides) {
    for (int d = 0; d < rank_; ++d) strides_[operand][d] = strides[d];
  }
  int64_t offset(int operand) const { return offsets_[operand]; }
  void next() {
    for (int d = rank_ - 1; d >= 0; --d) {
      for (int k = 0; k < kOperands; ++k) offsets_[k] += strides_[k][d];
      if (++index_[d] < dims_[d]) return;
      for (int k = 0; k < kOperands; ++k) offsets_[k] -= strides_[k][d] * dims_[d];
      index_[d] = 0;
    }
  }

 private:
  int rank_;
  int64_t dims_[kMaxRank] = {};
  int64_t index_[kMaxRank] = {};
  int64_t strides_[kOperands][kMaxRank] = {};
  int64_t offsets_[kOperands] = {};
};

// out[i] = fn(a[...], b[...]) over out_shape, with a and b broadcast to it
// (NumPy rules): the outer dims are walked, the last one runs inline. The
// element-wise binary, comparison and logical kernels share it; their fast
// paths (same shapes, a scalar operand) come before.
template <typename A, typename B, typename O, typename Fn>
void broadcast_apply(const A* pa, const Shape& a_shape, const B* pb, const Shape& b_shape, O* po,
                     const Shape& out_shape, Fn fn) {
  const int64_t count = out_shape.num_elements();
  if (count == 0) return;
  const int rank = out_shape.rank;
  if (rank == 0) {  // both are scalars
    po[0] = fn(pa[0], pb[0]);
    return;
  }
  int64_t strides_a[kMaxRank], strides_b[kMaxRank];
  broadcast_strides(a_shape, out_shape, strides_a);
  broadcast_strides(b_shape, out_shape, strides_b);
  const int64_t inner = out_shape.dims[rank - 1];
  const int64_t step_a = strides_a[rank - 1], step_b = strides_b[rank - 1];
  IndexWalker<2> walker(rank - 1, out_shape.dims);
  walker.set_strides(0, strides_a);
  walker.set_strides(1, strides_b);
  for (int64_t row = 0; row < count; row += inner) {
    const A* row_a = pa + walker.offset(0);
    const B* row_b = pb + walker.offset(1);
    O* row_out = po + row;
    for (int64_t i = 0; i < inner; ++i) row_out[i] = fn(row_a[i * step_a], row_b[i * step_b]);
    walker.next();
  }
}

// Formats an error about this op: "<Op> '<node>': <message>".
Status op_error(const KernelContext& context, StatusCode code, const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

}  // namespace edgegen
