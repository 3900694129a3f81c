// BatchNormalization (inference), InstanceNormalization, LayerNormalization
// and GroupNormalization.
#include <cmath>

#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"

namespace edgegen::converter {
namespace {

void reject_used_outputs(NodeContext& node, size_t first, const std::string& why) {
  for (size_t i = first; i < node.num_outputs(); ++i)
    if (node.output_used(i)) node.fail("output " + std::to_string(i) + " is used; " + why);
}

void lower_batch_norm(NodeContext& node) {
  float epsilon = node.attribute_float("epsilon", 1e-5f);
  node.attribute_float("momentum", 0.9f);  // training only
  if (node.attribute_int("spatial", 1) != 1)
    node.unsupported_attribute("spatial", std::to_string(node.attribute_int("spatial", 1)), "1");
  if (node.attribute_int("training_mode", 0) != 0)
    node.unsupported_attribute("training_mode", std::to_string(node.attribute_int("training_mode", 0)), "0 (inference)");
  reject_used_outputs(node, 1, "only inference BatchNormalization (one output) is supported");
  if (node.input_rank(0) < 2) node.fail("input must have a channel dimension");
  int64_t channels = node.input_shape(0)[1];
  std::vector<float> scale = node.constant_floats(1, "scale"), bias = node.constant_floats(2, "B");
  std::vector<float> mean = node.constant_floats(3, "input_mean"), var = node.constant_floats(4, "input_var");
  for (const auto* values : {&scale, &bias, &mean, &var})
    if (static_cast<int64_t>(values->size()) != channels)
      node.fail("scale, B, mean and var must have " + std::to_string(channels) + " values (one per channel)");
  std::vector<float> folded_scale(static_cast<size_t>(channels)), folded_shift(static_cast<size_t>(channels));
  for (size_t c = 0; c < folded_scale.size(); ++c) {
    // Computed in double so the folding adds no error of its own.
    double s = static_cast<double>(scale[c]) / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(epsilon));
    folded_scale[c] = static_cast<float>(s);
    folded_shift[c] = static_cast<float>(static_cast<double>(bias[c]) - static_cast<double>(mean[c]) * s);
  }
  node.bind_output(0, node.emit(OpCode::kBatchNorm, {node.input(0), node.float_constant({channels}, folded_scale),
                                                     node.float_constant({channels}, folded_shift)}));
}

void lower_instance_norm(NodeContext& node) {
  float epsilon = node.attribute_float("epsilon", 1e-5f);
  node.bind_output(0, node.emit(OpCode::kInstanceNorm, {node.input(0), node.input(1), node.input(2)}, {}, {epsilon}));
}

void lower_layer_norm(NodeContext& node) {
  int64_t stash_type = node.attribute_int("stash_type", 1);
  if (stash_type != 1) node.unsupported_attribute("stash_type", std::to_string(stash_type), "1 (float)");
  int rank = node.input_rank(0);
  int axis = node.normalize_axis(node.attribute_int("axis", -1), rank);
  float epsilon = node.attribute_float("epsilon", 1e-5f);
  node.bind_output(0, node.emit(OpCode::kLayerNorm, {node.input(0), node.input(1), node.optional_input(2)}, {axis},
                                {epsilon}));
  if (!node.output_used(1) && !node.output_used(2)) return;
  // The optional Mean and InvStdDev outputs, computed as ONNX defines them.
  std::vector<int64_t> reduce = {1};
  for (int i = axis; i < rank; ++i) reduce.push_back(i);
  int x = node.input(0);
  int mean = node.emit(OpCode::kReduceMean, {x}, reduce);
  node.bind_output(1, mean);
  if (!node.output_used(2)) return;
  int deviation = node.emit(OpCode::kSub, {x, mean});
  int variance = node.emit(OpCode::kReduceMean, {node.emit(OpCode::kMul, {deviation, deviation})}, reduce);
  int shifted = node.emit(OpCode::kAdd, {variance, node.float_constant({}, {epsilon})});
  node.bind_output(2, node.emit(OpCode::kReciprocal, {node.emit(OpCode::kSqrt, {shifted})}));
}

void lower_group_norm(NodeContext& node) {
  int64_t groups = node.required_int("num_groups");
  float epsilon = node.attribute_float("epsilon", 1e-5f);
  int64_t stash_type = node.attribute_int("stash_type", 1);
  if (stash_type != 1) node.unsupported_attribute("stash_type", std::to_string(stash_type), "1 (float)");
  if (node.input_rank(0) < 3) node.fail("input must be [N, C, ...]");
  int64_t channels = node.input_shape(0)[1];
  if (groups < 1 || channels % groups != 0) node.fail("num_groups must divide the channel count");
  int gamma = node.input(1), beta = node.input(2);
  // Opsets 18-20 give scale and bias per group; the kernel wants per channel.
  if (element_count(node.input_shape(1)) == groups && groups != channels) {
    std::vector<float> scale = node.constant_floats(1, "scale"), bias = node.constant_floats(2, "bias");
    std::vector<float> channel_scale, channel_bias;
    for (int64_t c = 0; c < channels; ++c) {
      channel_scale.push_back(scale[static_cast<size_t>(c / (channels / groups))]);
      channel_bias.push_back(bias[static_cast<size_t>(c / (channels / groups))]);
    }
    gamma = node.float_constant({channels}, channel_scale);
    beta = node.float_constant({channels}, channel_bias);
  }
  node.bind_output(0, node.emit(OpCode::kGroupNorm, {node.input(0), gamma, beta}, {groups}, {epsilon}));
}

}  // namespace

void add_normalization_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"BatchNormalization",
                   {"epsilon", "momentum", "spatial", "is_test", "consumed_inputs", "training_mode"},
                   lower_batch_norm});
  rules.push_back({"InstanceNormalization", {"epsilon"}, lower_instance_norm});
  rules.push_back({"LayerNormalization", {"axis", "epsilon", "stash_type"}, lower_layer_norm});
  rules.push_back({"GroupNormalization", {"epsilon", "num_groups", "stash_type"}, lower_group_norm});
}

}  // namespace edgegen::converter
