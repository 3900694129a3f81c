#include "converter/memory_plan.h"

#include <algorithm>
#include <cstdint>

#include "converter/converter.h"
#include "core/in_place.h"
#include "core/memory_planner.h"

namespace edgegen::converter {

uint64_t state_bytes(const IrGraph& graph) {
  uint64_t total = 0;
  for (const auto& pair : graph.state_pairs)
    total += align_up(graph.tensors[static_cast<size_t>(pair.first)].bytes(), kArenaAlignment);
  return total;
}

void check_in_place(const IrGraph& graph) {
  const std::vector<int> producers = graph.producers();
  for (const auto& [input, output] : graph.state_pairs) {
    const IrTensor& in = graph.tensors[static_cast<size_t>(input)];
    const IrTensor& out = graph.tensors[static_cast<size_t>(output)];
    const std::string names = "graph '" + graph.name + "': state '" + out.name + "' cannot be updated in place on '" +
                              in.name + "': ";
    if (!graph.is_graph_input(input) || !graph.is_graph_output(output))
      throw ConversionError(names + "the state must be a graph input and its update a graph output");
    if (in.shape != out.shape || in.dtype != out.dtype)
      throw ConversionError(names + "their shapes or dtypes differ (" + shape_to_string(out.shape) + " vs " +
                            shape_to_string(in.shape) + ")");
    const int step = producers[static_cast<size_t>(output)];
    if (step < 0) throw ConversionError(names + "no operator produces it (it is an input or a constant)");
    const IrOp& op = graph.ops[static_cast<size_t>(step)];
    bool in_place = false;
    if (op.opcode == OpCode::kScatterND || op.opcode == OpCode::kScatterElements) {
      in_place = op.inputs[0] == input && op.inputs[1] != input && op.inputs[2] != input;
    } else if (op.opcode == OpCode::kWhere) {
      // Element-wise with the state at the output's shape: element i is read
      // before element i is written, and no other.
      in_place = (op.inputs[1] == input) != (op.inputs[2] == input) && op.inputs[0] != input;
    }
    if (!in_place)
      throw ConversionError(names + "its producer '" + op.name + "' (" + op_name(static_cast<uint32_t>(op.opcode)) +
                            ") must be a ScatterND or ScatterElements whose data is '" + in.name +
                            "', or a Where that selects between '" + in.name + "' and new values");
    for (size_t later = static_cast<size_t>(step) + 1; later < graph.ops.size(); ++later)
      for (int read : graph.ops[later].inputs)
        if (read == input)
          throw ConversionError(names + "'" + graph.ops[later].name + "' reads '" + in.name +
                                "' after it is updated; read the updated '" + out.name + "' instead");
  }
}

namespace {

// For each tensor, the tensor whose bytes it is planned on: itself, or for
// the output of an op computing in place (core/in_place.h gives the rule),
// the holder of the input it is written on.
std::vector<int> in_place_holders(const IrGraph& graph, const std::vector<int32_t>& first,
                                  const std::vector<int32_t>& last) {
  std::vector<int> holder(graph.tensors.size());
  for (size_t t = 0; t < holder.size(); ++t) holder[t] = static_cast<int>(t);
  std::vector<bool> is_state(graph.tensors.size(), false);
  for (const auto& [input, output] : graph.state_pairs)
    is_state[static_cast<size_t>(input)] = is_state[static_cast<size_t>(output)] = true;
  for (size_t step = 0; step < graph.ops.size(); ++step) {
    const IrOp& op = graph.ops[step];
    if (op.outputs.empty()) continue;
    const int output = op.outputs[0];
    const size_t out = static_cast<size_t>(output);
    const size_t operands = static_cast<size_t>(in_place_operands(op.opcode));
    for (size_t k = 0; k < operands && k < op.inputs.size(); ++k) {
      const int input = op.inputs[k];
      if (input < 0 || input == output) continue;
      const size_t in = static_cast<size_t>(input);
      InPlacePair pair;
      pair.both_float32 = graph.tensors[in].dtype == DType::kFloat32 && graph.tensors[out].dtype == DType::kFloat32;
      pair.input_is_activation = !graph.tensors[in].is_constant;
      pair.input_kept = graph.is_graph_input(input) || graph.is_graph_output(input) || is_state[in];
      pair.output_is_state = is_state[out];
      for (int read : op.inputs) pair.reads_by_op += read == input;
      pair.input_bytes = graph.tensors[in].bytes();
      pair.output_bytes = graph.tensors[out].bytes();
      pair.step = static_cast<int32_t>(step);
      pair.input_first_use = first[in];
      pair.input_last_use = last[in];
      pair.output_first_use = first[out];
      const bool eligible = may_write_on_input(pair);
      if (eligible) {
        holder[out] = holder[in];
        break;
      }
    }
  }
  return holder;
}

}  // namespace

GraphPlan plan_graph_memory(const IrGraph& graph) {
  check_in_place(graph);
  const int32_t last_step = std::max<int32_t>(0, static_cast<int32_t>(graph.ops.size()) - 1);
  const size_t count = graph.tensors.size();
  std::vector<int32_t> first(count, -1), last(count, -1);
  for (int input : graph.inputs) first[static_cast<size_t>(input)] = last[static_cast<size_t>(input)] = 0;
  for (size_t step = 0; step < graph.ops.size(); ++step) {
    const IrOp& op = graph.ops[step];
    // An If's output has a writer in each branch: live from the first to the
    // last writer or reader (runtime/core/control_flow.h).
    for (int output : op.outputs) {
      if (first[static_cast<size_t>(output)] < 0) first[static_cast<size_t>(output)] = static_cast<int32_t>(step);
      last[static_cast<size_t>(output)] = std::max(last[static_cast<size_t>(output)], static_cast<int32_t>(step));
    }
    for (int input : op.inputs)
      if (input >= 0) last[static_cast<size_t>(input)] = std::max(last[static_cast<size_t>(input)], static_cast<int32_t>(step));
  }
  for (int output : graph.outputs) last[static_cast<size_t>(output)] = last_step;

  // The state, at the bottom of the arena in pair order.
  std::vector<bool> is_state(count, false);
  GraphPlan plan;
  plan.offsets.assign(count, 0);
  uint64_t state_end = 0;
  std::vector<PlannedBuffer> state_buffers;
  for (const auto& [input, output] : graph.state_pairs) {
    is_state[static_cast<size_t>(input)] = is_state[static_cast<size_t>(output)] = true;
    plan.offsets[static_cast<size_t>(input)] = plan.offsets[static_cast<size_t>(output)] = state_end;
    PlannedBuffer buffer;
    buffer.size = graph.tensors[static_cast<size_t>(input)].bytes();
    buffer.first_use = 0;
    buffer.last_use = last_step;
    buffer.offset = state_end;
    state_buffers.push_back(buffer);
    state_end += align_up(buffer.size, kArenaAlignment);
  }

  // An in-place output is planned as part of the buffer that holds its
  // input: one buffer from the input's first step to the output's last.
  const std::vector<int> holder = in_place_holders(graph, first, last);
  std::vector<PlannedBuffer> buffers;
  std::vector<size_t> buffer_of_tensor(count, SIZE_MAX);
  for (size_t i = 0; i < count; ++i) {
    const IrTensor& tensor = graph.tensors[i];
    if (tensor.is_constant || is_state[i]) continue;
    if (first[i] < 0) throw ConversionError("internal: activation '" + tensor.name + "' of graph '" + graph.name + "' has no producer");
    if (holder[i] != static_cast<int>(i)) continue;
    PlannedBuffer buffer;
    buffer.size = tensor.bytes();
    buffer.first_use = first[i];
    buffer.last_use = last[i];
    buffer_of_tensor[i] = buffers.size();
    buffers.push_back(buffer);
  }
  for (size_t i = 0; i < count; ++i) {
    if (holder[i] == static_cast<int>(i)) continue;
    buffer_of_tensor[i] = buffer_of_tensor[static_cast<size_t>(holder[i])];
    PlannedBuffer& buffer = buffers[buffer_of_tensor[i]];
    buffer.last_use = std::max(buffer.last_use, last[i]);
  }
  std::vector<uint32_t> order(buffers.size());
  plan_greedy_by_size(buffers.data(), buffers.size(), kArenaAlignment, order.data(), &plan.arena_bytes);
  for (PlannedBuffer& buffer : buffers) buffer.offset += state_end;
  plan.arena_bytes += state_end;
  buffers.insert(buffers.end(), state_buffers.begin(), state_buffers.end());
  plan.lower_bound_bytes = plan_lower_bound(buffers.data(), buffers.size(), kArenaAlignment);
  Status status = check_plan(buffers.data(), buffers.size(), plan.arena_bytes, kArenaAlignment);
  if (!status.is_ok()) throw ConversionError(std::string("internal: memory plan rejected: ") + status.message());
  for (size_t i = 0; i < count; ++i)
    if (buffer_of_tensor[i] != SIZE_MAX) plan.offsets[i] = buffers[buffer_of_tensor[i]].offset;
  return plan;
}

}  // namespace edgegen::converter
