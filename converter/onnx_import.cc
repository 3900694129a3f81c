#include "converter/onnx_import.h"

#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "converter/graph_builder.h"
#include "converter/lowering/lowering.h"
#include "converter/onnx_tensor.h"

namespace edgegen::converter {
namespace {

// The opsets whose semantics the lowering rules handle (older attribute
// forms included); newer opsets may change an op without renaming it.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 18;

int64_t default_domain_opset(const onnx::ModelProto& model) {
  int64_t opset = -1;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = entry.version();
  if (opset < 0) throw ConversionError("the model imports no opset of the default ONNX domain");
  if (opset < kMinOpset || opset > kMaxOpset)
    throw ConversionError("opset " + std::to_string(opset) + " is not supported (supported: " +
                          std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
  return opset;
}

std::string describe_node(const onnx::NodeProto& node, int index) {
  std::string text = "node ";
  if (!node.name().empty()) text += "'" + node.name() + "' ";
  return text + "#" + std::to_string(index) + " (" + node.op_type() + ")";
}

std::vector<int64_t> input_shape(const onnx::ValueInfoProto& input, const ConvertOptions& options) {
  const std::string what = "graph input '" + input.name() + "'";
  if (!input.type().has_tensor_type()) throw ConversionError(what + " is not a tensor");
  const auto& tensor_type = input.type().tensor_type();
  if (!tensor_type.has_shape()) throw ConversionError(what + " has no shape; edgegen needs static shapes");
  std::vector<int64_t> shape;
  for (int i = 0; i < tensor_type.shape().dim_size(); ++i) {
    const auto& dim = tensor_type.shape().dim(i);
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) throw ConversionError(what + " has a negative dimension");
      shape.push_back(dim.dim_value());
    } else if (i == 0) {
      shape.push_back(options.batch);  // the batch dimension
    } else {
      std::string name = dim.has_dim_param() ? "'" + dim.dim_param() + "'" : "(unnamed)";
      throw ConversionError(what + " has symbolic dimension " + name + " at axis " + std::to_string(i) +
                            "; only the first (batch) dimension may be symbolic");
    }
  }
  return shape;
}

}  // namespace

onnx::ModelProto read_onnx_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ConversionError("cannot open '" + path + "'");
  std::stringstream contents;
  contents << file.rdbuf();
  onnx::ModelProto model;
  if (!model.ParseFromString(contents.str())) throw ConversionError("'" + path + "' is not a valid ONNX model");
  return model;
}

IrGraph import_onnx(const onnx::ModelProto& model, const std::string& graph_name, const std::string& model_dir,
                    const ConvertOptions& options) {
  if (options.batch < 1) throw ConversionError("batch must be at least 1");
  int opset = static_cast<int>(default_domain_opset(model));
  const onnx::GraphProto& graph = model.graph();
  GraphBuilder builder(graph_name);
  std::unordered_map<std::string, int> values;

  for (const auto& initializer : graph.initializer()) {
    if (initializer.name().empty()) throw ConversionError("an initializer has no name");
    values[initializer.name()] = builder.add_tensor(tensor_from_onnx(initializer, model_dir));
  }
  if (graph.sparse_initializer_size() > 0) throw ConversionError("sparse initializers are not supported");
  for (const auto& input : graph.input()) {
    if (values.count(input.name())) continue;  // an initializer listed as input (IR < 4): a constant
    if (!input.type().has_tensor_type())
      throw ConversionError("graph input '" + input.name() + "' is not a tensor (sequences, maps and optionals are not supported)");
    DType dtype = dtype_from_onnx(input.type().tensor_type().elem_type(), "graph input '" + input.name() + "'");
    values[input.name()] = builder.add_input(input.name(), dtype, input_shape(input, options));
  }

  // Names something reads, to tell whether an optional output matters.
  std::unordered_set<std::string> used;
  for (const auto& node : graph.node())
    for (const auto& name : node.input()) used.insert(name);
  for (const auto& output : graph.output()) used.insert(output.name());

  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto& node = graph.node(index);
    try {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        throw ConversionError("domain '" + node.domain() + "' is not supported (supported: the default ONNX domain)");
      const LoweringRule* rule = find_lowering(node.op_type());
      if (rule == nullptr) throw ConversionError("op type is not supported (supported: " + supported_op_list() + ")");
      for (const auto& attribute : node.attribute()) {
        bool known = false;
        for (const auto& name : rule->attributes) known = known || name == attribute.name();
        if (!known) {
          std::string list;
          for (const auto& name : rule->attributes) list += (list.empty() ? "" : ", ") + name;
          throw ConversionError("attribute '" + attribute.name() + "' is not supported (supported: " +
                                (list.empty() ? "none" : list) + ")");
        }
      }
      NodeContext context(node, opset, builder, values, used, options);
      rule->lower(context);
      for (size_t i = 0; i < context.num_outputs(); ++i)
        if (context.output_used(i) && !context.output_bound(i))
          throw ConversionError("output " + std::to_string(i) + " ('" + context.output_name(i) + "') is not supported");
    } catch (const ConversionError& error) {
      throw ConversionError(describe_node(node, index) + ", opset " + std::to_string(opset) + ": " + error.what());
    }
  }

  IrGraph& ir = builder.graph();
  for (const auto& output : graph.output()) {
    if (output.has_type() && !output.type().has_tensor_type())
      throw ConversionError("graph output '" + output.name() + "' is not a tensor (sequences, maps and optionals are not supported)");
    auto it = values.find(output.name());
    if (it == values.end()) throw ConversionError("graph output '" + output.name() + "' is not produced by any node");
    int id = it->second;
    const IrTensor& tensor = ir.tensors[static_cast<size_t>(id)];
    // An output must be an activation of its own with the ONNX name; copy
    // constants, graph inputs and outputs listed twice.
    bool needs_copy = tensor.is_constant || ir.is_graph_input(id) || ir.is_graph_output(id);
    if (needs_copy) {
      IrOp copy;
      copy.opcode = OpCode::kIdentity;
      copy.inputs = {id};
      copy.name = output.name();
      id = builder.emit1(std::move(copy), output.name(), /*allow_folding=*/false);
    }
    ir.tensors[static_cast<size_t>(id)].name = output.name();
    ir.outputs.push_back(id);
  }
  return builder.release();
}

}  // namespace edgegen::converter
