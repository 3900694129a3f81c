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

// The next marker `wanted` (Else or EndIf) after `from` at the same depth,
// or -1 when the depth's EndIf (or the graph's end) comes first.
int64_t matching_marker(const format::Graph& graph, uint32_t from, uint32_t wanted) {
  const auto* ops = graph.operators();
  uint32_t depth = 0;
  for (uint32_t j = from + 1; j < ops->size(); ++j) {
    const uint32_t opcode = ops->Get(j)->opcode();
    if (opcode == kIf) {
      ++depth;
    } else if (opcode == kElse && depth == 0) {
      if (wanted == kElse) return j;
    } else if (opcode == kEndIf) {
      if (depth == 0) return wanted == kEndIf ? static_cast<int64_t>(j) : -1;
      --depth;
    }
  }
  return -1;
}

// The marker's int_params[slot], or -1 when the list is not as long as it must be.
int64_t target_param(const format::Operator& op, uint32_t count, uint32_t slot) {
  if (op.int_params() == nullptr || op.int_params()->size() != count) return -1;
  return op.int_params()->Get(slot);
}

// Every If before has found an Else, and every Else an EndIf, at its own
// depth: a marker more than that (an Else or EndIf without its If) shows
// up as a count ahead of its opener's while the scan passes it.
Status orphan(const format::Graph& graph, uint32_t index) {
  return invalid_flow(graph, index, "does not belong to an If (markers must nest as If, Else, EndIf)");
}

}  // namespace

bool has_control_flow(const format::Graph& graph) {
  for (const format::Operator* op : *graph.operators())
    if (op->opcode() == kIf) return true;
  return false;
}

Status verify_control_flow(const format::Graph& graph) {
  const auto* ops = graph.operators();
  uint32_t ifs = 0, elses = 0, end_ifs = 0;
  for (uint32_t i = 0; i < ops->size(); ++i) {
    const format::Operator& op = *ops->Get(i);
    if (op.opcode() == kIf) {
      ++ifs;
      const int64_t stored = target_param(op, 2, 1);
      if (stored < 0) return invalid_flow(graph, i, "needs int_params {first_when, index of its Else}");
      const int64_t found = matching_marker(graph, i, kElse);
      if (found < 0) return invalid_flow(graph, i, "has no Else before its EndIf or the end of the graph");
      if (stored != found) return invalid_flow(graph, i, "names the wrong operator as its Else; its Else is operator", found);
    } else if (op.opcode() == kElse) {
      if (++elses > ifs) return orphan(graph, i);
      const int64_t stored = target_param(op, 1, 0);
      if (stored < 0) return invalid_flow(graph, i, "needs int_params {index of its EndIf}");
      const int64_t found = matching_marker(graph, i, kEndIf);
      if (found < 0) return invalid_flow(graph, i, "has no EndIf before the end of the graph");
      if (stored != found) return invalid_flow(graph, i, "names the wrong operator as its EndIf; its EndIf is operator", found);
    } else if (op.opcode() == kEndIf) {
      if (++end_ifs > elses) return orphan(graph, i);
    }
  }
  return Status::ok();
}

}  // namespace edgegen
