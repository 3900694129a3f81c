// The optimization passes change how a graph is computed, never what it
// computes: each test converts a model with and without them and compares.
#include <doctest/doctest.h>

#include <cmath>

#include "converter/converter.h"
#include "converter/testing/egm_evaluator.h"
#include "converter/testing/onnx_model_builder.h"
#include "edgegen_generated.h"
#include "ops/registry.h"

namespace edgegen::converter {
namespace {

using testing::OnnxModelBuilder;

std::vector<uint32_t> opcodes_of(const std::vector<uint8_t>& file, size_t graph = 0) {
  std::vector<uint32_t> opcodes;
  for (const format::Operator* op : *testing::verified_model(file)->graphs()->Get(static_cast<flatbuffers::uoffset_t>(graph))->operators())
    opcodes.push_back(op->opcode());
  return opcodes;
}

bool contains(const std::vector<uint32_t>& opcodes, OpCode opcode) {
  return std::find(opcodes.begin(), opcodes.end(), static_cast<uint32_t>(opcode)) != opcodes.end();
}

void check_same_values(const std::vector<float>& a, const std::vector<float>& b, float tolerance) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= tolerance * (1.f + std::fabs(b[i])));
}

void add_batch_norm(OnnxModelBuilder& builder, const std::string& input, const std::string& output, int64_t channels,
                    uint32_t seed) {
  auto positive = testing::test_values(static_cast<size_t>(channels), seed + 3);
  for (float& value : positive) value = 0.5f + std::fabs(value);
  builder.initializer(output + "_scale", {channels}, testing::test_values(static_cast<size_t>(channels), seed));
  builder.initializer(output + "_bias", {channels}, testing::test_values(static_cast<size_t>(channels), seed + 1));
  builder.initializer(output + "_mean", {channels}, testing::test_values(static_cast<size_t>(channels), seed + 2));
  builder.initializer(output + "_var", {channels}, positive);
  builder.node("BatchNormalization",
               {input, output + "_scale", output + "_bias", output + "_mean", output + "_var"}, {output}, output);
}

}  // namespace

TEST_CASE("BatchNorm folding and activation fusion keep the results") {
  OnnxModelBuilder builder;
  builder.input("x", {2, 4, 5, 5}, true).output("y");
  // Grouped transposed convolution: weight [C_in = 4, O / groups = 3, 3, 3], groups 2 -> 6 channels.
  builder.initializer("wt", {4, 3, 3, 3}, testing::test_values(108, 1));
  builder.initializer("bt", {6}, testing::test_values(6, 2));
  auto& deconv = builder.node("ConvTranspose", {"x", "wt", "bt"}, {"t"}, "deconv");
  OnnxModelBuilder::set_int(deconv, "group", 2);
  OnnxModelBuilder::set_ints(deconv, "strides", {2, 2});
  add_batch_norm(builder, "t", "t_bn", 6, 10);
  builder.node("Relu", {"t_bn"}, {"t_relu"}, "relu");
  builder.initializer("wc", {4, 6, 3, 3}, testing::test_values(216, 3));
  auto& conv = builder.node("Conv", {"t_relu", "wc"}, {"c"}, "conv");
  OnnxModelBuilder::set_ints(conv, "pads", {1, 1, 1, 1});
  add_batch_norm(builder, "c", "c_bn", 4, 20);
  builder.node("Sigmoid", {"c_bn"}, {"gate"}, "sigmoid");
  builder.node("Mul", {"c_bn", "gate"}, {"silu"}, "silu");
  builder.node("Flatten", {"silu"}, {"flat"}, "flatten");
  builder.initializer("wg", {5, 4 * 11 * 11}, testing::test_values(5 * 4 * 11 * 11, 4));
  builder.initializer("bg", {5}, testing::test_values(5, 5));
  auto& gemm = builder.node("Gemm", {"flat", "wg", "bg"}, {"g"}, "gemm");
  OnnxModelBuilder::set_int(gemm, "transB", 1);
  OnnxModelBuilder::set_float(gemm, "alpha", 0.5f);
  add_batch_norm(builder, "g", "g_bn", 5, 30);
  auto& leaky = builder.node("LeakyRelu", {"g_bn"}, {"y"}, "leaky");
  OnnxModelBuilder::set_float(leaky, "alpha", 0.1f);
  std::string path = builder.save("fold_and_fuse.onnx");

  ConvertOptions plain;
  plain.fold_batchnorm = false;
  plain.fuse_activations = false;
  ConvertOptions optimized;
  optimized.batch = 2;
  plain.batch = 2;
  std::vector<uint8_t> plain_file = convert(path, plain), optimized_file = convert(path, optimized);

  std::vector<uint32_t> plain_ops = opcodes_of(plain_file), optimized_ops = opcodes_of(optimized_file);
  CHECK(contains(plain_ops, OpCode::kBatchNorm));
  CHECK(contains(plain_ops, OpCode::kSigmoid));
  CHECK_FALSE(contains(optimized_ops, OpCode::kBatchNorm));
  CHECK_FALSE(contains(optimized_ops, OpCode::kSigmoid));
  CHECK_FALSE(contains(optimized_ops, OpCode::kRelu));
  CHECK_FALSE(contains(optimized_ops, OpCode::kLeakyRelu));
  // ConvTranspose(+Relu), Conv(+SiLU), Reshape, FullyConnected(+LeakyRelu).
  CHECK(optimized_ops.size() == 4);

  auto input = testing::float_tensor({2, 4, 5, 5}, testing::test_values(200, 7));
  auto expected = testing::run_egm_graph(plain_file, 0, {input});
  auto got = testing::run_egm_graph(optimized_file, 0, {input});
  check_same_values(testing::values_of(got[0]), testing::values_of(expected[0]), 1e-4f);
}

TEST_CASE("a BatchNorm whose input has another reader is kept, precomputed") {
  OnnxModelBuilder builder;
  builder.input("x", {1, 2, 3, 3}).output("y").output("c");
  builder.initializer("w", {2, 2, 1, 1}, {1, 0, 0, 1});
  builder.node("Conv", {"x", "w"}, {"c"}, "conv");
  add_batch_norm(builder, "c", "y", 2, 40);
  std::vector<uint8_t> file = convert(builder.save("shared_bn.onnx"), {});
  CHECK(contains(opcodes_of(file), OpCode::kBatchNorm));
}

TEST_CASE("PyTorch's GroupNorm pattern becomes one GroupNorm") {
  // x [1, 4, 2, 2], 2 groups: Reshape [0, 2, -1] -> InstanceNorm(ones, zeros) -> Reshape back -> Mul -> Add.
  OnnxModelBuilder builder;
  builder.input("x", {1, 4, 2, 2}).output("y");
  builder.int_initializer("grouped_shape", {0, 2, -1});
  builder.int_initializer("original_shape", {1, 4, 2, 2});
  builder.initializer("ones", {2}, {1, 1});
  builder.initializer("zeros", {2}, {0, 0});
  builder.initializer("gamma", {4, 1, 1}, {1, 2, 3, 4});
  builder.initializer("beta", {4, 1, 1}, {0.5f, 0, -0.5f, 1});
  builder.node("Reshape", {"x", "grouped_shape"}, {"grouped"});
  auto& norm = builder.node("InstanceNormalization", {"grouped", "ones", "zeros"}, {"normalized"});
  OnnxModelBuilder::set_float(norm, "epsilon", 1e-5f);
  builder.node("Reshape", {"normalized", "original_shape"}, {"restored"});
  builder.node("Mul", {"restored", "gamma"}, {"scaled"});
  builder.node("Add", {"scaled", "beta"}, {"y"});
  std::vector<uint8_t> file = convert(builder.save("group_norm_pattern.onnx"), {});
  std::vector<uint32_t> ops = opcodes_of(file);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0] == static_cast<uint32_t>(OpCode::kGroupNorm));

  std::vector<float> x = testing::test_values(16, 11);
  auto got = testing::values_of(testing::run_egm_graph(file, 0, {testing::float_tensor({1, 4, 2, 2}, x)})[0]);
  const float gamma[] = {1, 2, 3, 4}, beta[] = {0.5f, 0, -0.5f, 1};
  for (int group = 0; group < 2; ++group) {
    double mean = 0, var = 0;
    for (int i = 0; i < 8; ++i) mean += x[static_cast<size_t>(group * 8 + i)];
    mean /= 8;
    for (int i = 0; i < 8; ++i) var += (x[static_cast<size_t>(group * 8 + i)] - mean) * (x[static_cast<size_t>(group * 8 + i)] - mean);
    var /= 8;
    for (int i = 0; i < 8; ++i) {
      int channel = group * 2 + i / 4;
      double normalized = (x[static_cast<size_t>(group * 8 + i)] - mean) / std::sqrt(var + 1e-5);
      CHECK(got[static_cast<size_t>(group * 8 + i)] == doctest::Approx(normalized * gamma[channel] + beta[channel]).epsilon(1e-4));
    }
  }
}

TEST_CASE("opset 18 GroupNormalization with per-group scale") {
  OnnxModelBuilder builder(18);
  builder.input("x", {1, 4, 1, 2}).output("y");
  builder.initializer("scale", {2}, {2, 3});
  builder.initializer("bias", {2}, {1, -1});
  auto& node = builder.node("GroupNormalization", {"x", "scale", "bias"}, {"y"});
  OnnxModelBuilder::set_int(node, "num_groups", 2);
  OnnxModelBuilder::set_float(node, "epsilon", 0.f);
  std::vector<uint8_t> file = convert(builder.save("group_normalization_18.onnx"), {});
  auto got = testing::values_of(
      testing::run_egm_graph(file, 0, {testing::float_tensor({1, 4, 1, 2}, {1, 3, 1, 3, 0, 0, 2, 2})})[0]);
  // Group 0 = {1, 3, 1, 3}: mean 2, std 1 -> +-1 * 2 + 1. Group 1 = {0, 0, 2, 2}: -+1 * 3 - 1.
  std::vector<float> expected = {-1, 3, -1, 3, -4, -4, 2, 2};
  for (size_t i = 0; i < expected.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]));
}

TEST_CASE("a GroupNorm's SiLU or ReLU is fused into it (a UNet's and a decoder's norm), same values") {
  for (const char* activation : {"SiLU", "Relu"}) {
    CAPTURE(activation);
    OnnxModelBuilder builder(18);
    builder.input("x", {2, 6, 3, 5}, true).output("y");
    builder.initializer("scale", {3}, {1.5f, -0.5f, 0.8f});
    builder.initializer("bias", {3}, {0.1f, 0.f, -0.3f});
    auto& node = builder.node("GroupNormalization", {"x", "scale", "bias"}, {"n"});
    OnnxModelBuilder::set_int(node, "num_groups", 3);
    if (std::string(activation) == "SiLU") {
      builder.node("Sigmoid", {"n"}, {"gate"});
      builder.node("Mul", {"n", "gate"}, {"y"});
    } else {
      builder.node("Relu", {"n"}, {"y"});
    }
    std::string path = builder.save(std::string("group_norm_") + activation + ".onnx");
    ConvertOptions plain;
    plain.fuse_activations = false;
    plain.batch = 2;
    ConvertOptions fused;
    fused.batch = 2;
    std::vector<uint8_t> plain_file = convert(path, plain), fused_file = convert(path, fused);
    const std::vector<uint32_t> ops = opcodes_of(fused_file);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0] == static_cast<uint32_t>(OpCode::kGroupNorm));
    CHECK(opcodes_of(plain_file).size() > 1);
    auto input = testing::float_tensor({2, 6, 3, 5}, testing::test_values(180, 9));
    check_same_values(testing::values_of(testing::run_egm_graph(fused_file, 0, {input})[0]),
                      testing::values_of(testing::run_egm_graph(plain_file, 0, {input})[0]), 1e-5f);
  }
}

TEST_CASE("int8: a GroupNorm + SiLU between int8 convolutions runs in int8; one only float ops read stays float") {
  // x -> Conv -> GroupNorm -> SiLU -> Conv -> y, and the first Conv's output
  // through a second GroupNorm straight to an output (a float reader only).
  OnnxModelBuilder builder(18);
  builder.input("x", {1, 4, 6, 6}).output("y").output("side");
  builder.initializer("w1", {8, 4, 3, 3}, testing::test_values(288, 31));
  auto& conv1 = builder.node("Conv", {"x", "w1"}, {"c1"});
  OnnxModelBuilder::set_ints(conv1, "pads", {1, 1, 1, 1});
  builder.initializer("scale", {2}, {1.2f, 0.8f});
  builder.initializer("bias", {2}, {0.1f, -0.2f});
  auto& norm = builder.node("GroupNormalization", {"c1", "scale", "bias"}, {"n"});
  OnnxModelBuilder::set_int(norm, "num_groups", 2);
  builder.node("Sigmoid", {"n"}, {"gate"});
  builder.node("Mul", {"n", "gate"}, {"s"});
  builder.initializer("w2", {4, 8, 3, 3}, testing::test_values(288, 32));
  auto& conv2 = builder.node("Conv", {"s", "w2"}, {"y"});
  OnnxModelBuilder::set_ints(conv2, "pads", {1, 1, 1, 1});
  auto& side = builder.node("GroupNormalization", {"c1", "scale", "bias"}, {"side"});
  OnnxModelBuilder::set_int(side, "num_groups", 2);
  const std::string path = builder.save("int8_group_norm.onnx");

  ConvertOptions options;
  options.quantize.int8 = true;
  CalibrationArray samples;
  samples.shape = {8, 4, 6, 6};
  samples.values = testing::test_values(8 * 144, 33);
  options.quantize.inputs["x"] = samples;
  const std::vector<uint8_t> file = convert(path, options);
  const format::Graph* graph = testing::verified_model(file)->graphs()->Get(0);
  int int8_norms = 0, float_norms = 0, silus = 0;
  for (const format::Operator* op : *graph->operators()) {
    const format::Tensor* out = graph->tensors()->Get(static_cast<uint32_t>(op->outputs()->Get(0)));
    if (op->opcode() == static_cast<uint32_t>(OpCode::kGroupNorm)) ++(out->dtype() == format::DType::Int8 ? int8_norms : float_norms);
    silus += op->opcode() == static_cast<uint32_t>(OpCode::kSilu);
  }
  CHECK(int8_norms == 1);
  CHECK(float_norms == 1);
  CHECK(silus == 0);  // fused into the int8 norm

  ConvertOptions float_options;
  const std::vector<uint8_t> float_file = convert(path, float_options);
  auto input = testing::float_tensor({1, 4, 6, 6}, testing::test_values(144, 34));
  const std::vector<float> want = testing::values_of(testing::run_egm_graph(float_file, 0, {input})[0]);
  const std::vector<float> got = testing::values_of(testing::run_egm_graph(file, 0, {input})[0]);
  double signal = 0, noise = 0;
  for (size_t i = 0; i < want.size(); ++i) signal += want[i] * want[i], noise += (want[i] - got[i]) * (want[i] - got[i]);
  CHECK(10 * std::log10(signal / noise) > 25.0);
}

TEST_CASE("int8: a UNet block's timestep MLP, embedding and residual Adds and skip Concat run in int8, no dequantize between") {
  // x -> Conv c1 -> + embedding (e -> Gemm -> SiLU -> Gemm -> Reshape [1, 8, 1, 1]) -> GroupNorm -> SiLU -> Conv c2 -> + c1
  //   -> Concat with c1 -> Conv -> y: every Add between int8 ops; float only at the inputs and the output.
  OnnxModelBuilder builder(18);
  builder.input("x", {1, 4, 6, 6}).input("e", {1, 5}).output("y");
  builder.initializer("w1", {8, 4, 3, 3}, testing::test_values(288, 61));
  auto& conv1 = builder.node("Conv", {"x", "w1"}, {"c1"});
  OnnxModelBuilder::set_ints(conv1, "pads", {1, 1, 1, 1});
  // The timestep MLP: Gemm -> SiLU (Sigmoid, Mul) -> Gemm, its SiLU an int8 table.
  builder.initializer("wt", {6, 5}, testing::test_values(30, 60));
  auto& time = builder.node("Gemm", {"e", "wt"}, {"t1"});
  OnnxModelBuilder::set_int(time, "transB", 1);
  builder.node("Sigmoid", {"t1"}, {"t1_gate"});
  builder.node("Mul", {"t1", "t1_gate"}, {"t1_silu"});
  builder.initializer("we", {8, 6}, testing::test_values(48, 62));
  auto& gemm = builder.node("Gemm", {"t1_silu", "we"}, {"g"});
  OnnxModelBuilder::set_int(gemm, "transB", 1);
  const std::vector<int64_t> to_4d = {1, 8, 1, 1};
  builder.raw_initializer("shape", onnx::TensorProto::INT64, {4},
                          std::string(reinterpret_cast<const char*>(to_4d.data()), 32));
  builder.node("Reshape", {"g", "shape"}, {"g4"});
  builder.node("Add", {"c1", "g4"}, {"h"});
  builder.initializer("scale", {2}, {1.2f, 0.8f});
  builder.initializer("bias", {2}, {0.1f, -0.2f});
  auto& norm = builder.node("GroupNormalization", {"h", "scale", "bias"}, {"n"});
  OnnxModelBuilder::set_int(norm, "num_groups", 2);
  builder.node("Sigmoid", {"n"}, {"gate"});
  builder.node("Mul", {"n", "gate"}, {"s"});
  builder.initializer("w2", {8, 8, 3, 3}, testing::test_values(576, 63));
  auto& conv2 = builder.node("Conv", {"s", "w2"}, {"c2"});
  OnnxModelBuilder::set_ints(conv2, "pads", {1, 1, 1, 1});
  builder.node("Add", {"c2", "c1"}, {"r"});
  auto& concat = builder.node("Concat", {"r", "c1"}, {"skip"});  // an up block's skip connection
  OnnxModelBuilder::set_int(concat, "axis", 1);
  builder.initializer("w3", {3, 16, 3, 3}, testing::test_values(432, 64));
  auto& conv3 = builder.node("Conv", {"skip", "w3"}, {"y"});
  OnnxModelBuilder::set_ints(conv3, "pads", {1, 1, 1, 1});
  const std::string path = builder.save("int8_residual_add.onnx");

  ConvertOptions options;
  options.quantize.int8 = true;
  CalibrationArray x_samples, e_samples;
  x_samples.shape = {8, 4, 6, 6};
  x_samples.values = testing::test_values(8 * 144, 65);
  e_samples.shape = {8, 5};
  e_samples.values = testing::test_values(40, 66);
  options.quantize.inputs["x"] = x_samples;
  options.quantize.inputs["e"] = e_samples;
  const std::vector<uint8_t> file = convert(path, options);
  const format::Graph* graph = testing::verified_model(file)->graphs()->Get(0);
  int int8_adds = 0, float_adds = 0, dequantizes = 0, int8_silus = 0, int8_concats = 0;
  for (const format::Operator* op : *graph->operators()) {
    const format::Tensor* out = graph->tensors()->Get(static_cast<uint32_t>(op->outputs()->Get(0)));
    if (op->opcode() == static_cast<uint32_t>(OpCode::kAdd)) ++(out->dtype() == format::DType::Int8 ? int8_adds : float_adds);
    dequantizes += op->opcode() == static_cast<uint32_t>(OpCode::kDequantizeLinear);
    int8_silus += op->opcode() == static_cast<uint32_t>(OpCode::kSilu) && out->dtype() == format::DType::Int8;
    int8_concats += op->opcode() == static_cast<uint32_t>(OpCode::kConcat) && out->dtype() == format::DType::Int8;
  }
  CHECK(int8_adds == 2);
  CHECK(float_adds == 0);
  CHECK(int8_silus == 1);
  CHECK(int8_concats == 1);
  CHECK(dequantizes == 1);  // y only
  // The int8 tensors whose float originals are gone carry the model's names.
  bool named_c1 = false;
  for (const format::Tensor* t : *graph->tensors()) named_c1 = named_c1 || (t->name()->str() == "c1" && t->dtype() == format::DType::Int8);
  CHECK(named_c1);

  const std::vector<uint8_t> float_file = convert(path, ConvertOptions{});
  auto x = testing::float_tensor({1, 4, 6, 6}, testing::test_values(144, 67));
  auto e = testing::float_tensor({1, 5}, testing::test_values(5, 68));
  const std::vector<float> want = testing::values_of(testing::run_egm_graph(float_file, 0, {x, e})[0]);
  const std::vector<float> got = testing::values_of(testing::run_egm_graph(file, 0, {x, e})[0]);
  double signal = 0, noise = 0;
  for (size_t i = 0; i < want.size(); ++i) signal += want[i] * want[i], noise += (want[i] - got[i]) * (want[i] - got[i]);
  CHECK(10 * std::log10(signal / noise) > 25.0);
}

TEST_CASE("MatMul + Add of a per-column constant (nn.Linear on 3-D input) becomes one FullyConnected with bias") {
  OnnxModelBuilder builder;
  builder.input("x", {1, 5, 6}).output("y").output("z");
  builder.initializer("w", {6, 4}, testing::test_values(24, 51));
  builder.initializer("b", {4}, {0.5f, -1.f, 0.25f, 2.f});
  builder.initializer("b3", {1, 1, 4}, {1.f, 2.f, 3.f, 4.f});
  builder.node("MatMul", {"x", "w"}, {"m"});
  builder.node("Add", {"m", "b"}, {"a"});
  builder.node("Relu", {"a"}, {"y"});  // fuses into the product once the Add is its bias
  // A second product whose output another op also reads keeps its Add.
  builder.node("MatMul", {"x", "w"}, {"m2"});
  builder.node("Add", {"b3", "m2"}, {"a2"});
  builder.node("Mul", {"a2", "m2"}, {"z"});
  const std::string path = builder.save("bias_add.onnx");
  ConvertOptions plain;
  plain.fuse_activations = false;
  const std::vector<uint8_t> plain_file = convert(path, plain), folded_file = convert(path, {});
  const std::vector<uint32_t> ops = opcodes_of(folded_file);
  int adds = 0, products = 0;
  for (uint32_t op : ops) adds += op == static_cast<uint32_t>(OpCode::kAdd), products += op == static_cast<uint32_t>(OpCode::kFullyConnected);
  CHECK(products == 2);
  CHECK(adds == 1);  // only the Add whose product has another reader
  CHECK_FALSE(contains(ops, OpCode::kRelu));
  auto input = testing::float_tensor({1, 5, 6}, testing::test_values(30, 52));
  for (size_t o = 0; o < 2; ++o)
    check_same_values(testing::values_of(testing::run_egm_graph(folded_file, 0, {input})[o]),
                      testing::values_of(testing::run_egm_graph(plain_file, 0, {input})[o]), 1e-6f);
}

TEST_CASE("identical constants are stored once and every buffer is aligned") {
  OnnxModelBuilder builder;
  builder.input("x", {1, 3}).output("y");
  builder.initializer("a", {3}, {1, 2, 3});
  builder.initializer("b", {3}, {1, 2, 3});
  builder.initializer("c", {3}, {4, 5, 6});
  builder.node("Add", {"x", "a"}, {"s1"});
  builder.node("Mul", {"s1", "b"}, {"s2"});
  builder.node("Sub", {"s2", "c"}, {"y"});
  std::vector<uint8_t> file = convert(builder.save("dedupe.onnx"), {});
  const format::Model* model = testing::verified_model(file);
  CHECK(model->buffers()->size() == 3);  // the sentinel, {1, 2, 3}, {4, 5, 6}
  auto got = testing::values_of(testing::run_egm_graph(file, 0, {testing::float_tensor({1, 3}, {1, 1, 1})})[0]);
  CHECK(got == std::vector<float>{-2, 1, 6});
}

TEST_CASE("a graph output that is a graph input or a constant gets its own tensor") {
  OnnxModelBuilder builder;
  builder.input("x", {2}).output("same").output("fixed");
  builder.initializer("k", {2}, {7, 8});
  builder.node("Identity", {"x"}, {"same"});
  builder.node("Identity", {"k"}, {"fixed"});
  std::vector<uint8_t> file = convert(builder.save("passthrough.onnx"), {});
  auto outputs = testing::run_egm_graph(file, 0, {testing::float_tensor({2}, {1, 2})});
  CHECK(outputs[0].name == "same");
  CHECK(outputs[1].name == "fixed");
  CHECK(testing::values_of(outputs[0]) == std::vector<float>{1, 2});
  CHECK(testing::values_of(outputs[1]) == std::vector<float>{7, 8});
}

}  // namespace edgegen::converter
