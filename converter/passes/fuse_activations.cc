// Activations fused into the operator producing their input, so the
// intermediate tensor never reaches memory.
#include "converter/passes/passes.h"

namespace edgegen::converter {
namespace {

bool fusable_producer(OpCode opcode) {
  switch (opcode) {
    case OpCode::kConv2d:
    case OpCode::kConvTranspose2d:
    case OpCode::kFullyConnected:
    case OpCode::kBatchNorm:
    case OpCode::kAdd:
    case OpCode::kSub:
    case OpCode::kMul:
    case OpCode::kDiv: return true;
    default: return false;
  }
}

// The fused form of an activation op; kNone if it has none.
FusedActivation fused_form(const IrOp& op) {
  FusedActivation activation;
  switch (op.opcode) {
    case OpCode::kRelu: activation.kind = ActivationKind::kRelu; break;
    case OpCode::kSigmoid: activation.kind = ActivationKind::kSigmoid; break;
    case OpCode::kTanh: activation.kind = ActivationKind::kTanh; break;
    case OpCode::kSilu: activation.kind = ActivationKind::kSilu; break;
    case OpCode::kLeakyRelu:
      if (op.floats.size() != 1) break;
      activation.kind = ActivationKind::kLeakyRelu;
      activation.param0 = op.floats[0];
      break;
    case OpCode::kClip:
      if (op.floats.size() != 2) break;
      activation.kind = ActivationKind::kClip;
      activation.param0 = op.floats[0];
      activation.param1 = op.floats[1];
      break;
    default: break;
  }
  return activation;
}

void remove_marked(IrGraph& graph, const std::vector<bool>& removed) {
  std::vector<IrOp> ops;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (!removed[i]) ops.push_back(std::move(graph.ops[i]));
  graph.ops = std::move(ops);
}

// Sigmoid(x) * x -> Silu(x) when the sigmoid feeds only that Mul.
void recognize_silu(IrGraph& graph) {
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  std::vector<bool> removed(graph.ops.size(), false);
  for (IrOp& mul : graph.ops) {
    if (mul.opcode != OpCode::kMul || mul.activation.kind != ActivationKind::kNone) continue;
    for (int side = 0; side < 2; ++side) {
      int gate = mul.inputs[static_cast<size_t>(side)], x = mul.inputs[static_cast<size_t>(1 - side)];
      int p = gate >= 0 ? producer_of[static_cast<size_t>(gate)] : -1;
      if (p < 0 || removed[static_cast<size_t>(p)]) continue;
      const IrOp& sigmoid = graph.ops[static_cast<size_t>(p)];
      if (sigmoid.opcode != OpCode::kSigmoid || sigmoid.activation.kind != ActivationKind::kNone) continue;
      if (sigmoid.inputs[0] != x || consumers[static_cast<size_t>(gate)] != 1 || graph.is_graph_output(gate)) continue;
      if (graph.tensors[static_cast<size_t>(x)].shape != graph.tensors[static_cast<size_t>(mul.outputs[0])].shape) continue;
      removed[static_cast<size_t>(p)] = true;
      mul.opcode = OpCode::kSilu;
      mul.inputs = {x};
      break;
    }
  }
  remove_marked(graph, removed);
}

}  // namespace

void fuse_activations(IrGraph& graph) {
  recognize_silu(graph);
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  std::vector<bool> removed(graph.ops.size(), false);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    IrOp& activation_op = graph.ops[i];
    FusedActivation activation = fused_form(activation_op);
    if (activation.kind == ActivationKind::kNone || activation_op.activation.kind != ActivationKind::kNone) continue;
    int input = activation_op.inputs[0];
    int p = producer_of[static_cast<size_t>(input)];
    if (p < 0 || removed[static_cast<size_t>(p)]) continue;
    IrOp& producer = graph.ops[static_cast<size_t>(p)];
    if (!fusable_producer(producer.opcode) || producer.activation.kind != ActivationKind::kNone) continue;
    if (producer.outputs.size() != 1 || consumers[static_cast<size_t>(input)] != 1 || graph.is_graph_output(input)) continue;
    if (graph.tensors[static_cast<size_t>(input)].dtype != DType::kFloat32) continue;
    if (graph.tensors[static_cast<size_t>(input)].shape != graph.tensors[static_cast<size_t>(activation_op.outputs[0])].shape) continue;
    producer.activation = activation;
    producer.outputs[0] = activation_op.outputs[0];
    producer_of[static_cast<size_t>(activation_op.outputs[0])] = p;
    removed[i] = true;
  }
  remove_marked(graph, removed);
}

}  // namespace edgegen::converter
