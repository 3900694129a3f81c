#include "flops.h"

#include "edgegen_generated.h"
#include "ops/registry.h"

namespace edgegen::cli {
namespace {

uint64_t product(const std::vector<int64_t>& dims, size_t first) {
  uint64_t total = 1;
  for (size_t i = first; i < dims.size(); ++i) total *= static_cast<uint64_t>(dims[i] < 0 ? 0 : dims[i]);
  return total;
}

}  // namespace

uint64_t op_flops(const OpShapes& op) {
  auto input = [&](size_t i) -> const std::vector<int64_t>& {
    static const std::vector<int64_t> kNone;
    return i < op.inputs.size() ? op.inputs[i] : kNone;
  };
  if (op.outputs.empty() || op.outputs[0].empty()) return 0;
  const std::vector<int64_t>& output = op.outputs[0];
  uint64_t multiply_adds = 0;
  switch (static_cast<OpCode>(op.opcode)) {
    case OpCode::kConv2d:
      if (input(1).size() < 2) return 0;
      multiply_adds = product(output, 0) * product(input(1), 1);
      break;
    case OpCode::kConvTranspose2d:
      // Every input element is scattered into (O/groups) * kernel outputs.
      if (input(0).empty() || input(1).size() < 2) return 0;
      multiply_adds = product(input(0), 0) * product(input(1), 1);
      break;
    case OpCode::kFullyConnected:
    case OpCode::kMatMul:
      if (input(0).empty()) return 0;
      multiply_adds = product(output, 0) * static_cast<uint64_t>(input(0).back());
      break;
    case OpCode::kLSTM:
    case OpCode::kGRU:
    case OpCode::kRNN:
      // Every step of every batch item multiplies its input by W and its
      // state by R (all gates, all directions).
      if (input(0).size() != 3 || input(1).empty() || input(2).empty()) return 0;
      multiply_adds = product(input(0), 0) / static_cast<uint64_t>(input(0)[2] > 0 ? input(0)[2] : 1) *
                      (product(input(1), 0) + product(input(2), 0));
      break;
    default:
      return 0;
  }
  return 2 * multiply_adds;
}

std::vector<uint64_t> graph_op_flops(const Model& model, size_t graph_index) {
  const format::Graph* graph = model.graph(graph_index);
  const auto* tensors = graph->tensors();
  auto shape_of = [&](int32_t index) {
    std::vector<int64_t> dims;
    if (index < 0 || !tensors || static_cast<uint32_t>(index) >= tensors->size()) return dims;
    if (const auto* shape = tensors->Get(static_cast<uint32_t>(index))->shape()) dims.assign(shape->begin(), shape->end());
    return dims;
  };
  std::vector<uint64_t> flops;
  if (!graph->operators()) return flops;
  for (const format::Operator* op : *graph->operators()) {
    OpShapes shapes;
    shapes.opcode = op->opcode();
    if (op->inputs())
      for (int32_t index : *op->inputs()) shapes.inputs.push_back(shape_of(index));
    if (op->outputs())
      for (int32_t index : *op->outputs()) shapes.outputs.push_back(shape_of(index));
    flops.push_back(op_flops(shapes));
  }
  return flops;
}

}  // namespace edgegen::cli
