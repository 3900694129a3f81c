// ONNX ops without an edgegen kernel that the converter evaluates itself
// when their inputs are known at conversion time: Constant, Shape, Size,
// ConstantOfShape, Range, comparisons, logic, Where, NonZero. This is what
// makes PyTorch's shape arithmetic static. Comparisons (Less, LessOrEqual,
// Greater, GreaterOrEqual, Equal), logic (And, Or, Xor, Not) and Where of
// run-time inputs run as kernels; for the others a non-constant input is an
// error.
#include <cmath>
#include <functional>

#include "converter/constant_data.h"
#include "converter/lowering/lowering.h"
#include "converter/onnx_tensor.h"

namespace edgegen::converter {
namespace {

void require_constant_inputs(NodeContext& node) {
  for (size_t i = 0; i < node.num_inputs(); ++i)
    if (node.has_input(i) && !node.input_is_constant(i))
      node.fail("is only supported on constant inputs (edgegen has no kernel for it); input '" +
                node.input_tensor(i).name + "' is computed at run time");
}

// The flat index into each of `shapes` for every element of their broadcast.
std::vector<std::vector<size_t>> broadcast_indices(NodeContext& node, const std::vector<std::vector<int64_t>>& shapes,
                                                   std::vector<int64_t>* out_shape) {
  size_t rank = 0;
  for (const auto& shape : shapes) rank = std::max(rank, shape.size());
  out_shape->assign(rank, 1);
  for (const auto& shape : shapes)
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t& out = (*out_shape)[rank - shape.size() + i];
      if (shape[i] != out && shape[i] != 1 && out != 1) node.fail("input shapes do not broadcast");
      if (shape[i] != 1) out = shape[i];
    }
  int64_t count = element_count(*out_shape);
  std::vector<std::vector<size_t>> indices(shapes.size(), std::vector<size_t>(static_cast<size_t>(count)));
  std::vector<int64_t> position(rank, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    for (size_t s = 0; s < shapes.size(); ++s) {
      const auto& shape = shapes[s];
      size_t index = 0;
      for (size_t i = 0; i < shape.size(); ++i) {
        int64_t coordinate = shape[i] == 1 ? 0 : position[rank - shape.size() + i];
        index = index * static_cast<size_t>(shape[i]) + static_cast<size_t>(coordinate);
      }
      indices[s][static_cast<size_t>(flat)] = index;
    }
    for (size_t i = rank; i-- > 0;) {
      if (++position[i] < (*out_shape)[i]) break;
      position[i] = 0;
    }
  }
  return indices;
}

void lower_constant(NodeContext& node) {
  IrTensor tensor;
  if (const auto* value = node.find_attribute("value")) {
    if (value->type() != onnx::AttributeProto::TENSOR) node.fail("attribute 'value' must be a tensor");
    tensor = tensor_from_onnx(value->t(), "");
  } else if (node.has_attribute("value_float")) {
    tensor = make_float_constant("", {}, {node.attribute_float("value_float", 0.f)});
  } else if (node.has_attribute("value_floats")) {
    std::vector<float> values = node.attribute_floats("value_floats", {});
    tensor = make_float_constant("", {static_cast<int64_t>(values.size())}, values);
  } else if (node.has_attribute("value_int")) {
    tensor = make_int64_constant("", {}, {node.attribute_int("value_int", 0)});
  } else if (node.has_attribute("value_ints")) {
    std::vector<int64_t> values = node.attribute_ints("value_ints", {});
    tensor = make_int64_constant("", {static_cast<int64_t>(values.size())}, values);
  } else {
    node.fail("needs one of the attributes value, value_float, value_floats, value_int, value_ints "
              "(sparse_value and strings are not supported)");
  }
  tensor.name = "";
  node.bind_output(0, node.add_constant(std::move(tensor)));
}

void lower_shape(NodeContext& node) {
  std::vector<int64_t> shape = node.input_shape(0);
  int64_t rank = static_cast<int64_t>(shape.size());
  auto clamp_index = [&](int64_t index) { return std::clamp<int64_t>(index < 0 ? index + rank : index, 0, rank); };
  int64_t start = clamp_index(node.attribute_int("start", 0));
  int64_t end = clamp_index(node.attribute_int("end", rank));
  std::vector<int64_t> values;
  for (int64_t i = start; i < end; ++i) values.push_back(shape[static_cast<size_t>(i)]);
  node.bind_output(0, node.add_constant(make_int64_constant("", {static_cast<int64_t>(values.size())}, values)));
}

void lower_size(NodeContext& node) {
  node.bind_output(0, node.add_constant(make_int64_constant("", {}, {node.input_tensor(0).num_elements()})));
}

void lower_constant_of_shape(NodeContext& node) {
  require_constant_inputs(node);
  std::vector<int64_t> shape = node.constant_ints(0, "shape");
  for (int64_t dim : shape)
    if (dim < 0) node.fail("shape [" + join(shape) + "] has a negative dimension");
  IrTensor fill = make_float_constant("", {1}, {0.f});
  if (const auto* value = node.find_attribute("value")) {
    if (value->type() != onnx::AttributeProto::TENSOR) node.fail("attribute 'value' must be a tensor");
    fill = tensor_from_onnx(value->t(), "");
    if (fill.num_elements() != 1) node.fail("attribute 'value' must hold one element");
  }
  IrTensor result;
  result.dtype = fill.dtype;
  result.shape = shape;
  result.is_constant = true;
  size_t element = dtype_size(fill.dtype);
  result.allocate_data();
  for (size_t offset = 0; offset < result.data.size(); offset += element)
    std::copy(fill.data.begin(), fill.data.end(), result.data.begin() + static_cast<long>(offset));
  node.bind_output(0, node.add_constant(std::move(result)));
}

void lower_range(NodeContext& node) {
  require_constant_inputs(node);
  const IrTensor& start_tensor = node.input_tensor(0);
  for (size_t i = 0; i < 3; ++i)
    if (node.input_tensor(i).num_elements() != 1) node.fail("start, limit and delta must be scalars");
  DType dtype = start_tensor.dtype;
  std::vector<int64_t> values_int;
  std::vector<double> values_float;
  if (is_integer_dtype(dtype)) {
    int64_t start = read_int64s(node.input_tensor(0))[0], limit = read_int64s(node.input_tensor(1))[0];
    int64_t delta = read_int64s(node.input_tensor(2))[0];
    if (delta == 0) node.fail("delta must not be 0");
    double count = std::ceil(static_cast<double>(limit - start) / static_cast<double>(delta));
    for (int64_t i = 0; i < static_cast<int64_t>(std::max(count, 0.0)); ++i) values_int.push_back(start + i * delta);
    node.bind_output(0, node.add_constant(make_constant_from_int64s("", dtype, {static_cast<int64_t>(values_int.size())}, values_int)));
  } else {
    // Computed in the input's precision, as the ONNX reference does.
    float start = read_floats(node.input_tensor(0))[0], limit = read_floats(node.input_tensor(1))[0];
    float delta = read_floats(node.input_tensor(2))[0];
    if (delta == 0.f) node.fail("delta must not be 0");
    double count = std::ceil((static_cast<double>(limit) - start) / delta);
    for (int64_t i = 0; i < static_cast<int64_t>(std::max(count, 0.0)); ++i)
      values_float.push_back(static_cast<double>(start + static_cast<float>(i) * delta));
    node.bind_output(0, node.add_constant(make_constant_from_doubles("", dtype, {static_cast<int64_t>(values_float.size())}, values_float)));
  }
}

// True when some input is computed at run time and `opcode` (a runtime
// kernel, or kIdentity for none) takes over: the op is emitted as is.
bool emit_at_run_time(NodeContext& node, OpCode opcode) {
  bool all_constant = true;
  for (size_t i = 0; i < node.num_inputs(); ++i) all_constant = all_constant && (!node.has_input(i) || node.input_is_constant(i));
  if (all_constant || opcode == OpCode::kIdentity) return false;
  std::vector<int> inputs;
  for (size_t i = 0; i < node.num_inputs(); ++i) inputs.push_back(node.input(i));
  node.bind_output(0, node.emit(opcode, inputs));
  return true;
}

// Binary comparisons and logic, computed in int64 for integer inputs and in
// double otherwise.
template <typename Compare>
void lower_compare(NodeContext& node, Compare compare, OpCode opcode = OpCode::kIdentity) {
  if (emit_at_run_time(node, opcode)) return;
  require_constant_inputs(node);
  const IrTensor& a = node.input_tensor(0);
  const IrTensor& b = node.input_tensor(1);
  if (a.dtype != b.dtype) node.fail("inputs have different types");
  std::vector<int64_t> shape;
  auto indices = broadcast_indices(node, {a.shape, b.shape}, &shape);
  std::vector<int64_t> result(indices[0].size());
  if (is_integer_dtype(a.dtype)) {
    std::vector<int64_t> va = read_int64s(a), vb = read_int64s(b);
    for (size_t i = 0; i < result.size(); ++i) result[i] = compare(va[indices[0][i]], vb[indices[1][i]]);
  } else {
    std::vector<double> va = read_doubles(a), vb = read_doubles(b);
    for (size_t i = 0; i < result.size(); ++i) result[i] = compare(va[indices[0][i]], vb[indices[1][i]]);
  }
  node.bind_output(0, node.add_constant(make_constant_from_int64s("", DType::kBool, shape, result)));
}

// Comparisons of run-time tensors run as kernels (kernels/compare.cc).
void lower_equal(NodeContext& node) { lower_compare(node, [](auto a, auto b) { return a == b; }, OpCode::kEqual); }
void lower_less(NodeContext& node) { lower_compare(node, [](auto a, auto b) { return a < b; }, OpCode::kLess); }
void lower_less_or_equal(NodeContext& node) {
  lower_compare(node, [](auto a, auto b) { return a <= b; }, OpCode::kLessOrEqual);
}
void lower_greater(NodeContext& node) { lower_compare(node, [](auto a, auto b) { return a > b; }, OpCode::kGreater); }
void lower_greater_or_equal(NodeContext& node) {
  lower_compare(node, [](auto a, auto b) { return a >= b; }, OpCode::kGreaterOrEqual);
}
// Logic of run-time tensors runs as kernels (kernels/logical.cc).
void lower_and(NodeContext& node) { lower_compare(node, [](auto a, auto b) { return a != 0 && b != 0; }, OpCode::kAnd); }
void lower_or(NodeContext& node) { lower_compare(node, [](auto a, auto b) { return a != 0 || b != 0; }, OpCode::kOr); }
void lower_xor(NodeContext& node) {
  lower_compare(node, [](auto a, auto b) { return (a != 0) != (b != 0); }, OpCode::kXor);
}

void lower_not(NodeContext& node) {
  if (emit_at_run_time(node, OpCode::kNot)) return;
  require_constant_inputs(node);
  const IrTensor& x = node.input_tensor(0);
  std::vector<int64_t> values = read_int64s(x);
  for (int64_t& value : values) value = value == 0;
  node.bind_output(0, node.add_constant(make_constant_from_int64s("", DType::kBool, x.shape, values)));
}

void lower_where(NodeContext& node) {
  if (emit_at_run_time(node, OpCode::kWhere)) return;  // kernels/where.cc
  require_constant_inputs(node);
  const IrTensor& condition = node.input_tensor(0);
  const IrTensor& a = node.input_tensor(1);
  const IrTensor& b = node.input_tensor(2);
  if (a.dtype != b.dtype) node.fail("X and Y have different types");
  std::vector<int64_t> shape;
  auto indices = broadcast_indices(node, {condition.shape, a.shape, b.shape}, &shape);
  std::vector<int64_t> cond = read_int64s(condition);
  size_t element = dtype_size(a.dtype);
  IrTensor result;
  result.dtype = a.dtype;
  result.shape = shape;
  result.is_constant = true;
  result.allocate_data();
  for (size_t i = 0; i < indices[0].size(); ++i) {
    const IrTensor& source = cond[indices[0][i]] ? a : b;
    size_t from = (cond[indices[0][i]] ? indices[1][i] : indices[2][i]) * element;
    std::copy(source.data.begin() + static_cast<long>(from), source.data.begin() + static_cast<long>(from + element),
              result.data.begin() + static_cast<long>(i * element));
  }
  node.bind_output(0, node.add_constant(std::move(result)));
}

void lower_non_zero(NodeContext& node) {
  require_constant_inputs(node);
  const IrTensor& x = node.input_tensor(0);
  std::vector<double> values = read_doubles(x);
  std::vector<std::vector<int64_t>> coordinates(x.shape.size());
  std::vector<int64_t> position(x.shape.size(), 0);
  for (size_t flat = 0; flat < values.size(); ++flat) {
    if (values[flat] != 0)
      for (size_t d = 0; d < x.shape.size(); ++d) coordinates[d].push_back(position[d]);
    for (size_t d = x.shape.size(); d-- > 0;) {
      if (++position[d] < x.shape[d]) break;
      position[d] = 0;
    }
  }
  int64_t count = x.shape.empty() ? static_cast<int64_t>(values.size() == 1 && values[0] != 0) : static_cast<int64_t>(coordinates[0].size());
  std::vector<int64_t> flat;
  for (const auto& axis : coordinates) flat.insert(flat.end(), axis.begin(), axis.end());
  node.bind_output(0, node.add_constant(make_int64_constant("", {static_cast<int64_t>(x.shape.size()), count}, flat)));
}

}  // namespace

void add_constant_only_lowerings(std::vector<LoweringRule>& rules) {
  rules.push_back({"Constant", {"value", "value_float", "value_floats", "value_int", "value_ints"}, lower_constant});
  rules.push_back({"Shape", {"start", "end"}, lower_shape});
  rules.push_back({"Size", {}, lower_size});
  rules.push_back({"ConstantOfShape", {"value"}, lower_constant_of_shape});
  rules.push_back({"Range", {}, lower_range});
  rules.push_back({"Equal", {}, lower_equal});
  rules.push_back({"Less", {}, lower_less});
  rules.push_back({"LessOrEqual", {}, lower_less_or_equal});
  rules.push_back({"Greater", {}, lower_greater});
  rules.push_back({"GreaterOrEqual", {}, lower_greater_or_equal});
  rules.push_back({"And", {}, lower_and});
  rules.push_back({"Or", {}, lower_or});
  rules.push_back({"Xor", {}, lower_xor});
  rules.push_back({"Not", {}, lower_not});
  rules.push_back({"Where", {}, lower_where});
  rules.push_back({"NonZero", {}, lower_non_zero});
}

}  // namespace edgegen::converter
