#include "core/control_flow.h"

#include "edgegen_generated.h"

namespace edgegen {

bool condition_is_true(const Tensor& condition) {
  switch (condition.dtype) {
    case DType::kFloat32: return condition.data_as<const float>()[0] != 0.f;
    case DType::kInt32: return condition.data_as<const int32_t>()[0] != 0;
    case DType::kInt64: return condition.data_as<const int64_t>()[0] != 0;
    default: return condition.data_as<const uint8_t>()[0] != 0;  // bool, uint8, int8
  }
}

namespace {

constexpr uint32_t kIf = static_cast<uint32_t>(OpCode::kIf);
constexpr uint32_t kElse = static_cast<uint32_t>(OpCode::kElse);
constexpr uint32_t kEndIf = static_cast<uint32_t>(OpCode::kEndIf);

// "graph 'g': If 3 'node' <problem>", where `found` (when not -1) is the
// index the marker should have named.
Status invalid_flow(const format::Graph& graph, uint32_t index, const char* problem, int64_t found = -1) {
  const format::Operator* op = graph.operators()->Get(index);
  const char* label = op->name() ? op->name()->c_str() : "";
  if (found >= 0)
    return Status::error(StatusCode::kInvalidModel, "graph '%s': %s %u '%s' %s %lld", graph.name()->c_str(),
                         op_name(op->opcode()), index, label, problem, static_cast<long long>(found));
  return Status::error(StatusCode::kInvalidModel, "graph '%s': %s %u '%s' %s", graph.name()->c_str(),
                       op_name(op->opcode()), index, label, problem);
}

// The marker's int_params[slot], or -1 when the list is not as long as it must be.
int64_t target_param(const format::Operator& op, uint32_t count, uint32_t slot) {
  if (op.int_params() == nullptr || op.int_params()->size() != count) return -1;
  return op.int_params()->Get(slot);
}

Status orphan(const format::Graph& graph, uint32_t index) {
  return invalid_flow(graph, index, "does not belong to an If (markers must nest as If, Else, EndIf)");
}

// Deeper nesting is refused: the check keeps one entry per open If on the
// stack (no heap), and no model nests Ifs this deep.
constexpr int kMaxIfDepth = 64;

}  // namespace

bool has_control_flow(const format::Graph& graph) {
  for (const format::Operator* op : *graph.operators())
    if (op->opcode() == kIf) return true;
  return false;
}

// One pass with a stack of the open Ifs: linear in the number of
// operators whatever an untrusted file holds.
Status verify_control_flow(const format::Graph& graph) {
  const auto* ops = graph.operators();
  struct Open {
    uint32_t if_index;
    int64_t else_index;  // -1 until its Else is seen
  };
  Open open[kMaxIfDepth];
  int depth = 0;
  for (uint32_t i = 0; i < ops->size(); ++i) {
    const format::Operator& op = *ops->Get(i);
    if (op.opcode() == kIf) {
      if (target_param(op, 2, 1) < 0) return invalid_flow(graph, i, "needs int_params {first_when, index of its Else}");
      if (depth == kMaxIfDepth) return invalid_flow(graph, i, "nests Ifs deeper than the 64 supported");
      open[depth++] = Open{i, -1};
    } else if (op.opcode() == kElse) {
      if (depth == 0 || open[depth - 1].else_index >= 0) return orphan(graph, i);
      if (target_param(op, 1, 0) < 0) return invalid_flow(graph, i, "needs int_params {index of its EndIf}");
      Open& top = open[depth - 1];
      top.else_index = i;
      if (target_param(*ops->Get(top.if_index), 2, 1) != i)
        return invalid_flow(graph, top.if_index, "names the wrong operator as its Else; its Else is operator", i);
    } else if (op.opcode() == kEndIf) {
      if (depth == 0) return orphan(graph, i);
      const Open& top = open[depth - 1];
      if (top.else_index < 0)
        return invalid_flow(graph, top.if_index, "has no Else before its EndIf or the end of the graph");
      if (target_param(*ops->Get(static_cast<uint32_t>(top.else_index)), 1, 0) != i)
        return invalid_flow(graph, static_cast<uint32_t>(top.else_index),
                            "names the wrong operator as its EndIf; its EndIf is operator", i);
      --depth;
    }
  }
  if (depth > 0) {
    const Open& top = open[depth - 1];
    if (top.else_index < 0)
      return invalid_flow(graph, top.if_index, "has no Else before its EndIf or the end of the graph");
    return invalid_flow(graph, static_cast<uint32_t>(top.else_index), "has no EndIf before the end of the graph");
  }
  return Status::ok();
}

}  // namespace edgegen
