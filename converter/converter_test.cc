// End-to-end tests of the converter: tiny ONNX models built inline with the
// protobuf API, converted, verified and run through the reference kernels.
#include "converter/converter.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "converter/testing/egm_evaluator.h"
#include "converter/testing/onnx_model_builder.h"
#include "edgegen_generated.h"
#include "onnx/onnx_pb.h"
#include "ops/registry.h"

namespace edgegen::converter {

using testing::OnnxModelBuilder;
using testing::error_of;
using testing::float_tensor;
using testing::values_of;
using testing::verified_model;

TEST_CASE("a Reshape fed by a Shape -> Gather -> Unsqueeze -> Concat chain becomes static") {
  OnnxModelBuilder builder;
  builder.input("x", {0, 2, 3}, /*symbolic_batch=*/true).output("y");
  builder.int_initializer("minus_one", {-1});
  builder.int_initializer("axes", {0});
  builder.node("Shape", {"x"}, {"shape"});
  auto* constant = builder.node("Constant", {}, {"zero"}).add_attribute();
  constant->set_name("value_int");
  constant->set_type(onnx::AttributeProto::INT);
  constant->set_i(0);
  builder.node("Gather", {"shape", "zero"}, {"batch"});
  builder.node("Unsqueeze", {"batch", "axes"}, {"batch_1d"});
  builder.node("Concat", {"batch_1d", "minus_one"}, {"target"}).add_attribute()->CopyFrom([] {
    onnx::AttributeProto axis;
    axis.set_name("axis");
    axis.set_type(onnx::AttributeProto::INT);
    axis.set_i(0);
    return axis;
  }());
  builder.node("Reshape", {"x", "target"}, {"y"});
  ConvertOptions options;
  options.batch = 3;
  std::vector<uint8_t> file = convert(builder.save("shape_chain.onnx"), options);
  const format::Model* model = verified_model(file);
  CHECK(model->batch() == 3);
  const format::Graph* graph = model->graphs()->Get(0);
  REQUIRE(graph->operators()->size() == 1);
  CHECK(graph->operators()->Get(0)->opcode() == static_cast<uint32_t>(OpCode::kReshape));
  const format::Tensor* output = graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(graph->outputs()->Get(0)));
  CHECK(output->name()->str() == "y");
  CHECK(std::vector<int64_t>(output->shape()->begin(), output->shape()->end()) == std::vector<int64_t>{3, 6});
}

TEST_CASE("convert: Conv + BatchNorm + Relu folds, fuses and runs") {
  OnnxModelBuilder builder;
  builder.input("x", {1, 1, 3, 3}, true).output("y");
  builder.initializer("w", {2, 1, 2, 2}, {1, 0, 0, 1, 0.5f, 0.5f, 0.5f, 0.5f});
  builder.initializer("b", {2}, {0.f, -10.f});
  builder.initializer("scale", {2}, {2.f, 1.f});
  builder.initializer("shift", {2}, {1.f, 0.f});
  builder.initializer("mean", {2}, {0.f, 0.f});
  builder.initializer("var", {2}, {1.f, 1.f});
  auto& conv = builder.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  OnnxModelBuilder::set_ints(conv, "kernel_shape", {2, 2});
  auto& norm = builder.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"n"}, "bn");
  OnnxModelBuilder::set_float(norm, "epsilon", 0.f);
  builder.node("Relu", {"n"}, {"y"}, "relu");
  std::vector<uint8_t> file = convert(builder.save("conv_bn_relu.onnx"), {});
  const format::Model* model = verified_model(file);
  REQUIRE(model->graphs()->size() == 1);
  const format::Graph* graph = model->graphs()->Get(0);
  CHECK(graph->name()->str() == "main");
  REQUIRE(graph->operators()->size() == 1);
  CHECK(graph->operators()->Get(0)->opcode() == static_cast<uint32_t>(OpCode::kConv2d));
  REQUIRE(graph->operators()->Get(0)->activation() != nullptr);
  CHECK(graph->operators()->Get(0)->activation()->kind() == format::ActivationKind::Relu);
  CHECK(model->pipeline_type() == format::PipelineSpec::GraphsOnly);

  auto outputs = testing::run_egm_graph(file, 0, {float_tensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})});
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].name == "y");
  CHECK(outputs[0].shape == std::vector<int64_t>{1, 2, 2, 2});
  // channel 0: 2 * (x[i,j] + x[i+1,j+1]) + 1; channel 1: relu(0.5 * sum - 10)
  std::vector<float> expected = {13, 17, 25, 29, 0, 0, 2, 4};
  std::vector<float> got = values_of(outputs[0]);
  for (size_t i = 0; i < expected.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]));
}

TEST_CASE("Pow by a constant square or square root becomes Mul / Sqrt / Reciprocal, with the same values") {
  struct Case {
    float exponent;
    std::vector<OpCode> ops;
  };
  const Case cases[] = {{2.f, {OpCode::kMul}},
                        {3.f, {OpCode::kMul, OpCode::kMul}},
                        {0.5f, {OpCode::kSqrt}},
                        {-1.f, {OpCode::kReciprocal}},
                        {-0.5f, {OpCode::kSqrt, OpCode::kReciprocal}},
                        {1.5f, {OpCode::kPow}}};  // not a product of squares and roots: stays a Pow
  const std::vector<float> x = {0.25f, 1.f, 2.f, 3.5f, 9.f, 0.125f};
  for (const Case& c : cases) {
    CAPTURE(c.exponent);
    OnnxModelBuilder builder;
    builder.input("x", {2, 3}).output("y");
    builder.initializer("e", {1}, {c.exponent});
    builder.node("Pow", {"x", "e"}, {"y"});
    std::vector<uint8_t> file = convert(builder.save("pow.onnx"), {});
    const format::Graph* graph = verified_model(file)->graphs()->Get(0);
    REQUIRE(graph->operators()->size() == c.ops.size());
    for (size_t i = 0; i < c.ops.size(); ++i)
      CHECK(graph->operators()->Get(static_cast<flatbuffers::uoffset_t>(i))->opcode() == static_cast<uint32_t>(c.ops[i]));
    std::vector<float> got = values_of(testing::run_egm_graph(file, 0, {float_tensor({2, 3}, x)})[0]);
    for (size_t i = 0; i < x.size(); ++i) CHECK(got[i] == doctest::Approx(std::pow(x[i], c.exponent)).epsilon(1e-6));
  }
}

TEST_CASE("x * HardSigmoid(x; 1/6, 0.5) and ONNX HardSwish become one HardSwish op with the same values") {
  const std::vector<float> x = {-4.f, -3.f, -1.5f, 0.f, 0.7f, 2.f, 3.f, 5.f};
  for (bool as_onnx_op : {false, true}) {
    CAPTURE(as_onnx_op);
    OnnxModelBuilder builder;
    builder.input("x", {2, 4}).output("y");
    if (as_onnx_op) {
      builder.node("HardSwish", {"x"}, {"y"});
    } else {
      auto& gate = builder.node("HardSigmoid", {"x"}, {"gate"});
      OnnxModelBuilder::set_float(gate, "alpha", 1.f / 6.f);
      builder.node("Mul", {"gate", "x"}, {"y"});
    }
    std::vector<uint8_t> file = convert(builder.save("hard_swish.onnx"), {});
    const format::Graph* graph = verified_model(file)->graphs()->Get(0);
    REQUIRE(graph->operators()->size() == 1);
    CHECK(graph->operators()->Get(0)->opcode() == static_cast<uint32_t>(OpCode::kHardSwish));
    std::vector<float> got = values_of(testing::run_egm_graph(file, 0, {float_tensor({2, 4}, x)})[0]);
    for (size_t i = 0; i < x.size(); ++i) {
      const float gate = std::fmin(1.f, std::fmax(0.f, x[i] / 6.f + 0.5f));
      CHECK(got[i] == doctest::Approx(x[i] * gate));
    }
  }
  // Another slope is a different function: it stays HardSigmoid and Mul.
  OnnxModelBuilder builder;
  builder.input("x", {2, 4}).output("y");
  builder.node("HardSigmoid", {"x"}, {"gate"});  // alpha 0.2
  builder.node("Mul", {"gate", "x"}, {"y"});
  CHECK(verified_model(convert(builder.save("hard_sigmoid_mul.onnx"), {}))->graphs()->Get(0)->operators()->size() == 2);
}

TEST_CASE("unsupported ops, attributes and values are errors naming the node") {
  SUBCASE("unknown op") {
    OnnxModelBuilder builder;
    builder.input("x", {1, 4}).output("y");
    builder.node("Det", {"x"}, {"y"}, "mystery");
    std::string message = error_of(builder.save("det.onnx"));
    CHECK(message.find("'mystery'") != std::string::npos);
    CHECK(message.find("Det") != std::string::npos);
    CHECK(message.find("supported: ") != std::string::npos);
  }
  SUBCASE("unknown attribute") {
    OnnxModelBuilder builder;
    builder.input("x", {1, 4}).output("y");
    auto& node = builder.node("Relu", {"x"}, {"y"}, "r");
    OnnxModelBuilder::set_int(node, "bogus", 1);
    std::string message = error_of(builder.save("bogus_attribute.onnx"));
    CHECK(message.find("'bogus'") != std::string::npos);
  }
  SUBCASE("unsupported attribute value") {
    OnnxModelBuilder builder;
    builder.input("x", {1, 1, 4, 4}).output("y");
    builder.initializer("scales", {4}, {1, 1, 2, 2});
    auto& node = builder.node("Resize", {"x", "", "scales"}, {"y"}, "up");
    OnnxModelBuilder::set_string(node, "mode", "cubic");
    std::string message = error_of(builder.save("cubic.onnx"));
    CHECK(message.find("'mode'") != std::string::npos);
    CHECK(message.find("cubic") != std::string::npos);
    CHECK(message.find("nearest, linear") != std::string::npos);
  }
  SUBCASE("symbolic non-batch dimension") {
    OnnxModelBuilder builder;
    onnx::ModelProto model;
    builder.input("x", {1, 4}).output("y");
    builder.node("Relu", {"x"}, {"y"});
    std::string path = builder.save("symbolic.onnx");
    std::ifstream in(path, std::ios::binary);
    model.ParseFromIstream(&in);
    model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_param("width");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    model.SerializeToOstream(&out);
    out.close();
    CHECK(error_of(path).find("'width'") != std::string::npos);
  }
}

}  // namespace edgegen::converter
