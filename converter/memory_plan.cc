#include "converter/memory_plan.h"

#include <algorithm>

#include "converter/converter.h"
#include "core/memory_planner.h"

namespace edgegen::converter {

GraphPlan plan_graph_memory(const IrGraph& graph) {
  const int32_t last_step = std::max<int32_t>(0, static_cast<int32_t>(graph.ops.size()) - 1);
  const size_t count = graph.tensors.size();
  std::vector<int32_t> first(count, -1), last(count, -1);
  for (int input : graph.inputs) first[static_cast<size_t>(input)] = last[static_cast<size_t>(input)] = 0;
  for (size_t step = 0; step < graph.ops.size(); ++step) {
    const IrOp& op = graph.ops[step];
    for (int output : op.outputs)
      if (first[static_cast<size_t>(output)] < 0) first[static_cast<size_t>(output)] = last[static_cast<size_t>(output)] = static_cast<int32_t>(step);
    for (int input : op.inputs)
      if (input >= 0) last[static_cast<size_t>(input)] = std::max(last[static_cast<size_t>(input)], static_cast<int32_t>(step));
  }
  for (int output : graph.outputs) last[static_cast<size_t>(output)] = last_step;

  std::vector<PlannedBuffer> buffers;
  std::vector<size_t> tensor_of_buffer;
  for (size_t i = 0; i < count; ++i) {
    const IrTensor& tensor = graph.tensors[i];
    if (tensor.is_constant) continue;
    if (first[i] < 0) throw ConversionError("internal: activation '" + tensor.name + "' of graph '" + graph.name + "' has no producer");
    PlannedBuffer buffer;
    buffer.size = tensor.bytes();
    buffer.first_use = first[i];
    buffer.last_use = last[i];
    buffers.push_back(buffer);
    tensor_of_buffer.push_back(i);
  }
  GraphPlan plan;
  plan.offsets.assign(count, 0);
  std::vector<uint32_t> order(buffers.size());
  plan_greedy_by_size(buffers.data(), buffers.size(), kArenaAlignment, order.data(), &plan.arena_bytes);
  plan.lower_bound_bytes = plan_lower_bound(buffers.data(), buffers.size(), kArenaAlignment);
  Status status = check_plan(buffers.data(), buffers.size(), plan.arena_bytes, kArenaAlignment);
  if (!status.is_ok()) throw ConversionError(std::string("internal: memory plan rejected: ") + status.message());
  for (size_t b = 0; b < buffers.size(); ++b) plan.offsets[tensor_of_buffer[b]] = buffers[b].offset;
  return plan;
}

}  // namespace edgegen::converter
