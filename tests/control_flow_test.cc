// ONNX If on a run-time condition (issue 12): models built with onnx.helper
// (tests/control_flow/make_models.py commits them with NumPy's outputs)
// convert to inline branches (If, Else, EndIf), run the branch the
// condition picks and match; the branches share the arena; branches of
// different shapes are refused. On the backend EDGEGEN_BACKEND picks (CTest
// runs both).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen_generated.h"
#include "ops/registry.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;

namespace {

std::string model_file(const std::string& name) { return std::string(EDGEGEN_CONTROL_FLOW_DIR) + "/" + name; }

struct Converted {
  testing::AlignedBytes bytes;
  Model model;
};

void convert(const std::string& name, Converted* out,
             const converter::ConvertOptions& options = converter::ConvertOptions()) {
  std::vector<uint8_t> file = converter::convert(model_file(name), options);
  out->bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
}

std::vector<float> run(Session& session, const std::vector<float>& x) {
  Tensor& input = session.input(0, 0);
  REQUIRE(input.num_elements() == x.size());
  std::copy(x.begin(), x.end(), input.data_as<float>());
  REQUIRE(session.run(0).is_ok());
  const Tensor& y = session.output(0, 0);
  return std::vector<float>(y.data_as<const float>(), y.data_as<const float>() + y.num_elements());
}

size_t count_ops(const Model& model, OpCode opcode) { return testing::count_ops(model, 0, opcode); }

// One session runs every input in turn: a branch must not depend on what
// the other left in the arena.
void check_against_reference(const std::string& model_name, const std::string& prefix, double tolerance = 1e-4,
                             const converter::ConvertOptions& options = converter::ConvertOptions()) {
  Converted converted;
  convert(model_name, &converted, options);
  Session session;
  Status prepared = session.prepare(converted.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  for (int round = 0; round < 2; ++round)
    for (const std::string input : {"positive_big", "negative", "positive_small"}) {
      CAPTURE(input);
      const std::vector<float> x = testing::read_floats(model_file(std::string("x_") + input + ".npy"));
      const std::vector<float> expected = testing::read_floats(model_file(prefix + input + ".npy"));
      CHECK(testing::max_absolute_error(run(session, x), expected) < tolerance);
    }
}

std::string conversion_error(const std::string& name) {
  try {
    converter::convert(model_file(name), converter::ConvertOptions());
  } catch (const converter::ConversionError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("If on ReduceSum(x) > 0: both branches kept, the one the condition picks runs and matches NumPy") {
  Converted converted;
  convert("if_model.onnx", &converted);
  CHECK(count_ops(converted.model, OpCode::kIf) == 1);
  CHECK(count_ops(converted.model, OpCode::kElse) == 1);
  CHECK(count_ops(converted.model, OpCode::kEndIf) == 1);
  check_against_reference("if_model.onnx", "if_model_");
}

TEST_CASE("a run-time If inside a run-time If's branch") {
  Converted converted;
  convert("nested_if.onnx", &converted);
  CHECK(count_ops(converted.model, OpCode::kIf) == 2);
  check_against_reference("nested_if.onnx", "nested_if_");
}

// Calibration runs the float graph through the session, which follows the
// branches: samples taking each branch give every branch's ranges, and an
// int8 twin quantized in one branch is not reused in the other.
TEST_CASE("int8 quantization of a model with a run-time If") {
  converter::ConvertOptions options;
  options.quantize.int8 = true;
  converter::CalibrationArray samples;
  samples.shape = {16, 1, 8};
  for (int n = 0; n < 16; ++n)
    for (int i = 0; i < 8; ++i)  // alternately positive and negative sums
      samples.values.push_back((n % 2 ? -1.f : 1.f) * (0.4f * static_cast<float>((i * 7 + n * 3) % 11) - 1.5f));
  options.quantize.inputs["x"] = samples;
  Converted converted;
  convert("if_model.onnx", &converted, options);
  CHECK(count_ops(converted.model, OpCode::kQuantizeLinear) >= 2);  // at least one per branch
  check_against_reference("if_model.onnx", "if_model_", 0.1, options);
}

// The linear plan sees the first branch's tensors die before the second's
// are born. What the If model holds beyond its larger branch alone is x
// (64 bytes aligned): the branch run second reads it too, so it stays live
// through the first, where the larger-branch-alone model frees it early.
TEST_CASE("the If's arena holds the larger branch, not both") {
  Converted with_if, then_only, else_only;
  convert("if_model.onnx", &with_if);
  convert("then_only.onnx", &then_only);
  convert("else_only.onnx", &else_only);
  const uint64_t if_bytes = with_if.model.graph(0)->plan()->arena_bytes();
  const uint64_t then_bytes = then_only.model.graph(0)->plan()->arena_bytes();
  const uint64_t else_bytes = else_only.model.graph(0)->plan()->arena_bytes();
  MESSAGE("planned activation arena: If model " << if_bytes << " bytes; then branch alone " << then_bytes
                                                << ", else branch alone " << else_bytes);
  const uint64_t x_bytes = 64;  // [1, 8] float32, aligned
  CHECK(if_bytes <= std::max(then_bytes, else_bytes) + x_bytes);
  CHECK(if_bytes < then_bytes + else_bytes);
}

TEST_CASE("an If whose branches give different shapes is refused at convert, naming the node and the output") {
  const std::string error = conversion_error("mismatched.onnx");
  CHECK(contains(error, "'mismatched_if'"));
  CHECK(contains(error, "output 0 ('y')"));
  CHECK(contains(error, "the then branch gives float32 [1, 8], the else branch float32 [1, 4]"));
}
