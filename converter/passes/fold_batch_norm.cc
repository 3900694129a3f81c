// y = conv(x) * scale + shift folds into conv's weights: every output
// channel's weights are multiplied by its scale, and its bias becomes
// bias * scale + shift.
#include "converter/constant_data.h"
#include "converter/passes/passes.h"
#include "ops/op_params.h"

namespace edgegen::converter {
namespace {

bool is_float_constant(const IrGraph& graph, int id) {
  return id >= 0 && graph.tensors[static_cast<size_t>(id)].is_constant &&
         graph.tensors[static_cast<size_t>(id)].dtype == DType::kFloat32;
}

// The output channel each weight element belongs to, for the producer's layout.
std::vector<int64_t> output_channel_of_weights(const IrOp& producer, const IrTensor& weight) {
  std::vector<int64_t> channel(static_cast<size_t>(weight.num_elements()));
  int64_t per_row = weight.shape.empty() ? 1 : weight.num_elements() / weight.shape[0];
  if (producer.opcode == OpCode::kConvTranspose2d) {
    // weight [C_in, O/groups, k...]: element (c, j) feeds output group(c) * O/groups + j.
    int64_t groups = producer.ints[params::kGroups];
    int64_t in_channels = weight.shape[0], per_group_out = weight.shape[1];
    int64_t kernel = per_row / per_group_out;
    for (int64_t c = 0; c < in_channels; ++c)
      for (int64_t j = 0; j < per_group_out; ++j)
        for (int64_t k = 0; k < kernel; ++k)
          channel[static_cast<size_t>((c * per_group_out + j) * kernel + k)] = (c / (in_channels / groups)) * per_group_out + j;
  } else {
    // Conv2d [O, C/groups, k...] and FullyConnected [N, K]: the first axis.
    for (size_t i = 0; i < channel.size(); ++i) channel[i] = static_cast<int64_t>(i) / per_row;
  }
  return channel;
}

int64_t output_channels(const IrOp& producer, const IrTensor& weight) {
  if (producer.opcode == OpCode::kConvTranspose2d) return weight.shape[1] * producer.ints[params::kGroups];
  return weight.shape[0];
}

}  // namespace

void fold_batch_norm(IrGraph& graph) {
  std::vector<int> consumers = graph.consumer_counts();
  std::vector<int> producer_of = graph.producers();
  std::vector<bool> removed(graph.ops.size(), false);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    IrOp& norm = graph.ops[i];
    if (norm.opcode != OpCode::kBatchNorm || norm.activation.kind != ActivationKind::kNone) continue;
    int input = norm.inputs[0];
    int p = producer_of[static_cast<size_t>(input)];
    if (p < 0 || removed[static_cast<size_t>(p)]) continue;
    IrOp& producer = graph.ops[static_cast<size_t>(p)];
    bool foldable_kind = producer.opcode == OpCode::kConv2d || producer.opcode == OpCode::kConvTranspose2d ||
                         producer.opcode == OpCode::kFullyConnected;
    if (!foldable_kind || producer.activation.kind != ActivationKind::kNone) continue;
    if (consumers[static_cast<size_t>(input)] != 1 || graph.is_graph_output(input)) continue;
    if (!is_float_constant(graph, norm.inputs[1]) || !is_float_constant(graph, norm.inputs[2])) continue;
    int weight_id = producer.inputs[1];
    int bias_id = producer.inputs.size() > 2 ? producer.inputs[2] : -1;
    if (!is_float_constant(graph, weight_id) || (bias_id >= 0 && !is_float_constant(graph, bias_id))) continue;
    // FullyConnected's channel is its last axis; BatchNorm's is axis 1.
    if (producer.opcode == OpCode::kFullyConnected && graph.tensors[static_cast<size_t>(input)].shape.size() != 2) continue;

    const IrTensor& weight = graph.tensors[static_cast<size_t>(weight_id)];
    int64_t channels = output_channels(producer, weight);
    std::vector<float> scale = read_floats(graph.tensors[static_cast<size_t>(norm.inputs[1])]);
    std::vector<float> shift = read_floats(graph.tensors[static_cast<size_t>(norm.inputs[2])]);
    if (static_cast<int64_t>(scale.size()) != channels || static_cast<int64_t>(shift.size()) != channels) continue;

    std::vector<float> weights = read_floats(weight);
    std::vector<int64_t> channel = output_channel_of_weights(producer, weight);
    for (size_t k = 0; k < weights.size(); ++k) weights[k] *= scale[static_cast<size_t>(channel[k])];
    std::vector<float> bias(static_cast<size_t>(channels), 0.f);
    if (bias_id >= 0) bias = read_floats(graph.tensors[static_cast<size_t>(bias_id)]);
    for (size_t c = 0; c < bias.size(); ++c) bias[c] = bias[c] * scale[c] + shift[c];

    // New tensors: the originals may be shared with other operators.
    std::string base = graph.tensors[static_cast<size_t>(weight_id)].name;
    std::vector<int64_t> weight_shape = weight.shape;
    graph.tensors.push_back(make_float_constant(base + "/bn_folded", weight_shape, weights));
    producer.inputs[1] = static_cast<int>(graph.tensors.size()) - 1;
    graph.tensors.push_back(make_float_constant(base + "/bn_folded_bias", {channels}, bias));
    if (producer.inputs.size() < 3) producer.inputs.resize(3, -1);
    producer.inputs[2] = static_cast<int>(graph.tensors.size()) - 1;
    producer.outputs[0] = norm.outputs[0];
    removed[i] = true;
  }
  std::vector<IrOp> ops;
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (!removed[i]) ops.push_back(std::move(graph.ops[i]));
  graph.ops = std::move(ops);
}

}  // namespace edgegen::converter
