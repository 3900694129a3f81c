// The interface every kernel implements.
//
// A kernel is two functions:
//   infer  — runs once, at load (and in the converter, for shape inference
//            and constant folding). Validates the number of inputs and
//            outputs, their dtypes and shapes and the attribute layout, then
//            writes each output's dtype and shape and the scratch bytes the
//            kernel needs. Input data is available for constant inputs only
//            (`data` is null for activations), so a kernel may also check
//            constant indices here. Every malformed model must fail here:
//            eval trusts what infer accepted.
//   eval   — runs the operator. Checks nothing that infer checked, allocates
//            nothing, may use `scratch`.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

enum class ActivationKind : uint32_t {
  kNone = 0, kRelu = 1, kLeakyRelu = 2, kClip = 3, kSigmoid = 4, kTanh = 5, kSilu = 6,
};

struct FusedActivation {
  ActivationKind kind = ActivationKind::kNone;
  float param0 = 0.f;  // LeakyRelu alpha, Clip min
  float param1 = 0.f;  // Clip max
};

// Applies a fused activation to one value.
inline float apply_activation(float x, const FusedActivation& act) {
  switch (act.kind) {
    case ActivationKind::kNone: return x;
    case ActivationKind::kRelu: return x > 0.f ? x : 0.f;
    case ActivationKind::kLeakyRelu: return x >= 0.f ? x : x * act.param0;
    case ActivationKind::kClip: return x < act.param0 ? act.param0 : (x > act.param1 ? act.param1 : x);
    case ActivationKind::kSigmoid: return 1.f / (1.f + std::exp(-x));
    case ActivationKind::kTanh: return std::tanh(x);
    case ActivationKind::kSilu: return x / (1.f + std::exp(-x));
  }
  return x;
}

// Applies a fused activation to a whole buffer, in place.
inline void apply_activation(float* data, size_t count, const FusedActivation& act) {
  if (act.kind == ActivationKind::kNone) return;
  for (size_t i = 0; i < count; ++i) data[i] = apply_activation(data[i], act);
}

// The attributes of one operator, borrowed from the model (or the converter).
struct OpAttributes {
  const int64_t* ints = nullptr;
  size_t num_ints = 0;
  const float* floats = nullptr;
  size_t num_floats = 0;
  FusedActivation activation;
};

struct KernelContext {
  uint32_t opcode = 0;
  const char* op_name = "";          // the node's name, for error messages
  const Tensor* const* inputs = nullptr;  // an entry is null for an absent optional input
  size_t num_inputs = 0;
  Tensor* const* outputs = nullptr;
  size_t num_outputs = 0;
  OpAttributes attributes;
  void* scratch = nullptr;           // eval: scratch_bytes of arena memory
  size_t scratch_bytes = 0;          // infer: the kernel writes what it needs here

  const Tensor& input(size_t i) const { return *inputs[i]; }
  bool has_input(size_t i) const { return i < num_inputs && inputs[i] != nullptr; }
  Tensor& output(size_t i) const { return *outputs[i]; }
  int64_t int_param(size_t i) const { return attributes.ints[i]; }
  float float_param(size_t i) const { return attributes.floats[i]; }
};

using InferFn = Status (*)(KernelContext& context);
using EvalFn = Status (*)(const KernelContext& context);

struct Kernel {
  InferFn infer;
  EvalFn eval;
};

}  // namespace edgegen
