// Pooling, global pooling, softmax and reductions.
#include <algorithm>

#include "converter/lowering/lowering.h"
#include "converter/lowering/spatial_attributes.h"

namespace edgegen::converter {
namespace {

std::vector<int64_t> pool_ints(NodeContext& node, bool has_dilations, int64_t count_include_pad) {
  require_1d_or_2d(node, 0);
  const auto& x = node.input_shape(0);
  std::vector<int64_t> input_spatial(x.begin() + 2, x.end());
  if (!node.has_attribute("kernel_shape")) node.fail("required attribute 'kernel_shape' is missing");
  std::vector<int64_t> kernel = node.attribute_ints("kernel_shape", {});
  if (kernel.size() != input_spatial.size()) node.fail("attribute 'kernel_shape' needs " + std::to_string(input_spatial.size()) + " values");
  SpatialWindow window = read_spatial_window(node, input_spatial, kernel, has_dilations);
  int64_t ceil_mode = node.attribute_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) node.unsupported_attribute("ceil_mode", std::to_string(ceil_mode), "0, 1");
  bool two_d = kernel.size() == 2;
  return {height_of(window.kernel, 1),      width_of(window.kernel),
          height_of(window.strides, 1),     width_of(window.strides),
          height_of(window.dilations, 1),   width_of(window.dilations),
          two_d ? window.pad_begin[0] : 0,  window.pad_begin.back(),
          two_d ? window.pad_end[0] : 0,    window.pad_end.back(),
          ceil_mode,                        count_include_pad};
}

void lower_max_pool(NodeContext& node) {
  if (node.output_used(1)) node.fail("the Indices output is used; not supported");
  int64_t storage_order = node.attribute_int("storage_order", 0);  // only affects Indices
  if (storage_order != 0 && storage_order != 1) node.unsupported_attribute("storage_order", std::to_string(storage_order), "0, 1");
  node.bind_output(0, node.emit(OpCode::kMaxPool2d, {node.input(0)}, pool_ints(node, true, 0)));
}

void lower_average_pool(NodeContext& node) {
  int64_t count_include_pad = node.attribute_int("count_include_pad", 0);
  if (count_include_pad != 0 && count_include_pad != 1)
    node.unsupported_attribute("count_include_pad", std::to_string(count_include_pad), "0, 1");
  node.bind_output(0, node.emit(OpCode::kAveragePool2d, {node.input(0)}, pool_ints(node, true, count_include_pad)));
}

template <OpCode kReduce>
void lower_global_pool(NodeContext& node) {
  int rank = node.input_rank(0);
  if (rank < 3) node.fail("input must be [N, C, ...]");
  std::vector<int64_t> ints = {1};
  for (int axis = 2; axis < rank; ++axis) ints.push_back(axis);
  node.bind_output(0, node.emit(kReduce, {node.input(0)}, ints));
}

template <OpCode kSoftmax>
void lower_softmax(NodeContext& node) {
  int rank = node.input_rank(0);
  if (node.opset() < 13) {
    // Old semantics: the input is flattened to 2-D at `axis`.
    int axis = node.normalize_axis(node.attribute_int("axis", 1), rank);
    node.bind_output(0, node.emit(kSoftmax, {node.input(0)}, {axis, rank}));
  } else {
    int axis = node.normalize_axis(node.attribute_int("axis", -1), rank);
    node.bind_output(0, node.emit(kSoftmax, {node.input(0)}, {axis, axis + 1}));
  }
}

// The axes of a Reduce* node (attribute or, from `input_opset`, input 1),
// normalized and sorted; `empty_means_identity` for noop_with_empty_axes.
std::vector<int64_t> reduce_axes(NodeContext& node, int input_opset, bool* empty_means_identity) {
  int rank = node.input_rank(0);
  std::vector<int64_t> axes;
  if (node.opset() < input_opset) {
    axes = node.attribute_ints("axes", {});
  } else {
    if (node.has_attribute("axes")) node.fail("attribute 'axes' is an input from opset " + std::to_string(input_opset));
    if (node.has_input(1)) axes = node.constant_ints(1, "axes");
  }
  int64_t noop = node.attribute_int("noop_with_empty_axes", 0);
  if (noop != 0 && noop != 1) node.unsupported_attribute("noop_with_empty_axes", std::to_string(noop), "0, 1");
  *empty_means_identity = noop == 1;
  for (int64_t& axis : axes) axis = node.normalize_axis(axis, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) node.fail("axes contain a duplicate");
  return axes;
}

// Emits reduce `opcode` of `x`; returns x itself for a no-op reduction.
int emit_reduce(NodeContext& node, OpCode opcode, int x, int input_opset) {
  bool identity_if_empty = false;
  std::vector<int64_t> axes = reduce_axes(node, input_opset, &identity_if_empty);
  int64_t keepdims = node.attribute_int("keepdims", 1);
  if (keepdims != 0 && keepdims != 1) node.unsupported_attribute("keepdims", std::to_string(keepdims), "0, 1");
  if (axes.empty() && identity_if_empty) return x;
  std::vector<int64_t> ints = {keepdims};
  ints.insert(ints.end(), axes.begin(), axes.end());
  return node.emit(opcode, {x}, ints);
}

template <OpCode kReduce, int kAxesInputOpset>
void lower_reduce(NodeContext& node) {
  node.bind_output(0, emit_reduce(node, kReduce, node.input(0), kAxesInputOpset));
}

// The reductions ONNX defines in terms of ReduceSum.
void lower_reduce_sum_square(NodeContext& node) {
  int x = node.emit(OpCode::kMul, {node.input(0), node.input(0)});
  node.bind_output(0, emit_reduce(node, OpCode::kReduceSum, x, 18));
}
void lower_reduce_l1(NodeContext& node) {
  int x = node.emit(OpCode::kAbs, {node.input(0)});
  node.bind_output(0, emit_reduce(node, OpCode::kReduceSum, x, 18));
}
void lower_reduce_l2(NodeContext& node) {
  int x = node.emit(OpCode::kMul, {node.input(0), node.input(0)});
  node.bind_output(0, node.emit(OpCode::kSqrt, {emit_reduce(node, OpCode::kReduceSum, x, 18)}));
}
void lower_reduce_log_sum(NodeContext& node) {
  node.bind_output(0, node.emit(OpCode::kLog, {emit_reduce(node, OpCode::kReduceSum, node.input(0), 18)}));
}
void lower_reduce_log_sum_exp(NodeContext& node) {
  int x = node.emit(OpCode::kExp, {node.input(0)});
  node.bind_output(0, node.emit(OpCode::kLog, {emit_reduce(node, OpCode::kReduceSum, x, 18)}));
}

}  // namespace

void add_pool_reduce_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"MaxPool", {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"},
                   lower_max_pool});
  rules.push_back({"AveragePool", {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"},
                   lower_average_pool});
  rules.push_back({"GlobalAveragePool", {}, lower_global_pool<OpCode::kReduceMean>});
  rules.push_back({"GlobalMaxPool", {}, lower_global_pool<OpCode::kReduceMax>});
  rules.push_back({"Softmax", {"axis"}, lower_softmax<OpCode::kSoftmax>});
  rules.push_back({"LogSoftmax", {"axis"}, lower_softmax<OpCode::kLogSoftmax>});
  const std::vector<std::string> reduce_attributes = {"axes", "keepdims", "noop_with_empty_axes"};
  rules.push_back({"ReduceMean", reduce_attributes, lower_reduce<OpCode::kReduceMean, 18>});
  rules.push_back({"ReduceSum", reduce_attributes, lower_reduce<OpCode::kReduceSum, 13>});
  rules.push_back({"ReduceMax", reduce_attributes, lower_reduce<OpCode::kReduceMax, 18>});
  rules.push_back({"ReduceMin", reduce_attributes, lower_reduce<OpCode::kReduceMin, 18>});
  rules.push_back({"ReduceSumSquare", reduce_attributes, lower_reduce_sum_square});
  rules.push_back({"ReduceL1", reduce_attributes, lower_reduce_l1});
  rules.push_back({"ReduceL2", reduce_attributes, lower_reduce_l2});
  rules.push_back({"ReduceLogSum", reduce_attributes, lower_reduce_log_sum});
  rules.push_back({"ReduceLogSumExp", reduce_attributes, lower_reduce_log_sum_exp});
}

}  // namespace edgegen::converter
