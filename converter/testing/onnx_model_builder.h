// Test helpers: tiny ONNX models built inline with the protobuf API, and
// checks of the files the converter writes.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "converter/testing/egm_evaluator.h"
#include "edgegen_generated.h"
#include "onnx/onnx_pb.h"

namespace edgegen::converter::testing {

namespace fs = std::filesystem;

// A temporary directory for the models tests write.
inline fs::path test_directory() {
  fs::path dir = fs::temp_directory_path() / "edgegen_converter_test";
  fs::create_directories(dir);
  return dir;
}

// Builds a small ONNX model node by node.
class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(int opset = 13) {
    model_.set_ir_version(8);
    auto* entry = model_.add_opset_import();
    entry->set_domain("");
    entry->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }
  OnnxModelBuilder& input(const std::string& name, std::vector<int64_t> shape, bool symbolic_batch = false,
                          int type = onnx::TensorProto::FLOAT) {
    auto* value = model_.mutable_graph()->add_input();
    describe(value, name, shape, symbolic_batch, type);
    return *this;
  }
  OnnxModelBuilder& output(const std::string& name) {
    auto* value = model_.mutable_graph()->add_output();
    value->set_name(name);
    value->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return *this;
  }
  OnnxModelBuilder& initializer(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
    auto* tensor = model_.mutable_graph()->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t dim : shape) tensor->add_dims(dim);
    for (float value : values) tensor->add_float_data(value);
    return *this;
  }
  OnnxModelBuilder& int_initializer(const std::string& name, std::vector<int64_t> values) {
    auto* tensor = model_.mutable_graph()->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::INT64);
    tensor->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t value : values) tensor->add_int64_data(value);
    return *this;
  }
  // An initializer of any ONNX element type from its raw little-endian bytes.
  OnnxModelBuilder& raw_initializer(const std::string& name, int type, std::vector<int64_t> shape,
                                    const std::string& bytes) {
    auto* tensor = model_.mutable_graph()->add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(type);
    for (int64_t dim : shape) tensor->add_dims(dim);
    tensor->set_raw_data(bytes);
    return *this;
  }
  onnx::NodeProto& node(const std::string& op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                        const std::string& name = "") {
    auto* node = model_.mutable_graph()->add_node();
    node->set_op_type(op_type);
    node->set_name(name);
    for (const auto& input : inputs) node->add_input(input);
    for (const auto& output : outputs) node->add_output(output);
    return *node;
  }
  static void set_ints(onnx::NodeProto& node, const std::string& name, std::vector<int64_t> values) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INTS);
    for (int64_t value : values) attribute->add_ints(value);
  }
  static void set_int(onnx::NodeProto& node, const std::string& name, int64_t value) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INT);
    attribute->set_i(value);
  }
  static void set_float(onnx::NodeProto& node, const std::string& name, float value) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::FLOAT);
    attribute->set_f(value);
  }
  static void set_floats(onnx::NodeProto& node, const std::string& name, std::vector<float> values) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::FLOATS);
    for (float value : values) attribute->add_floats(value);
  }
  static void set_string(onnx::NodeProto& node, const std::string& name, const std::string& value) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::STRING);
    attribute->set_s(value);
  }
  // Writes the model to a temporary file and returns its path.
  std::string save(const std::string& file_name) {
    fs::path path = test_directory() / file_name;
    std::ofstream file(path, std::ios::binary);
    model_.SerializeToOstream(&file);
    return path.string();
  }

 private:
  static void describe(onnx::ValueInfoProto* value, const std::string& name, const std::vector<int64_t>& shape,
                       bool symbolic_batch, int type) {
    value->set_name(name);
    auto* tensor_type = value->mutable_type()->mutable_tensor_type();
    tensor_type->set_elem_type(type);
    auto* tensor_shape = tensor_type->mutable_shape();
    for (size_t i = 0; i < shape.size(); ++i) {
      auto* dim = tensor_shape->add_dim();
      if (i == 0 && symbolic_batch) dim->set_dim_param("batch");
      else dim->set_dim_value(shape[i]);
    }
  }
  onnx::ModelProto model_;
};

// Deterministic pseudo-random values in [-1, 1).
inline std::vector<float> test_values(size_t count, uint32_t seed) {
  std::vector<float> values(count);
  for (float& value : values) {
    seed = seed * 1664525u + 1013904223u;
    value = static_cast<float>(seed >> 8) / static_cast<float>(1u << 23) - 1.f;
  }
  return values;
}

inline HostTensor float_tensor(std::vector<int64_t> shape, const std::vector<float>& values) {
  HostTensor tensor;
  tensor.shape = std::move(shape);
  tensor.data.resize(values.size() * sizeof(float));
  std::memcpy(tensor.data.data(), values.data(), tensor.data.size());
  return tensor;
}

inline std::vector<float> values_of(const HostTensor& tensor) {
  std::vector<float> values(tensor.data.size() / sizeof(float));
  std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
  return values;
}

// Verifies the FlatBuffer and the layout rules of the weight segment.
inline const format::Model* verified_model(const std::vector<uint8_t>& file) {
  flatbuffers::Verifier verifier(file.data(), file.size());
  REQUIRE(format::VerifyModelBuffer(verifier));
  const format::Model* model = format::GetModel(file.data());
  CHECK(model->segment_offset() % 64 == 0);
  CHECK(model->segment_offset() + model->segment_size() == file.size());
  CHECK(model->format_version() == 1);
  CHECK(model->producer()->str() == "edgegen-converter 0.1");
  CHECK(model->buffers()->Get(0)->size() == 0);
  for (const format::Buffer* buffer : *model->buffers()) CHECK(buffer->offset() % 64 == 0);
  return model;
}

// The ConversionError message, or "" when conversion succeeds.
inline std::string error_of(const std::string& path, const ConvertOptions& options = {}) {
  try {
    convert(path, options);
  } catch (const ConversionError& error) {
    return error.what();
  }
  return "";
}

}  // namespace edgegen::converter::testing
