// Ops that select positions: ArgMax, ArgMin, TopK (int64 indices out),
// OneHot, Hardmax, Trilu (issue 12). Sizes that decide an output shape (TopK's
// k, OneHot's depth) must be constants; Trilu's k may be computed at run time.
#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"

namespace edgegen::converter {
namespace {

void require_numbers(NodeContext& node, size_t index) {
  const IrTensor& x = node.input_tensor(index);
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32 && x.dtype != DType::kInt64)
    node.fail("input '" + x.name + "' is " + dtype_name(x.dtype) + " (supported: float32, int32, int64)");
}

int64_t zero_or_one(NodeContext& node, const std::string& name, int64_t default_value) {
  int64_t value = node.attribute_int(name, default_value);
  if (value != 0 && value != 1) node.fail("attribute '" + name + "' must be 0 or 1");
  return value;
}

template <OpCode kOp>
void lower_arg_reduce(NodeContext& node) {
  require_numbers(node, 0);
  int axis = node.normalize_axis(node.attribute_int("axis", 0), node.input_rank(0));
  if (node.input_shape(0)[static_cast<size_t>(axis)] == 0) node.fail("the reduced axis is empty");
  node.bind_output(0, node.emit(kOp, {node.input(0)},
                                {axis, zero_or_one(node, "keepdims", 1), zero_or_one(node, "select_last_index", 0)}));
}

void lower_top_k(NodeContext& node) {
  require_numbers(node, 0);
  int axis = node.normalize_axis(node.attribute_int("axis", -1), node.input_rank(0));
  int64_t k;
  if (node.opset() < 10) {
    k = node.required_int("k");
  } else {
    std::vector<int64_t> values = node.constant_ints(1, "k");
    if (values.size() != 1) node.fail("k must hold one value");
    k = values[0];
  }
  int64_t size = node.input_shape(0)[static_cast<size_t>(axis)];
  if (k < 0 || k > size) node.fail("k = " + std::to_string(k) + " is outside [0, " + std::to_string(size) + "]");
  std::vector<int> outputs = node.emit_multi(OpCode::kTopK, {node.input(0)}, 2,
                                             {axis, k, zero_or_one(node, "largest", 1), zero_or_one(node, "sorted", 1)});
  node.bind_output(0, outputs[0]);
  if (node.num_outputs() > 1) node.bind_output(1, outputs[1]);
}

void lower_one_hot(NodeContext& node) {
  require_numbers(node, 0);
  require_numbers(node, 2);
  if (!node.input_is_constant(1)) node.fail("depth must be constant (it sets the output's shape)");
  std::vector<double> depth = read_doubles(node.input_tensor(1));
  if (depth.size() != 1 || !(depth[0] >= 1 && depth[0] < 1e9)) node.fail("depth must be one positive value");
  int axis = node.normalize_axis(node.attribute_int("axis", -1), node.input_rank(0) + 1);
  node.bind_output(0, node.emit(OpCode::kOneHot, {node.input(0), node.input(2)},
                                {axis, static_cast<int64_t>(depth[0])}));
}

void lower_hardmax(NodeContext& node) {
  if (node.input_tensor(0).dtype != DType::kFloat32) node.fail("the input must be float32");
  int rank = node.input_rank(0);
  if (node.opset() < 13) {
    int axis = node.normalize_axis(node.attribute_int("axis", 1), rank);
    node.bind_output(0, node.emit(OpCode::kHardmax, {node.input(0)}, {axis, rank}));
  } else {
    int axis = node.normalize_axis(node.attribute_int("axis", -1), rank);
    node.bind_output(0, node.emit(OpCode::kHardmax, {node.input(0)}, {axis, axis + 1}));
  }
}

void lower_trilu(NodeContext& node) {
  if (node.input_rank(0) < 2) node.fail("the input needs rank 2 or more");
  std::vector<int> inputs = {node.input(0)};
  if (node.has_input(1)) {
    const IrTensor& k = node.input_tensor(1);
    if (k.dtype != DType::kInt64 || element_count(k.shape) != 1) node.fail("k must be one int64 value");
    inputs.push_back(node.input(1));
  }
  node.bind_output(0, node.emit(OpCode::kTrilu, inputs, {zero_or_one(node, "upper", 1)}));
}

}  // namespace

void add_selection_lowerings(std::vector<LoweringRule>& rules) {
  const std::vector<std::string> arg_attributes = {"axis", "keepdims", "select_last_index"};
  rules.push_back({"ArgMax", arg_attributes, lower_arg_reduce<OpCode::kArgMax>});
  rules.push_back({"ArgMin", arg_attributes, lower_arg_reduce<OpCode::kArgMin>});
  rules.push_back({"TopK", {"axis", "k", "largest", "sorted"}, lower_top_k});
  rules.push_back({"OneHot", {"axis"}, lower_one_hot});
  rules.push_back({"Hardmax", {"axis"}, lower_hardmax});
  rules.push_back({"Trilu", {"upper"}, lower_trilu});
}

}  // namespace edgegen::converter
