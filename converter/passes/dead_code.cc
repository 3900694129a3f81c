#include <algorithm>

#include "converter/passes/passes.h"

namespace edgegen::converter {

void eliminate_dead_code(IrGraph& graph) {
  std::vector<bool> live(graph.tensors.size(), false);
  for (int output : graph.outputs) live[static_cast<size_t>(output)] = true;
  std::vector<bool> keep_op(graph.ops.size(), false);
  for (size_t i = graph.ops.size(); i-- > 0;) {
    const IrOp& op = graph.ops[i];
    // The markers of an inline If (no outputs) stay: they delimit the branches.
    bool needed = op.outputs.empty() ||
                  std::any_of(op.outputs.begin(), op.outputs.end(), [&](int t) { return live[static_cast<size_t>(t)]; });
    if (!needed) continue;
    keep_op[i] = true;
    for (int input : op.inputs)
      if (input >= 0) live[static_cast<size_t>(input)] = true;
  }
  std::vector<IrOp> ops;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (keep_op[i]) ops.push_back(std::move(graph.ops[i]));
  graph.ops = std::move(ops);

  std::vector<bool> referenced(graph.tensors.size(), false);
  for (int input : graph.inputs) referenced[static_cast<size_t>(input)] = true;
  for (int output : graph.outputs) referenced[static_cast<size_t>(output)] = true;
  for (const IrOp& op : graph.ops) {
    for (int t : op.inputs)
      if (t >= 0) referenced[static_cast<size_t>(t)] = true;
    for (int t : op.outputs) referenced[static_cast<size_t>(t)] = true;
  }
  std::vector<int> remap(graph.tensors.size(), -1);
  std::vector<IrTensor> tensors;
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    if (!referenced[i]) continue;
    remap[i] = static_cast<int>(tensors.size());
    tensors.push_back(std::move(graph.tensors[i]));
  }
  graph.tensors = std::move(tensors);
  auto renumber = [&](std::vector<int>& ids) {
    for (int& id : ids)
      if (id >= 0) id = remap[static_cast<size_t>(id)];
  };
  renumber(graph.inputs);
  renumber(graph.outputs);
  for (IrOp& op : graph.ops) {
    renumber(op.inputs);
    renumber(op.outputs);
  }
}

}  // namespace edgegen::converter
