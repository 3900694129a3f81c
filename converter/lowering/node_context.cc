#include "converter/lowering/node_context.h"

#include "converter/constant_data.h"

namespace edgegen::converter {

std::string join(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text;
}

NodeContext::NodeContext(const onnx::NodeProto& node, int opset, GraphBuilder& builder,
                         std::unordered_map<std::string, int>& values,
                         const std::unordered_set<std::string>& used_names, const ConvertOptions& options)
    : node_(node),
      opset_(opset),
      builder_(builder),
      values_(values),
      used_names_(used_names),
      options_(options),
      first_new_tensor_(builder.graph().tensors.size()) {}

bool NodeContext::has_input(size_t index) const {
  return index < num_inputs() && !node_.input(static_cast<int>(index)).empty();
}

int NodeContext::input(size_t index) const {
  if (!has_input(index)) fail("required input " + std::to_string(index) + " is missing");
  const std::string& name = node_.input(static_cast<int>(index));
  auto it = values_.find(name);
  if (it == values_.end())
    fail("input '" + name + "' is not produced by any earlier node, initializer or graph input "
         "(the graph must be topologically sorted)");
  return it->second;
}

int NodeContext::optional_input(size_t index) const { return has_input(index) ? input(index) : -1; }

std::vector<int64_t> NodeContext::constant_ints(size_t index, const std::string& what) const {
  const IrTensor& tensor = input_tensor(index);
  if (!tensor.is_constant)
    fail("input " + std::to_string(index) + " (" + what + ") must be a constant; '" + tensor.name +
         "' is computed at run time");
  if (!is_integer_dtype(tensor.dtype)) fail("input " + std::to_string(index) + " (" + what + ") must be an integer tensor");
  return read_int64s(tensor);
}

std::vector<float> NodeContext::constant_floats(size_t index, const std::string& what) const {
  const IrTensor& tensor = input_tensor(index);
  if (!tensor.is_constant)
    fail("input " + std::to_string(index) + " (" + what + ") must be a constant; '" + tensor.name +
         "' is computed at run time");
  return read_floats(tensor);
}

const onnx::AttributeProto* NodeContext::find_attribute(const std::string& name) const {
  for (const auto& attribute : node_.attribute())
    if (attribute.name() == name) return &attribute;
  return nullptr;
}

int64_t NodeContext::attribute_int(const std::string& name, int64_t default_value) const {
  const onnx::AttributeProto* attribute = find_attribute(name);
  if (!attribute) return default_value;
  if (attribute->type() != onnx::AttributeProto::INT) fail("attribute '" + name + "' must be an integer");
  return attribute->i();
}

int64_t NodeContext::required_int(const std::string& name) const {
  if (!has_attribute(name)) fail("required attribute '" + name + "' is missing");
  return attribute_int(name, 0);
}

float NodeContext::attribute_float(const std::string& name, float default_value) const {
  const onnx::AttributeProto* attribute = find_attribute(name);
  if (!attribute) return default_value;
  if (attribute->type() != onnx::AttributeProto::FLOAT) fail("attribute '" + name + "' must be a float");
  return attribute->f();
}

std::string NodeContext::attribute_string(const std::string& name, const std::string& default_value) const {
  const onnx::AttributeProto* attribute = find_attribute(name);
  if (!attribute) return default_value;
  if (attribute->type() != onnx::AttributeProto::STRING) fail("attribute '" + name + "' must be a string");
  return attribute->s();
}

std::vector<int64_t> NodeContext::attribute_ints(const std::string& name,
                                                 const std::vector<int64_t>& default_value) const {
  const onnx::AttributeProto* attribute = find_attribute(name);
  if (!attribute) return default_value;
  if (attribute->type() != onnx::AttributeProto::INTS) fail("attribute '" + name + "' must be a list of integers");
  return std::vector<int64_t>(attribute->ints().begin(), attribute->ints().end());
}

std::vector<float> NodeContext::attribute_floats(const std::string& name, const std::vector<float>& default_value) const {
  const onnx::AttributeProto* attribute = find_attribute(name);
  if (!attribute) return default_value;
  if (attribute->type() != onnx::AttributeProto::FLOATS) fail("attribute '" + name + "' must be a list of floats");
  return std::vector<float>(attribute->floats().begin(), attribute->floats().end());
}

bool NodeContext::output_used(size_t index) const {
  return index < num_outputs() && !output_name(index).empty() && used_names_.count(output_name(index)) > 0;
}

void NodeContext::bind_output(size_t index, int id) {
  if (index >= num_outputs() || output_name(index).empty()) return;
  // A tensor this node created takes the ONNX name; an existing one (Identity)
  // keeps its own.
  if (static_cast<size_t>(id) >= first_new_tensor_) builder_.graph().tensors[static_cast<size_t>(id)].name = output_name(index);
  values_[output_name(index)] = id;
}

bool NodeContext::output_bound(size_t index) const { return values_.count(output_name(index)) > 0; }

std::string NodeContext::fresh_name(OpCode opcode) {
  std::string base = node_.name().empty() ? (node_.output_size() ? node_.output(0) : op_type()) : node_.name();
  const char* name = op_name(static_cast<uint32_t>(opcode));
  return base + "/" + (name ? name : "op") + "_" + std::to_string(emitted_++);
}

int NodeContext::emit(OpCode opcode, std::vector<int> inputs, std::vector<int64_t> ints, std::vector<float> floats) {
  return emit_multi(opcode, std::move(inputs), 1, std::move(ints), std::move(floats)).at(0);
}

int NodeContext::emit_unfolded(OpCode opcode, std::vector<int> inputs, std::vector<int64_t> ints) {
  IrOp op;
  op.opcode = opcode;
  op.inputs = std::move(inputs);
  op.ints = std::move(ints);
  op.name = node_.name().empty() ? op_type() + "_" + (node_.output_size() ? node_.output(0) : std::string()) : node_.name();
  return builder_.emit(std::move(op), 1, {fresh_name(opcode)}, /*allow_folding=*/false).at(0);
}

std::vector<int> NodeContext::emit_multi(OpCode opcode, std::vector<int> inputs, size_t num_outputs,
                                         std::vector<int64_t> ints, std::vector<float> floats) {
  IrOp op;
  op.opcode = opcode;
  op.inputs = std::move(inputs);
  op.ints = std::move(ints);
  op.floats = std::move(floats);
  op.name = node_.name().empty() ? op_type() + "_" + (node_.output_size() ? node_.output(0) : std::string()) : node_.name();
  std::vector<std::string> names;
  for (size_t i = 0; i < num_outputs; ++i) names.push_back(fresh_name(opcode));
  return builder_.emit(std::move(op), num_outputs, names);
}

int NodeContext::add_constant(IrTensor tensor) {
  if (tensor.name.empty()) tensor.name = fresh_name(OpCode::kIdentity);
  return builder_.add_tensor(std::move(tensor));
}

int NodeContext::float_constant(std::vector<int64_t> shape, const std::vector<float>& values) {
  return add_constant(make_float_constant("", std::move(shape), values));
}

void NodeContext::fail(const std::string& message) const { throw ConversionError(message); }

void NodeContext::unsupported_attribute(const std::string& name, const std::string& value,
                                        const std::string& supported) const {
  fail("attribute '" + name + "' = " + value + " is not supported (supported: " + supported + ")");
}

int NodeContext::normalize_axis(int64_t axis, int rank, const std::string& what) const {
  if (axis < -rank || axis >= rank)
    fail(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace edgegen::converter
