// QDQ import in the converter: what folds into int8 operators, what stays
// Q/DQ around float ops (and still computes the right thing), and the
// quantization parameters it refuses with a message.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "converter/testing/onnx_model_builder.h"
#include "ops/registry.h"

using namespace edgegen;
using namespace edgegen::converter;
using namespace edgegen::converter::testing;

namespace {

std::string float_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}
std::string int8_bytes(const std::vector<int8_t>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size());
}

// x [1, 4] float -> Q (scale 0.1, zp 3, int8) -> DQ -> Gemm with an int8
// weight [2, 4] behind a DQ (per output channel) -> (activation) -> Q -> DQ -> y.
OnnxModelBuilder qdq_gemm(const std::string& activation) {
  OnnxModelBuilder model;
  model.input("x", {1, 4}).output("y");
  model.raw_initializer("s", onnx::TensorProto::FLOAT, {}, float_bytes({0.1f}));
  model.raw_initializer("z", onnx::TensorProto::INT8, {}, int8_bytes({3}));
  model.raw_initializer("w", onnx::TensorProto::INT8, {2, 4}, int8_bytes({10, -20, 30, -40, 5, 6, -7, 8}));
  model.raw_initializer("ws", onnx::TensorProto::FLOAT, {2}, float_bytes({0.01f, 0.02f}));
  model.raw_initializer("wz", onnx::TensorProto::INT8, {2}, int8_bytes({0, 0}));
  model.raw_initializer("ys", onnx::TensorProto::FLOAT, {}, float_bytes({0.05f}));
  model.raw_initializer("yz", onnx::TensorProto::INT8, {}, int8_bytes({-5}));
  model.node("QuantizeLinear", {"x", "s", "z"}, {"xq"});
  model.node("DequantizeLinear", {"xq", "s", "z"}, {"xf"});
  auto& w = model.node("DequantizeLinear", {"w", "ws", "wz"}, {"wf"});
  OnnxModelBuilder::set_int(w, "axis", 0);
  auto& gemm = model.node("Gemm", {"xf", "wf"}, {"g"});
  OnnxModelBuilder::set_int(gemm, "transB", 1);
  std::string before_q = "g";
  if (!activation.empty()) {
    model.node(activation, {"g"}, {"a"});
    before_q = "a";
  }
  model.node("QuantizeLinear", {before_q, "ys", "yz"}, {"yq"});
  model.node("DequantizeLinear", {"yq", "ys", "yz"}, {"y"});
  return model;
}

// What the QDQ graph computes, in float (ONNX's reference semantics).
std::vector<float> qdq_gemm_reference(const std::vector<float>& x, bool sigmoid) {
  auto quantize = [](float v, float s, int z) {
    float q = std::nearbyint(v / s) + static_cast<float>(z);
    return std::min(127.f, std::max(-128.f, q));
  };
  const int8_t w[2][4] = {{10, -20, 30, -40}, {5, 6, -7, 8}};
  const float ws[2] = {0.01f, 0.02f};
  std::vector<float> y(2);
  for (int n = 0; n < 2; ++n) {
    float sum = 0;
    for (int k = 0; k < 4; ++k) sum += (quantize(x[k], 0.1f, 3) - 3) * 0.1f * (static_cast<float>(w[n][k]) * ws[n]);
    if (sigmoid) sum = 1.f / (1.f + std::exp(-sum));
    y[n] = (quantize(sum, 0.05f, -5) + 5) * 0.05f;
  }
  return y;
}

std::vector<float> run(const std::vector<uint8_t>& file, const std::vector<float>& x) {
  std::vector<HostTensor> outputs = run_egm_graph(file, 0, {float_tensor({1, 4}, x)});
  std::vector<float> y(outputs.at(0).data.size() / sizeof(float));
  std::memcpy(y.data(), outputs[0].data.data(), outputs[0].data.size());
  return y;
}

std::string conversion_error(OnnxModelBuilder& model, const std::string& file) {
  try {
    convert(model.save(file), ConvertOptions{});
  } catch (const ConversionError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("QDQ import: DQ -> Gemm -> Q folds into an int8 FullyConnected with the written scales") {
  OnnxModelBuilder model = qdq_gemm("Relu");
  std::vector<uint8_t> file = convert(model.save("qdq_gemm.onnx"), ConvertOptions{});
  const format::Model* egm = format::GetModel(file.data());
  size_t int8_products = 0, float_products = 0;
  const format::Graph* graph = egm->graphs()->Get(0);
  for (const format::Operator* op : *graph->operators()) {
    if (op->opcode() != static_cast<uint32_t>(OpCode::kFullyConnected)) continue;
    const format::Tensor* w = graph->tensors()->Get(static_cast<uint32_t>(op->inputs()->Get(1)));
    (static_cast<DType>(w->dtype()) == DType::kInt8 ? int8_products : float_products)++;
    REQUIRE(w->quantization() != nullptr);
    CHECK(w->quantization()->scale()->size() == 2);  // per output channel, as written
    CHECK(w->quantization()->scale()->Get(1) == 0.02f);
  }
  CHECK(int8_products == 1);
  CHECK(float_products == 0);
  for (const std::vector<float>& x : {std::vector<float>{0.5f, -1.f, 2.f, 0.3f}, std::vector<float>{-3.f, 1.f, 0.f, 9.f}}) {
    std::vector<float> y = run(file, x), expected = qdq_gemm_reference(x, false);
    for (size_t i = 0; i < 2; ++i) CHECK(y[i] == doctest::Approx(std::max(0.f, expected[i])).epsilon(1e-6));
  }
}

TEST_CASE("QDQ import: a chain that cannot fold (Sigmoid before Q) stays Q/DQ around float ops and computes the same") {
  OnnxModelBuilder model = qdq_gemm("Sigmoid");
  std::vector<uint8_t> file = convert(model.save("qdq_gemm_sigmoid.onnx"), ConvertOptions{});
  std::vector<float> x = {0.5f, -1.f, 2.f, 0.3f};
  std::vector<float> y = run(file, x), expected = qdq_gemm_reference(x, true);
  for (size_t i = 0; i < 2; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("QDQ import: DQ + DQ -> Add -> Q (a residual connection) folds into an int8 Add within one step") {
  // a [1, 3, 2, 2] and b [1, 3, 1, 1] (per channel) quantized with their own
  // scales, added, quantized again, dequantized to y.
  OnnxModelBuilder model;
  model.input("a", {1, 3, 2, 2}).input("b", {1, 3, 1, 1}).output("y");
  model.raw_initializer("as", onnx::TensorProto::FLOAT, {}, float_bytes({0.05f}));
  model.raw_initializer("az", onnx::TensorProto::INT8, {}, int8_bytes({-4}));
  model.raw_initializer("bs", onnx::TensorProto::FLOAT, {}, float_bytes({0.02f}));
  model.raw_initializer("bz", onnx::TensorProto::INT8, {}, int8_bytes({7}));
  model.raw_initializer("ys", onnx::TensorProto::FLOAT, {}, float_bytes({0.06f}));
  model.raw_initializer("yz", onnx::TensorProto::INT8, {}, int8_bytes({2}));
  model.node("QuantizeLinear", {"a", "as", "az"}, {"aq"});
  model.node("DequantizeLinear", {"aq", "as", "az"}, {"af"});
  model.node("QuantizeLinear", {"b", "bs", "bz"}, {"bq"});
  model.node("DequantizeLinear", {"bq", "bs", "bz"}, {"bf"});
  model.node("Add", {"af", "bf"}, {"s"});
  model.node("QuantizeLinear", {"s", "ys", "yz"}, {"sq"});
  model.node("DequantizeLinear", {"sq", "ys", "yz"}, {"y"});
  std::vector<uint8_t> file = convert(model.save("qdq_add.onnx"), ConvertOptions{});
  const format::Graph* graph = format::GetModel(file.data())->graphs()->Get(0);
  size_t int8_adds = 0, float_adds = 0;
  for (const format::Operator* op : *graph->operators()) {
    if (op->opcode() != static_cast<uint32_t>(OpCode::kAdd)) continue;
    const format::Tensor* out = graph->tensors()->Get(static_cast<uint32_t>(op->outputs()->Get(0)));
    (static_cast<DType>(out->dtype()) == DType::kInt8 ? int8_adds : float_adds)++;
  }
  CHECK(int8_adds == 1);
  CHECK(float_adds == 0);
  auto quantize = [](float v, float s, int z) { return std::min(127.f, std::max(-128.f, std::nearbyint(v / s) + z)); };
  std::vector<float> a(12), b = {0.7f, -0.35f, 2.9f};  // b's last value saturates its int8 range
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.37f * static_cast<float>(i) - 2.1f;
  std::vector<HostTensor> out = run_egm_graph(file, 0, {float_tensor({1, 3, 2, 2}, a), float_tensor({1, 3, 1, 1}, b)});
  std::vector<float> y(12);
  std::memcpy(y.data(), out.at(0).data.data(), sizeof(float) * y.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const float real = (quantize(a[i], 0.05f, -4) + 4) * 0.05f + (quantize(b[i / 4], 0.02f, 7) - 7) * 0.02f;
    const float want = (quantize(real, 0.06f, 2) - 2) * 0.06f;
    CHECK(std::fabs(y[i] - want) <= 0.06f * 1.001f);  // one step of the output
  }
}

TEST_CASE("QDQ import: DQ -> Sigmoid -> Q and DQ + DQ -> Concat -> Q fold into int8 ops (a table, a requantizing copy)") {
  OnnxModelBuilder model;
  model.input("a", {1, 2, 3}).input("b", {1, 3, 3}).output("y").output("c");
  model.raw_initializer("as", onnx::TensorProto::FLOAT, {}, float_bytes({0.05f}));
  model.raw_initializer("az", onnx::TensorProto::INT8, {}, int8_bytes({-4}));
  model.raw_initializer("bs", onnx::TensorProto::FLOAT, {}, float_bytes({0.02f}));
  model.raw_initializer("bz", onnx::TensorProto::INT8, {}, int8_bytes({7}));
  model.raw_initializer("ys", onnx::TensorProto::FLOAT, {}, float_bytes({1.f / 256}));
  model.raw_initializer("yz", onnx::TensorProto::INT8, {}, int8_bytes({-128}));
  model.node("QuantizeLinear", {"a", "as", "az"}, {"aq"});
  model.node("DequantizeLinear", {"aq", "as", "az"}, {"af"});
  model.node("QuantizeLinear", {"b", "bs", "bz"}, {"bq"});
  model.node("DequantizeLinear", {"bq", "bs", "bz"}, {"bf"});
  model.node("Sigmoid", {"af"}, {"sig"});
  model.node("QuantizeLinear", {"sig", "ys", "yz"}, {"sq"});
  model.node("DequantizeLinear", {"sq", "ys", "yz"}, {"y"});
  auto& concat = model.node("Concat", {"af", "bf"}, {"cat"});
  OnnxModelBuilder::set_int(concat, "axis", 1);
  model.node("QuantizeLinear", {"cat", "as", "az"}, {"cq"});
  model.node("DequantizeLinear", {"cq", "as", "az"}, {"c"});
  std::vector<uint8_t> file = convert(model.save("qdq_sigmoid_concat.onnx"), ConvertOptions{});
  const format::Graph* graph = format::GetModel(file.data())->graphs()->Get(0);
  size_t int8_ops = 0, float_ops = 0;
  for (const format::Operator* op : *graph->operators()) {
    if (op->opcode() != static_cast<uint32_t>(OpCode::kSigmoid) && op->opcode() != static_cast<uint32_t>(OpCode::kConcat))
      continue;
    const format::Tensor* out = graph->tensors()->Get(static_cast<uint32_t>(op->outputs()->Get(0)));
    (static_cast<DType>(out->dtype()) == DType::kInt8 ? int8_ops : float_ops)++;
  }
  CHECK(int8_ops == 2);
  CHECK(float_ops == 0);
  auto quantize = [](float v, float s, int z) { return std::min(127.f, std::max(-128.f, std::nearbyint(v / s) + z)); };
  std::vector<float> a = {-3.f, -1.f, -0.2f, 0.f, 0.9f, 4.f}, b(9);
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.45f * static_cast<float>(i) - 2.f;
  std::vector<HostTensor> out = run_egm_graph(file, 0, {float_tensor({1, 2, 3}, a), float_tensor({1, 3, 3}, b)});
  std::vector<float> y(6), c(15);
  std::memcpy(y.data(), out.at(0).data.data(), sizeof(float) * y.size());
  std::memcpy(c.data(), out.at(1).data.data(), sizeof(float) * c.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const float af = (quantize(a[i], 0.05f, -4) + 4) * 0.05f;
    const float want = (quantize(1.f / (1.f + std::exp(-af)), 1.f / 256, -128) + 128) / 256;
    CHECK(y[i] == doctest::Approx(want).epsilon(1e-6));  // exactly what the QDQ chain computes
    CHECK(c[i] == doctest::Approx(af).epsilon(1e-6));     // a is at the output's scale: copied
  }
  for (size_t i = 0; i < b.size(); ++i) {
    const float bf = (quantize(b[i], 0.02f, 7) - 7) * 0.02f;
    CHECK(std::fabs(c[6 + i] - (quantize(bf, 0.05f, -4) + 4) * 0.05f) <= 0.05f * 1.001f);  // within one step
  }
}

TEST_CASE("QDQ import: bad quantization parameters are refused with a message naming them") {
  auto dq_model = [](const std::string& scale_bytes, std::vector<int64_t> scale_shape, int zp_type,
                     const std::string& zp_bytes, std::vector<int64_t> zp_shape) {
    OnnxModelBuilder model;
    model.output("y");
    model.raw_initializer("q", onnx::TensorProto::INT8, {3, 2}, int8_bytes({1, 2, 3, 4, 5, 6}));
    model.raw_initializer("s", onnx::TensorProto::FLOAT, scale_shape, scale_bytes);
    model.raw_initializer("z", zp_type, zp_shape, zp_bytes);
    auto& node = model.node("DequantizeLinear", {"q", "s", "z"}, {"y"});
    OnnxModelBuilder::set_int(node, "axis", 0);
    return model;
  };
  SUBCASE("zero scale") {
    OnnxModelBuilder model = dq_model(float_bytes({0.f}), {}, onnx::TensorProto::INT8, int8_bytes({0}), {});
    std::string message = conversion_error(model, "bad_zero_scale.onnx");
    CHECK(message.find("scales must be positive, finite and normal") != std::string::npos);
  }
  SUBCASE("NaN scale") {
    OnnxModelBuilder model = dq_model(float_bytes({NAN}), {}, onnx::TensorProto::INT8, int8_bytes({0}), {});
    CHECK(conversion_error(model, "bad_nan_scale.onnx").find("has scale nan") != std::string::npos);
  }
  SUBCASE("per-axis scales of the wrong length") {
    OnnxModelBuilder model = dq_model(float_bytes({1.f, 2.f}), {2}, onnx::TensorProto::INT8, int8_bytes({0, 0}), {2});
    CHECK(conversion_error(model, "bad_axis_length.onnx").find("2 scales along axis 0, whose size is 3") != std::string::npos);
  }
  SUBCASE("as many zero points as scales") {
    OnnxModelBuilder model = dq_model(float_bytes({1.f, 2.f, 3.f}), {3}, onnx::TensorProto::INT8, int8_bytes({0}), {});
    CHECK(conversion_error(model, "bad_zero_point_count.onnx").find("3 scales but 1 zero points") != std::string::npos);
  }
  SUBCASE("a zero point of another dtype than the tensor") {
    OnnxModelBuilder model = dq_model(float_bytes({1.f}), {}, onnx::TensorProto::UINT8, int8_bytes({0}), {});
    CHECK(conversion_error(model, "bad_zero_point_dtype.onnx").find("zero point is uint8") != std::string::npos);
  }
  SUBCASE("an int32 zero point other than 0 (out of range for int32 tensors)") {
    OnnxModelBuilder model;
    model.output("y");
    int32_t q[2] = {5, 6}, z = 7;
    model.raw_initializer("q", onnx::TensorProto::INT32, {2}, std::string(reinterpret_cast<char*>(q), 8));
    model.raw_initializer("s", onnx::TensorProto::FLOAT, {}, float_bytes({0.5f}));
    model.raw_initializer("z", onnx::TensorProto::INT32, {}, std::string(reinterpret_cast<char*>(&z), 4));
    model.node("DequantizeLinear", {"q", "s", "z"}, {"y"});
    CHECK(conversion_error(model, "bad_int32_zero_point.onnx").find("zero point 7, outside int32 [0, 0]") != std::string::npos);
  }
  SUBCASE("a scale computed at run time") {
    OnnxModelBuilder model;
    model.input("x", {4}).input("s", {}).output("y");
    model.raw_initializer("z", onnx::TensorProto::UINT8, {}, std::string(1, '\0'));
    model.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
    model.node("DequantizeLinear", {"q", "s", "z"}, {"y"});
    CHECK(conversion_error(model, "runtime_scale.onnx").find("must be a constant") != std::string::npos);
  }
}
