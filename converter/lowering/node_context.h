// What a lowering function sees of one ONNX node: its inputs as converter
// tensors, its attributes (with ONNX defaults), the opset, and a way to emit
// edgegen operators and bind the node's outputs.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "converter/converter.h"
#include "converter/graph_builder.h"
#include "onnx/onnx_pb.h"

namespace edgegen::converter {

class NodeContext {
 public:
  NodeContext(const onnx::NodeProto& node, int opset, GraphBuilder& builder,
              std::unordered_map<std::string, int>& values, const std::unordered_set<std::string>& used_names,
              const ConvertOptions& options);

  const onnx::NodeProto& node() const { return node_; }
  const std::string& op_type() const { return node_.op_type(); }
  int opset() const { return opset_; }
  const ConvertOptions& options() const { return options_; }
  GraphBuilder& builder() { return builder_; }

  // --- inputs -------------------------------------------------------------
  size_t num_inputs() const { return static_cast<size_t>(node_.input_size()); }
  bool has_input(size_t index) const;
  // The tensor id of input `index`; fails if it is absent.
  int input(size_t index) const;
  // -1 when the optional input is absent.
  int optional_input(size_t index) const;
  const IrTensor& input_tensor(size_t index) const { return builder_.tensor(input(index)); }
  // A copy: emitting adds tensors, which would invalidate a reference.
  std::vector<int64_t> input_shape(size_t index) const { return input_tensor(index).shape; }
  int input_rank(size_t index) const { return static_cast<int>(input_shape(index).size()); }
  bool input_is_constant(size_t index) const { return input_tensor(index).is_constant; }
  // The values of a constant input; fails naming `what` when it is not constant.
  std::vector<int64_t> constant_ints(size_t index, const std::string& what) const;
  std::vector<float> constant_floats(size_t index, const std::string& what) const;

  // --- attributes ---------------------------------------------------------
  bool has_attribute(const std::string& name) const { return find_attribute(name) != nullptr; }
  int64_t attribute_int(const std::string& name, int64_t default_value) const;
  int64_t required_int(const std::string& name) const;
  float attribute_float(const std::string& name, float default_value) const;
  std::string attribute_string(const std::string& name, const std::string& default_value) const;
  std::vector<int64_t> attribute_ints(const std::string& name, const std::vector<int64_t>& default_value) const;
  std::vector<float> attribute_floats(const std::string& name, const std::vector<float>& default_value) const;
  const onnx::AttributeProto* find_attribute(const std::string& name) const;

  // --- outputs ------------------------------------------------------------
  size_t num_outputs() const { return static_cast<size_t>(node_.output_size()); }
  // Output `index` exists and something reads it (a node or the graph outputs).
  bool output_used(size_t index) const;
  const std::string& output_name(size_t index) const { return node_.output(static_cast<int>(index)); }
  // Makes ONNX output `index` refer to tensor `id`.
  void bind_output(size_t index, int id);
  bool output_bound(size_t index) const;

  // --- emitting -----------------------------------------------------------
  // Emits one edgegen operator (folded when its inputs are constants) and
  // returns its output's id.
  int emit(OpCode opcode, std::vector<int> inputs, std::vector<int64_t> ints = {}, std::vector<float> floats = {});
  // emit() that never folds: for quantized ops, whose output's scale is set
  // after the op is emitted, and DequantizeLinear of int8 weights, which
  // stay int8 in the file.
  int emit_unfolded(OpCode opcode, std::vector<int> inputs, std::vector<int64_t> ints = {});
  std::vector<int> emit_multi(OpCode opcode, std::vector<int> inputs, size_t num_outputs,
                              std::vector<int64_t> ints = {}, std::vector<float> floats = {});
  int add_constant(IrTensor tensor);
  int float_constant(std::vector<int64_t> shape, const std::vector<float>& values);
  int reshape(int id, const std::vector<int64_t>& shape) { return emit(OpCode::kReshape, {id}, shape); }

  // --- errors -------------------------------------------------------------
  [[noreturn]] void fail(const std::string& message) const;
  // "attribute 'mode' = 'cubic' is not supported (supported: nearest, linear)".
  [[noreturn]] void unsupported_attribute(const std::string& name, const std::string& value,
                                          const std::string& supported) const;
  // Normalizes a possibly negative axis against `rank`, failing when out of range.
  int normalize_axis(int64_t axis, int rank, const std::string& what = "axis") const;

 private:
  std::string fresh_name(OpCode opcode);

  const onnx::NodeProto& node_;
  int opset_;
  GraphBuilder& builder_;
  std::unordered_map<std::string, int>& values_;
  const std::unordered_set<std::string>& used_names_;
  const ConvertOptions& options_;
  size_t first_new_tensor_;
  int emitted_ = 0;
};

std::string join(const std::vector<int64_t>& values);

}  // namespace edgegen::converter
