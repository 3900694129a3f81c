// The converter's intermediate representation: one graph of edgegen
// operators (opcodes from runtime/ops/op_list.inc) over tensors with static
// shapes. Lowering from ONNX builds it, the optimization passes rewrite it,
// the writer serializes it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgegen/tensor.h"
#include "ops/kernel.h"
#include "ops/registry.h"

namespace edgegen::converter {

// Affine quantization of an integer tensor (see edgegen::Quantization).
struct IrQuantization {
  std::vector<float> scales;         // one, or one per slice along axis
  std::vector<int64_t> zero_points;  // same length
  int axis = -1;                     // -1: per tensor

  bool present() const { return !scales.empty(); }
  bool operator==(const IrQuantization& other) const {
    return scales == other.scales && zero_points == other.zero_points && axis == other.axis;
  }
};

// The converter holds every constant in host memory, and folding makes more:
// one larger than this is refused with a message, so that a corrupt or
// hostile ONNX file cannot exhaust the host. edgegen's models for small
// devices are far below it.
constexpr size_t kMaxConstantBytes = size_t{256} << 20;
// Tensors of more elements than the runtime loads (model.cc) are refused
// too, which also keeps every byte count far from overflowing.
constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

struct IrTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  bool is_constant = false;
  std::vector<uint8_t> data;  // the bytes of a constant; empty for an activation
  IrQuantization quant;       // int8 / uint8 / int32 tensors of quantized graphs

  int64_t num_elements() const;
  size_t bytes() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype); }
  // Sizes `data` (zeros) for a constant of this shape and dtype; throws
  // ConversionError when that is more than kMaxConstantBytes.
  void allocate_data();
};

struct IrOp {
  OpCode opcode = OpCode::kIdentity;
  std::vector<int> inputs;  // tensor ids; -1 = optional input absent
  std::vector<int> outputs;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  FusedActivation activation;
  std::string name;  // the ONNX node this op came from
};

struct IrGraph {
  std::string name;
  std::vector<IrTensor> tensors;
  std::vector<IrOp> ops;  // in execution order
  std::vector<int> inputs;
  std::vector<int> outputs;
  // Persistent state (a token decoder's KV cache): (graph input, graph
  // output) tensor ids whose output is planned on the input, updated in
  // place and kept from run to run (converter/memory_plan.h).
  std::vector<std::pair<int, int>> state_pairs;

  // How many ops read each tensor (an op reading a tensor twice counts twice).
  std::vector<int> consumer_counts() const;
  bool is_graph_output(int tensor) const;
  bool is_graph_input(int tensor) const;
  // The index of the op producing each tensor, -1 for inputs and constants.
  std::vector<int> producers() const;
};

// "[1, 3, 16, 16]".
std::string shape_to_string(const std::vector<int64_t>& shape);
int64_t element_count(const std::vector<int64_t>& shape);

}  // namespace edgegen::converter
