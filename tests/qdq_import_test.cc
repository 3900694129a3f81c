// QDQ import (issue 10) end to end: a model quantized by PyTorch 1.13's FX
// post-training quantization (tests/qdq_models/make_qdq_models.py, which
// commits the ONNX graph, an input and PyTorch's quantized output; no torch
// at test time) converts to edgegen's int8 operators with PyTorch's scales
// and zero points and reproduces PyTorch's output within one step of the
// int8 output, on the backend EDGEGEN_BACKEND picks (CTest runs both).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen_generated.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;

namespace {

std::string model_file(const std::string& name) { return std::string(EDGEGEN_QDQ_MODELS_DIR) + "/" + name; }

size_t count_ops(const Model& model, OpCode opcode, DType input_dtype) {
  const format::Graph* graph = model.graph(0);
  size_t count = 0;
  for (const format::Operator* op : *graph->operators()) {
    if (op->opcode() != static_cast<uint32_t>(opcode)) continue;
    const format::Tensor* input = graph->tensors()->Get(static_cast<uint32_t>(op->inputs()->Get(0)));
    count += static_cast<DType>(input->dtype()) == input_dtype;
  }
  return count;
}

}  // namespace

TEST_CASE("QDQ import: PyTorch FX conv + linear runs in int8 and matches PyTorch within one output step") {
  testing::LoadedModel loaded;
  testing::load_model(model_file("fx_conv_linear.onnx"), 2, &loaded);
  // Both convolutions and the linear layer fold into quantized operators
  // (qnnpack: quint8 activations, qint8 weights), whose uint8 activations
  // the converter shifts to int8 (zero points - 128: the same values), so
  // they run on the int8 fast path; only the model's boundaries and the
  // float Flatten keep Q/DQ.
  CHECK(count_ops(loaded.model, OpCode::kConv2d, DType::kInt8) == 2);
  CHECK(count_ops(loaded.model, OpCode::kFullyConnected, DType::kInt8) == 1);
  CHECK(count_ops(loaded.model, OpCode::kConv2d, DType::kUInt8) == 0);
  CHECK(count_ops(loaded.model, OpCode::kConv2d, DType::kFloat32) == 0);
  CHECK(count_ops(loaded.model, OpCode::kFullyConnected, DType::kFloat32) == 0);

  Session session;
  Status prepared = session.prepare(loaded.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  if (session.backend() == Backend::kXnnpack) {  // the int8 GEMM runs all three
    int on_qgemm = 0;
    for (size_t op = 0; op < session.num_operators(0); ++op)
      on_qgemm += std::string(session.operator_executor(0, op)) == "qgemm";
    CHECK(on_qgemm == 3);
  }
  std::vector<float> x = testing::read_floats(model_file("fx_conv_linear_input.npy"));
  std::vector<float> expected = testing::read_floats(model_file("fx_conv_linear_output.npy"));
  const float step = testing::read_floats(model_file("fx_conv_linear_output_scale.npy")).at(0);
  Tensor& input = session.input(0, 0);
  REQUIRE(input.num_elements() == x.size());
  std::memcpy(input.data, x.data(), x.size() * sizeof(float));
  Status ran = session.run(0);
  REQUIRE_MESSAGE(ran.is_ok(), std::string(ran.message()));
  const Tensor& output = session.output(0, 0);
  REQUIRE(output.num_elements() == expected.size());
  const float* y = output.data_as<const float>();
  double worst = 0;
  size_t exact = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double error = std::fabs(double(y[i]) - expected[i]);
    worst = std::max(worst, error);
    exact += error < 1e-6;
  }
  MESSAGE("max |edgegen - PyTorch| = " << worst << " = " << worst / step << " output steps; " << exact << " of "
                                       << expected.size() << " outputs identical");
  CHECK(worst <= 1.01 * step);
}
