// A read-only view of one operator of the model file, and the shape and
// layout helpers every part of the XNNPACK backend uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/widened_weights.h"
#include "edgegen/model.h"
#include "edgegen/tensor.h"
#include "edgegen_generated.h"
#include "ops/kernel.h"
#include "ops/op_params.h"
#include "ops/registry.h"

namespace edgegen {
namespace xnnpack {

enum class Layout : uint8_t { kNchw = 0, kNhwc = 1 };

inline Shape shape_of(const format::Tensor& tensor) {
  Shape shape;
  shape.rank = static_cast<int>(tensor.shape()->size());
  for (int d = 0; d < shape.rank; ++d) shape.dims[d] = tensor.shape()->Get(static_cast<uint32_t>(d));
  return shape;
}

// A tensor that can be channels-last: rank 3 ([N, C, L]) or 4 ([N, C, H, W]), f32.
inline bool layout_capable(const format::Tensor& tensor) {
  const size_t rank = tensor.shape()->size();
  return (rank == 3 || rank == 4) && runtime_dtype(tensor) == DType::kFloat32;
}

inline int64_t spatial_of(const Shape& shape) {
  int64_t spatial = 1;
  for (int d = 2; d < shape.rank; ++d) spatial *= shape.dims[d];
  return spatial;
}

// Both layouts are the same bytes.
inline bool layout_trivial(const Shape& shape) { return shape.rank < 3 || shape.dims[1] == 1 || spatial_of(shape) == 1; }

inline size_t float_bytes(const Shape& shape) { return static_cast<size_t>(shape.num_elements()) * sizeof(float); }

// Float32 as the operators see it: float16 constants are widened at prepare.
inline bool is_f32(const format::Tensor& tensor) { return runtime_dtype(tensor) == DType::kFloat32; }

// One byte per element: int8 or uint8.
inline bool is_8bit(const format::Tensor& tensor) {
  return runtime_dtype(tensor) == DType::kInt8 || runtime_dtype(tensor) == DType::kUInt8;
}

struct OpView {
  const Model& model;
  const format::Graph& graph;
  const format::Operator& op;
  const WidenedWeights* widened = nullptr;  // borrowed; null: constants are the model's bytes
  OpCode code() const { return static_cast<OpCode>(op.opcode()); }
  size_t num_inputs() const { return op.inputs()->size(); }
  int32_t input_index(size_t i) const { return op.inputs()->Get(static_cast<uint32_t>(i)); }
  bool has_input(size_t i) const { return i < num_inputs() && input_index(i) >= 0; }
  const format::Tensor& input(size_t i) const { return *graph.tensors()->Get(static_cast<uint32_t>(input_index(i))); }
  const format::Tensor& output(size_t i) const {
    return *graph.tensors()->Get(static_cast<uint32_t>(op.outputs()->Get(static_cast<uint32_t>(i))));
  }
  bool is_constant(size_t i) const { return input(i).buffer() != 0; }
  // A constant input's float32 values (float16 ones widened).
  const float* constant(size_t i) const {
    const uint32_t buffer = input(i).buffer();
    return static_cast<const float*>(widened ? widened->data(model, buffer) : model.buffer_data(buffer));
  }
  int64_t int_param(size_t i) const { return op.int_params()->Get(static_cast<uint32_t>(i)); }
  float float_param(size_t i) const { return op.float_params()->Get(static_cast<uint32_t>(i)); }
  size_t num_ints() const { return op.int_params() ? op.int_params()->size() : 0; }
  FusedActivation activation() const {
    FusedActivation act;
    if (const format::FusedActivation* fused = op.activation()) {
      act.kind = static_cast<ActivationKind>(fused->kind());
      act.param0 = fused->param0();
      act.param1 = fused->param1();
    }
    return act;
  }
};

// Output clamping XNNPACK fuses; anything else runs afterwards.
inline void split_activation(const FusedActivation& act, float* out_min, float* out_max, FusedActivation* post) {
  *out_min = -std::numeric_limits<float>::infinity();
  *out_max = std::numeric_limits<float>::infinity();
  *post = FusedActivation{};
  if (act.kind == ActivationKind::kRelu) *out_min = 0.f;
  else if (act.kind == ActivationKind::kClip) *out_min = act.param0, *out_max = act.param1;
  else *post = act;
}

inline bool all_f32(const OpView& v) {
  for (size_t i = 0; i < v.num_inputs(); ++i)
    if (v.has_input(i) && !is_f32(v.input(i))) return false;
  for (uint32_t i = 0; i < v.op.outputs()->size(); ++i)
    if (!is_f32(v.output(i))) return false;
  return true;
}

// A (transposed) convolution's sizes and attributes, 1-D ([N, C, L]) as
// 2-D with height 1: what the executors of our own plan their loops over.
struct ConvSizes {
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0, out_channels = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
};

inline ConvSizes conv_sizes(const OpView& v) {
  using namespace params;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  const bool two_d = x.rank == 4;
  ConvSizes s;
  s.batch = x.dims[0];
  s.in_channels = x.dims[1];
  s.in_h = two_d ? x.dims[2] : 1;
  s.in_w = x.dims[x.rank - 1];
  s.out_channels = y.dims[1];
  s.out_h = two_d ? y.dims[2] : 1;
  s.out_w = y.dims[y.rank - 1];
  s.kernel_h = two_d ? w.dims[2] : 1;
  s.kernel_w = w.dims[w.rank - 1];
  s.stride_h = v.int_param(kStrideH);
  s.stride_w = v.int_param(kStrideW);
  s.dilation_h = v.int_param(kDilationH);
  s.dilation_w = v.int_param(kDilationW);
  s.pad_top = v.int_param(kPadTop);
  s.pad_left = v.int_param(kPadLeft);
  return s;
}

}  // namespace xnnpack
}  // namespace edgegen
