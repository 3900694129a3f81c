// PyTorch exports GroupNorm(G, C) as
//   Reshape x [N, C, ...] -> [N, G, M]
//   InstanceNorm with scale = ones[G], bias = zeros[G]
//   Reshape back to x's shape
//   Mul by weight [C, 1, 1] ; Add bias [C, 1, 1]      (when affine)
// which is one GroupNorm(x, weight, bias) with groups = G.
#include "converter/constant_data.h"
#include "converter/passes/passes.h"

namespace edgegen::converter {
namespace {

bool all_equal(const IrTensor& tensor, float value) {
  if (!tensor.is_constant || tensor.dtype != DType::kFloat32) return false;
  for (float element : read_floats(tensor))
    if (element != value) return false;
  return true;
}

// The per-channel values of a constant that broadcasts against [N, C, ...]
// along the channel axis only; empty when it does not.
std::vector<float> per_channel(const IrTensor& tensor, size_t rank, int64_t channels) {
  if (!tensor.is_constant || tensor.dtype != DType::kFloat32 || tensor.shape.size() > rank) return {};
  size_t offset = rank - tensor.shape.size();
  for (size_t i = 0; i < tensor.shape.size(); ++i) {
    size_t axis = offset + i;
    if (axis != 1 && tensor.shape[i] != 1) return {};
    if (axis == 1 && tensor.shape[i] != channels && tensor.shape[i] != 1) return {};
  }
  std::vector<float> values = read_floats(tensor);
  if (values.size() == 1) values.assign(static_cast<size_t>(channels), values[0]);
  return values;
}

}  // namespace

void recognize_group_norm(IrGraph& graph) {
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  // The single op reading `tensor` (not a graph output), or -1.
  auto sole_consumer = [&](int tensor) {
    if (consumers[static_cast<size_t>(tensor)] != 1 || graph.is_graph_output(tensor)) return -1;
    for (size_t i = 0; i < graph.ops.size(); ++i)
      for (int input : graph.ops[i].inputs)
        if (input == tensor) return static_cast<int>(i);
    return -1;
  };
  std::vector<bool> removed(graph.ops.size(), false);
  for (size_t n = 0; n < graph.ops.size(); ++n) {
    IrOp& norm = graph.ops[n];
    if (norm.opcode != OpCode::kInstanceNorm || removed[n] || norm.activation.kind != ActivationKind::kNone) continue;
    int grouped = norm.inputs[0];
    int first = producer_of[static_cast<size_t>(grouped)];
    if (first < 0 || graph.ops[static_cast<size_t>(first)].opcode != OpCode::kReshape) continue;
    if (consumers[static_cast<size_t>(grouped)] != 1 || graph.is_graph_output(grouped)) continue;
    int x = graph.ops[static_cast<size_t>(first)].inputs[0];
    const auto x_shape = graph.tensors[static_cast<size_t>(x)].shape;
    const auto& grouped_shape = graph.tensors[static_cast<size_t>(grouped)].shape;
    if (x_shape.size() < 3 || grouped_shape.size() != 3 || grouped_shape[0] != x_shape[0]) continue;
    int64_t channels = x_shape[1], groups = grouped_shape[1];
    if (groups < 1 || channels % groups != 0) continue;
    if (!all_equal(graph.tensors[static_cast<size_t>(norm.inputs[1])], 1.f) ||
        !all_equal(graph.tensors[static_cast<size_t>(norm.inputs[2])], 0.f))
      continue;
    int back = sole_consumer(norm.outputs[0]);
    if (back < 0 || graph.ops[static_cast<size_t>(back)].opcode != OpCode::kReshape) continue;
    int result = graph.ops[static_cast<size_t>(back)].outputs[0];
    if (graph.tensors[static_cast<size_t>(result)].shape != x_shape) continue;

    std::vector<float> gamma(static_cast<size_t>(channels), 1.f), beta(static_cast<size_t>(channels), 0.f);
    std::vector<int> chain = {first, static_cast<int>(n), back};
    // The affine part, when it follows.
    int mul = sole_consumer(result);
    if (mul >= 0 && graph.ops[static_cast<size_t>(mul)].opcode == OpCode::kMul &&
        graph.ops[static_cast<size_t>(mul)].activation.kind == ActivationKind::kNone) {
      const IrOp& op = graph.ops[static_cast<size_t>(mul)];
      int other = op.inputs[0] == result ? op.inputs[1] : op.inputs[0];
      std::vector<float> scale = per_channel(graph.tensors[static_cast<size_t>(other)], x_shape.size(), channels);
      if (!scale.empty() && graph.tensors[static_cast<size_t>(op.outputs[0])].shape == x_shape) {
        gamma = scale;
        chain.push_back(mul);
        result = op.outputs[0];
        int add = sole_consumer(result);
        if (add >= 0 && graph.ops[static_cast<size_t>(add)].opcode == OpCode::kAdd &&
            graph.ops[static_cast<size_t>(add)].activation.kind == ActivationKind::kNone) {
          const IrOp& add_op = graph.ops[static_cast<size_t>(add)];
          int shift_id = add_op.inputs[0] == result ? add_op.inputs[1] : add_op.inputs[0];
          std::vector<float> shift = per_channel(graph.tensors[static_cast<size_t>(shift_id)], x_shape.size(), channels);
          if (!shift.empty() && graph.tensors[static_cast<size_t>(add_op.outputs[0])].shape == x_shape) {
            beta = shift;
            chain.push_back(add);
            result = add_op.outputs[0];
          }
        }
      }
    }

    float epsilon = norm.floats.empty() ? 1e-5f : norm.floats[0];
    std::string name = norm.name;
    graph.tensors.push_back(make_float_constant(name + "/group_norm_gamma", {channels}, gamma));
    int gamma_id = static_cast<int>(graph.tensors.size()) - 1;
    graph.tensors.push_back(make_float_constant(name + "/group_norm_beta", {channels}, beta));
    int beta_id = static_cast<int>(graph.tensors.size()) - 1;
    // The GroupNorm takes the place of the last op of the chain, so every
    // op reading `result` still runs after it.
    IrOp& last = graph.ops[static_cast<size_t>(chain.back())];
    IrOp group_norm;
    group_norm.opcode = OpCode::kGroupNorm;
    group_norm.inputs = {x, gamma_id, beta_id};
    group_norm.outputs = {result};
    group_norm.ints = {groups};
    group_norm.floats = {epsilon};
    group_norm.name = name;
    for (size_t k = 0; k + 1 < chain.size(); ++k) removed[static_cast<size_t>(chain[k])] = true;
    last = std::move(group_norm);
  }
  std::vector<IrOp> ops;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (!removed[i]) ops.push_back(std::move(graph.ops[i]));
  graph.ops = std::move(ops);
}

}  // namespace edgegen::converter
