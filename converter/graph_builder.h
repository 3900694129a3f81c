// Builds an IrGraph one operator at a time, folding as it goes: an operator
// whose inputs are all constants is evaluated right away by its reference
// kernel and becomes a constant; any other operator is shape-inferred by the
// kernel's infer and appended. One topological pass therefore gives static
// shapes everywhere and folds PyTorch's Shape -> Gather -> Concat chains.
#pragma once

#include <string>
#include <vector>

#include "converter/ir.h"

namespace edgegen::converter {

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name) { graph_.name = std::move(name); }

  // Adds a tensor (constant or activation) as is; returns its id.
  int add_tensor(IrTensor tensor);
  // Adds a graph input.
  int add_input(const std::string& name, DType dtype, std::vector<int64_t> shape);

  const IrTensor& tensor(int id) const { return graph_.tensors.at(static_cast<size_t>(id)); }
  bool is_constant(int id) const { return id >= 0 && tensor(id).is_constant; }

  // Emits `op` (its `inputs` set, `outputs` ignored) with `num_outputs`
  // outputs named `output_names` (or derived from the op's name). Folds it
  // when `allow_folding` and every present input is a constant. Returns the
  // ids of the outputs. Throws ConversionError when the kernel rejects it.
  std::vector<int> emit(IrOp op, size_t num_outputs, const std::vector<std::string>& output_names,
                        bool allow_folding = true);
  // emit() for a single-output op.
  int emit1(IrOp op, const std::string& output_name, bool allow_folding = true);

  IrGraph& graph() { return graph_; }
  IrGraph release() { return std::move(graph_); }

 private:
  IrGraph graph_;
};

}  // namespace edgegen::converter
