#include "converter/branch_targets.h"

#include "converter/converter.h"

namespace edgegen::converter {

std::vector<int64_t> branch_targets(const IrGraph& graph) {
  std::vector<int64_t> targets(graph.ops.size(), -1);
  std::vector<size_t> open;  // the innermost If or Else last
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const OpCode opcode = graph.ops[i].opcode;
    if (opcode == OpCode::kIf) {
      open.push_back(i);
    } else if (opcode == OpCode::kElse || opcode == OpCode::kEndIf) {
      const OpCode expected = opcode == OpCode::kElse ? OpCode::kIf : OpCode::kElse;
      if (open.empty() || graph.ops[open.back()].opcode != expected)
        throw ConversionError("internal: graph '" + graph.name + "': operator #" + std::to_string(i) + " (" +
                              op_name(static_cast<uint32_t>(opcode)) + ") does not nest as If, Else, EndIf");
      targets[open.back()] = static_cast<int64_t>(i);
      open.pop_back();
      if (opcode == OpCode::kElse) open.push_back(i);
    }
  }
  if (!open.empty())
    throw ConversionError("internal: graph '" + graph.name + "': an If or Else is not closed");
  return targets;
}

bool has_branches(const IrGraph& graph) {
  for (const IrOp& op : graph.ops)
    if (op.opcode == OpCode::kIf) return true;
  return false;
}

}  // namespace edgegen::converter
