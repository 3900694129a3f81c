#include "converter/onnx_import.h"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <set>
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

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string text;
  for (int64_t dim : dims) text += (text.empty() ? "" : ",") + std::to_string(dim);
  return text;
}

// How to fix an input's shape, for the messages that need it.
std::string how_to_fix(const std::string& input) {
  return "fix it with --dim SYMBOL=VALUE or --input-shape '" + input +
         "'=D0,D1,... (in a manifest: \"dims\" or \"input_shapes\")";
}

// The shape of a graph input: options.input_shapes[name] when given (it
// must agree with the model's fixed dims), else the model's dims with the
// symbolic ones from options.dims, the first one defaulting to the batch.
// `spatial_tile` > 0 (a diffusion decoder converted with --tile): the input
// is [batch, C, h, w] and h = w = spatial_tile.
std::vector<int64_t> input_shape(const onnx::ValueInfoProto& input, const ConvertOptions& options,
                                 const std::string& hint, int64_t spatial_tile, GraphInputNames* seen) {
  const std::string what = "graph input '" + input.name() + "'";
  if (!input.type().has_tensor_type()) throw ConversionError(what + " is not a tensor");
  const auto& tensor_type = input.type().tensor_type();
  for (int i = 0; tensor_type.has_shape() && i < tensor_type.shape().dim_size(); ++i)
    if (tensor_type.shape().dim(i).has_dim_param()) seen->symbols.insert(tensor_type.shape().dim(i).dim_param());
  auto given = options.input_shapes.find(input.name());
  if (spatial_tile > 0) {
    if (given != options.input_shapes.end())
      throw ConversionError(what + ": --tile and an input shape for it both size it; give one");
    if (!tensor_type.has_shape() || tensor_type.shape().dim_size() != 4)
      throw ConversionError("--tile: the decoder input '" + input.name() + "' must be [batch, C, h, w] (it has " +
                            (tensor_type.has_shape() ? "rank " + std::to_string(tensor_type.shape().dim_size())
                                                     : std::string("no shape")) + ")");
    for (int i = 2; i < 4; ++i)
      if (tensor_type.shape().dim(i).has_dim_value() && tensor_type.shape().dim(i).dim_value() != spatial_tile)
        throw ConversionError("--tile " + std::to_string(spatial_tile) + ": the decoder input '" + input.name() +
                              "' is fixed at " + std::to_string(tensor_type.shape().dim(i).dim_value()) + " at axis " +
                              std::to_string(i) + " (export it with symbolic height and width to decode in tiles)");
  }
  if (given != options.input_shapes.end()) {
    const std::vector<int64_t>& shape = given->second;
    for (int64_t dim : shape)
      if (dim < 1) throw ConversionError(what + ": the given shape " + dims_text(shape) + " has a dimension below 1");
    if (!tensor_type.has_shape()) return shape;  // the model leaves even the rank open
    const int rank = tensor_type.shape().dim_size();
    if (static_cast<int>(shape.size()) != rank)
      throw ConversionError(what + " has rank " + std::to_string(rank) + "; the given shape " + dims_text(shape) +
                            " has " + std::to_string(shape.size()) + " dimensions");
    for (int i = 0; i < rank; ++i) {
      const auto& dim = tensor_type.shape().dim(i);
      if (dim.has_dim_value() && dim.dim_value() != shape[static_cast<size_t>(i)])
        throw ConversionError(what + " has dimension " + std::to_string(dim.dim_value()) + " at axis " +
                              std::to_string(i) + "; the given shape " + dims_text(shape) + " has " +
                              std::to_string(shape[static_cast<size_t>(i)]));
    }
    return shape;
  }
  if (!tensor_type.has_shape())
    throw ConversionError(what + " has no shape; edgegen needs static shapes: give it with --input-shape '" +
                          input.name() + "'=D0,D1,... (in a manifest: \"input_shapes\")" + hint);
  std::vector<int64_t> shape;
  for (int i = 0; i < tensor_type.shape().dim_size(); ++i) {
    const auto& dim = tensor_type.shape().dim(i);
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) throw ConversionError(what + " has a negative dimension");
      shape.push_back(dim.dim_value());
      continue;
    }
    if (spatial_tile > 0 && i >= 2) {
      shape.push_back(spatial_tile);
      continue;
    }
    auto value = dim.has_dim_param() ? options.dims.find(dim.dim_param()) : options.dims.end();
    if (value != options.dims.end()) {
      shape.push_back(value->second);
    } else if (i == 0) {
      shape.push_back(options.batch);  // the batch dimension
    } else {
      std::string name = dim.has_dim_param() ? "'" + dim.dim_param() + "'" : "(unnamed)";
      throw ConversionError(what + " has symbolic dimension " + name + " at axis " + std::to_string(i) +
                            " (only the first, the batch, defaults to --batch): " + how_to_fix(input.name()) + hint);
    }
  }
  return shape;
}

// Everything the node loop needs, shared by a graph and the branches of
// the If nodes it inlines.
struct ImportState {
  int opset;
  GraphBuilder& builder;
  std::unordered_map<std::string, int>& values;
  const std::unordered_set<std::string>& used;
  const ConvertOptions& options;
  const std::string& model_dir;
};

// The names the nodes of `graph` and of its subgraphs (If branches) read.
void collect_used_names(const onnx::GraphProto& graph, std::unordered_set<std::string>* used) {
  for (const auto& node : graph.node()) {
    for (const auto& name : node.input()) used->insert(name);
    for (const auto& attribute : node.attribute())
      if (attribute.has_g()) {
        collect_used_names(attribute.g(), used);
        for (const auto& output : attribute.g().output()) used->insert(output.name());
      }
  }
}

// Whether the graph (or a subgraph of it) has a double tensor anywhere: an
// input, output, initializer, annotated value, constant or cast target.
bool uses_double(const onnx::GraphProto& graph) {
  auto is_double = [](const onnx::ValueInfoProto& value) {
    return value.type().has_tensor_type() && value.type().tensor_type().elem_type() == onnx::TensorProto::DOUBLE;
  };
  for (const auto& value : graph.input()) if (is_double(value)) return true;
  for (const auto& value : graph.output()) if (is_double(value)) return true;
  for (const auto& value : graph.value_info()) if (is_double(value)) return true;
  for (const auto& initializer : graph.initializer())
    if (initializer.data_type() == onnx::TensorProto::DOUBLE) return true;
  for (const auto& node : graph.node()) {
    for (const auto& attribute : node.attribute()) {
      if (attribute.has_t() && attribute.t().data_type() == onnx::TensorProto::DOUBLE) return true;
      if (attribute.has_g() && uses_double(attribute.g())) return true;
      if ((attribute.name() == "to" || attribute.name() == "dtype") && attribute.has_i() &&
          attribute.i() == onnx::TensorProto::DOUBLE)
        return true;
    }
  }
  return false;
}

void lower_nodes(const onnx::GraphProto& graph, ImportState& state);

// The nodes of `branch` lowered in place (appended to the graph's ops)
// with its initializers; returns the ids of its outputs. Names the branch
// defines are visible only inside it: `state.values` is restored after.
std::vector<int> lower_branch(const onnx::GraphProto& branch, const char* which, ImportState& state) {
  const std::unordered_map<std::string, int> outer = state.values;
  for (const auto& initializer : branch.initializer()) {
    if (initializer.name().empty()) throw ConversionError("an initializer of the " + std::string(which) + " branch has no name");
    state.values[initializer.name()] = state.builder.add_tensor(tensor_from_onnx(initializer, state.model_dir));
  }
  lower_nodes(branch, state);
  std::vector<int> outputs;
  for (const auto& output : branch.output()) {
    auto value = state.values.find(output.name());
    if (value == state.values.end())
      throw ConversionError(std::string(which) + " branch output '" + output.name() + "' is not produced by any node");
    outputs.push_back(value->second);
  }
  state.values = outer;
  return outputs;
}

// The activation bytes `ops` write: which branch is the larger.
uint64_t written_bytes(const IrGraph& graph, const std::vector<IrOp>& ops) {
  uint64_t bytes = 0;
  for (const IrOp& op : ops)
    for (int output : op.outputs) bytes += graph.tensors[static_cast<size_t>(output)].bytes();
  return bytes;
}

// An If on a condition computed at run time: both branches are lowered
// inline between the markers If, Else and EndIf (runtime/core/control_flow.h),
// each ending with copies into the If's outputs, so the session runs the one
// the condition picks and the linear memory plan lets them share bytes.
// The larger branch goes first: the If's outputs are live from the end of
// the first branch on, beside the second branch's tensors.
void lower_runtime_if(const onnx::NodeProto& node, int condition, const onnx::GraphProto& then_branch,
                      const onnx::GraphProto& else_branch, ImportState& state) {
  const IrTensor& cond = state.builder.tensor(condition);
  if (cond.num_elements() != 1)
    throw ConversionError("its condition '" + node.input(0) + "' has shape " + shape_to_string(cond.shape) +
                          "; it must hold one value");
  for (const auto* branch : {&then_branch, &else_branch})
    if (branch->output_size() != node.output_size())
      throw ConversionError(std::string(branch == &then_branch ? "the then" : "the else") + " branch has " +
                            std::to_string(branch->output_size()) + " outputs; the If has " +
                            std::to_string(node.output_size()));
  std::vector<IrOp>& ops = state.builder.graph().ops;
  const size_t begin = ops.size();
  const std::vector<int> then_outputs = lower_branch(then_branch, "then", state);
  const size_t then_end = ops.size();
  const std::vector<int> else_outputs = lower_branch(else_branch, "else", state);
  const size_t else_end = ops.size();

  IrGraph& graph = state.builder.graph();
  std::vector<int> outputs;
  for (int k = 0; k < node.output_size(); ++k) {
    const IrTensor& a = graph.tensors[static_cast<size_t>(then_outputs[static_cast<size_t>(k)])];
    const IrTensor& b = graph.tensors[static_cast<size_t>(else_outputs[static_cast<size_t>(k)])];
    const std::string name = node.output(k).empty() ? node.name() + ":" + std::to_string(k) : node.output(k);
    if (a.shape != b.shape || a.dtype != b.dtype)
      throw ConversionError("output " + std::to_string(k) + " ('" + name + "'): the then branch gives " +
                            dtype_name(a.dtype) + " " + shape_to_string(a.shape) + ", the else branch " +
                            dtype_name(b.dtype) + " " + shape_to_string(b.shape) +
                            "; an If decided at run time needs both branches to give the same static shape and dtype");
    IrTensor output;
    output.name = name;
    output.dtype = a.dtype;
    output.shape = a.shape;
    outputs.push_back(state.builder.add_tensor(std::move(output)));
  }

  std::vector<IrOp> then_ops(std::make_move_iterator(ops.begin() + static_cast<std::ptrdiff_t>(begin)),
                             std::make_move_iterator(ops.begin() + static_cast<std::ptrdiff_t>(then_end)));
  std::vector<IrOp> else_ops(std::make_move_iterator(ops.begin() + static_cast<std::ptrdiff_t>(then_end)),
                             std::make_move_iterator(ops.begin() + static_cast<std::ptrdiff_t>(else_end)));
  ops.resize(begin);
  const bool then_first = written_bytes(graph, then_ops) >= written_bytes(graph, else_ops);
  auto marker = [&](OpCode opcode, std::vector<int> inputs, std::vector<int64_t> ints) {
    IrOp op;
    op.opcode = opcode;
    op.inputs = std::move(inputs);
    op.ints = std::move(ints);  // the jump target (last) is filled by the writer (branch_targets.h)
    op.name = node.name();
    ops.push_back(std::move(op));
  };
  auto append_branch = [&](std::vector<IrOp>& branch_ops, const std::vector<int>& branch_outputs, const char* which) {
    for (IrOp& op : branch_ops) ops.push_back(std::move(op));
    for (size_t k = 0; k < outputs.size(); ++k) {
      IrOp copy;
      copy.opcode = OpCode::kIdentity;
      copy.inputs = {branch_outputs[k]};
      copy.outputs = {outputs[k]};
      copy.name = node.name() + "/" + which + "_output:" + std::to_string(k);
      ops.push_back(std::move(copy));
    }
  };
  marker(OpCode::kIf, {condition}, {then_first ? 1 : 0, 0});
  if (then_first) append_branch(then_ops, then_outputs, "then");
  else append_branch(else_ops, else_outputs, "else");
  marker(OpCode::kElse, {}, {0});
  if (then_first) append_branch(else_ops, else_outputs, "else");
  else append_branch(then_ops, then_outputs, "then");
  marker(OpCode::kEndIf, {}, {});
  for (int k = 0; k < node.output_size(); ++k)
    if (!node.output(k).empty()) state.values[node.output(k)] = outputs[static_cast<size_t>(k)];
}

// An If whose condition is known at convert time (a constant, or folded
// from shapes once they are fixed) is replaced by the branch it takes: its
// nodes are lowered in place and its outputs become the If's. One whose
// condition is computed at run time keeps both branches (lower_runtime_if).
void lower_if(const onnx::NodeProto& node, ImportState& state) {
  const onnx::GraphProto* then_branch = nullptr;
  const onnx::GraphProto* else_branch = nullptr;
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == "then_branch" && attribute.has_g()) then_branch = &attribute.g();
    else if (attribute.name() == "else_branch" && attribute.has_g()) else_branch = &attribute.g();
    else throw ConversionError("attribute '" + attribute.name() + "' is not supported (supported: then_branch, else_branch)");
  }
  if (then_branch == nullptr || else_branch == nullptr || node.input_size() != 1)
    throw ConversionError("an If needs one condition input and the graphs then_branch and else_branch");
  auto condition = state.values.find(node.input(0));
  if (condition == state.values.end()) throw ConversionError("condition '" + node.input(0) + "' is not produced by any node");
  if (!state.builder.is_constant(condition->second)) {
    lower_runtime_if(node, condition->second, *then_branch, *else_branch, state);
    return;
  }
  const IrTensor& cond = state.builder.tensor(condition->second);
  if (cond.num_elements() != 1 || (cond.dtype != DType::kBool && cond.dtype != DType::kUInt8))
    throw ConversionError("its condition '" + node.input(0) + "' must be one bool");
  const onnx::GraphProto& taken = cond.data[0] != 0 ? *then_branch : *else_branch;
  if (taken.output_size() != node.output_size())
    throw ConversionError("the " + std::string(cond.data[0] != 0 ? "then" : "else") + " branch has " +
                          std::to_string(taken.output_size()) + " outputs; the If has " +
                          std::to_string(node.output_size()));
  for (const auto& initializer : taken.initializer()) {
    if (initializer.name().empty()) throw ConversionError("an initializer of the taken branch has no name");
    state.values[initializer.name()] = state.builder.add_tensor(tensor_from_onnx(initializer, state.model_dir));
  }
  lower_nodes(taken, state);
  for (int k = 0; k < node.output_size(); ++k) {
    auto value = state.values.find(taken.output(k).name());
    if (value == state.values.end())
      throw ConversionError("branch output '" + taken.output(k).name() + "' is not produced by any node");
    if (!node.output(k).empty()) state.values[node.output(k)] = value->second;
  }
}

void lower_nodes(const onnx::GraphProto& graph, ImportState& state) {
  for (int index = 0; index < graph.node_size(); ++index) {
    const onnx::NodeProto& node = graph.node(index);
    try {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        throw ConversionError("domain '" + node.domain() + "' is not supported (supported: the default ONNX domain)");
      if (node.op_type() == "If") {
        lower_if(node, state);
        continue;
      }
      const LoweringRule* rule = find_lowering(node.op_type());
      if (rule == nullptr) throw ConversionError("op type is not supported (supported: " + supported_op_list() + ", If)");
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
      NodeContext context(node, state.opset, state.builder, state.values, state.used, state.options);
      rule->lower(context);
      for (size_t i = 0; i < context.num_outputs(); ++i)
        if (context.output_used(i) && !context.output_bound(i))
          throw ConversionError("output " + std::to_string(i) + " ('" + context.output_name(i) + "') is not supported");
    } catch (const ConversionError& error) {
      throw ConversionError(describe_node(node, index) + ", opset " + std::to_string(state.opset) + ": " + error.what());
    }
  }
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

std::string quoted_list(const std::set<std::string>& names) {
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "'" : ", '") + name + "'";
  return list.empty() ? "none" : list;
}

IrGraph import_onnx(const onnx::ModelProto& model, const std::string& graph_name, const std::string& model_dir,
                    const ConvertOptions& options, GraphInputNames* seen) {
  if (options.batch < 1) throw ConversionError("batch must be at least 1");
  for (const auto& [symbol, value] : options.dims)
    if (value < 1) throw ConversionError("dimension '" + symbol + "' = " + std::to_string(value) + " must be at least 1");
  GraphInputNames ignored;
  if (seen == nullptr) seen = &ignored;
  int opset = static_cast<int>(default_domain_opset(model));
  const onnx::GraphProto& graph = model.graph();
  seen->narrowed_double = uses_double(graph);
  GraphBuilder builder(graph_name);
  std::unordered_map<std::string, int> values;

  for (const auto& initializer : graph.initializer()) {
    if (initializer.name().empty()) throw ConversionError("an initializer has no name");
    values[initializer.name()] = builder.add_tensor(tensor_from_onnx(initializer, model_dir));
  }
  if (graph.sparse_initializer_size() > 0) throw ConversionError("sparse initializers are not supported");
  // A shape given for a name no input of this graph has is most often a
  // misspelt name: say so where a missing shape stops the conversion.
  std::set<std::string> input_names;
  for (const auto& input : graph.input())
    if (!values.count(input.name())) input_names.insert(input.name());
  std::string hint;
  for (const auto& [name, shape] : options.input_shapes)
    if (!input_names.count(name)) hint += (hint.empty() ? "" : ", ") + ("'" + name + "'");
  if (!hint.empty()) hint = "; shapes were given for " + hint + ", which no input of this graph is named (inputs: " +
                            quoted_list(input_names) + ")";
  bool first_input = true;
  for (const auto& input : graph.input()) {
    if (values.count(input.name())) continue;  // an initializer listed as input (IR < 4): a constant
    if (!input.type().has_tensor_type())
      throw ConversionError("graph input '" + input.name() + "' is not a tensor (sequences, maps and optionals are not supported)");
    DType dtype = dtype_from_onnx(input.type().tensor_type().elem_type(), "graph input '" + input.name() + "'");
    seen->inputs.insert(input.name());
    const int64_t spatial_tile = first_input ? options.decoder_tile : 0;
    first_input = false;
    values[input.name()] = builder.add_input(input.name(), dtype, input_shape(input, options, hint, spatial_tile, seen));
  }

  // Names something reads, to tell whether an optional output matters.
  std::unordered_set<std::string> used;
  collect_used_names(graph, &used);
  for (const auto& output : graph.output()) used.insert(output.name());

  ImportState state{opset, builder, values, used, options, model_dir};
  lower_nodes(graph, state);

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
