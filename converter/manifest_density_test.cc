// Manifests of the density kinds (flow, autoregressive, energy) and their errors.
#include <doctest/doctest.h>

#include <fstream>

#include "converter/converter.h"
#include "converter/testing/onnx_model_builder.h"
#include "edgegen_generated.h"

namespace edgegen::converter {
namespace {

using testing::OnnxModelBuilder;

// forward: x [N, 4] -> z = x W [N, 4], logdet = sum(x W) [N];  inverse: z [N, 4] -> x [N, 4]
void write_density_graphs() {
  OnnxModelBuilder forward;
  forward.input("x", {1, 4}, true).output("z").output("logdet");
  forward.initializer("w", {4, 4}, testing::test_values(16, 1));
  forward.int_initializer("axes", {1});
  forward.node("MatMul", {"x", "w"}, {"z"});
  OnnxModelBuilder::set_int(forward.node("ReduceSum", {"z", "axes"}, {"logdet"}), "keepdims", 0);
  forward.save("density_forward.onnx");
  OnnxModelBuilder inverse;
  inverse.input("z", {1, 4}, true).output("x");
  inverse.initializer("w", {4, 4}, testing::test_values(16, 1));  // the same weights: stored once
  inverse.node("MatMul", {"z", "w"}, {"x"});
  inverse.save("density_inverse.onnx");
  OnnxModelBuilder made;
  made.input("x", {1, 4}, true).output("logits");
  made.initializer("w", {4, 8}, testing::test_values(32, 2));
  made.node("MatMul", {"x", "w"}, {"logits"});
  made.save("density_made.onnx");
}

std::string write(const std::string& name, const std::string& json) {
  std::string path = (testing::test_directory() / name).string();
  std::ofstream(path) << json;
  return path;
}

}  // namespace

TEST_CASE("flow, autoregressive and energy manifests convert to their pipeline tables") {
  write_density_graphs();
  ConvertOptions options;
  std::vector<uint8_t> flow = convert(write("flow.json", R"({"kind": "flow",
    "graphs": {"forward": "density_forward.onnx", "inverse": "density_inverse.onnx"},
    "outputs": {"z": "z", "logdet": "logdet"}, "event_shape": [4], "base": "logistic",
    "preprocess": {"dequantize_scale": 256, "logit_alpha": 0.05}})"), options);
  const format::Model* model = format::GetModel(flow.data());
  REQUIRE(model->pipeline_type() == format::PipelineSpec::FlowPipeline);
  const auto* spec = model->pipeline_as_FlowPipeline();
  CHECK(spec->has_inverse());
  CHECK(spec->base() == format::FlowBase::Logistic);
  CHECK(spec->preprocess()->dequantize_scale() == 256.f);
  CHECK(spec->preprocess()->logit_alpha() == doctest::Approx(0.05f));
  CHECK(model->buffers()->size() == 2);  // the sentinel and one shared weight

  std::vector<uint8_t> ar = convert(write("ar.json", R"({"kind": "autoregressive",
    "graphs": {"conditionals": "density_made.onnx"}, "event_shape": [4], "distribution": "categorical",
    "categories": 2})"), options);
  const auto* ar_spec = format::GetModel(ar.data())->pipeline_as_AutoregressivePipeline();
  REQUIRE(ar_spec != nullptr);
  CHECK(ar_spec->distribution() == format::ArDistribution::Categorical);
  CHECK(ar_spec->num_categories() == 2);
}

TEST_CASE("density manifest errors name what is wrong") {
  write_density_graphs();
  auto error = [](const std::string& name, const std::string& json) {
    return testing::error_of(write(name, json));
  };
  CHECK(error("f1.json", R"({"kind": "flow", "graphs": {"inverse": "density_inverse.onnx"}, "event_shape": [4]})")
            .find("'graphs' needs the path of the 'forward' graph") != std::string::npos);
  CHECK(error("f2.json", R"({"kind": "flow", "graphs": {"forward": "density_forward.onnx"}, "event_shape": [5]})")
            .find("event_shape [5] does not match the forward input 'x'") != std::string::npos);
  CHECK(error("f3.json", R"({"kind": "flow", "graphs": {"forward": "density_forward.onnx"}, "event_shape": [4],
    "outputs": {"logdet": "ld"}})").find("'ld' is not a forward output") != std::string::npos);
  CHECK(error("f4.json", R"({"kind": "flow", "graphs": {"forward": "density_forward.onnx"}, "event_shape": [4],
    "preprocess": {"logit_alpha": 0.7}})").find("'preprocess.logit_alpha' must be a number in [0, 0.5)") != std::string::npos);
  for (const char* scale : {"0", "-2", "1e39", "1e-50", "\"17\""}) {
    CAPTURE(scale);
    CHECK(error("f5.json", std::string(R"({"kind": "flow", "graphs": {"forward": "density_forward.onnx"},
      "event_shape": [4], "preprocess": {"dequantize_scale": )") + scale + "}}")
              .find("'preprocess.dequantize_scale' must be a positive number that fits float32") != std::string::npos);
  }
  CHECK(error("a1.json", R"({"kind": "autoregressive", "graphs": {"conditionals": "density_made.onnx"},
    "event_shape": [4], "distribution": "categorical"})").find("needs 'categories'") != std::string::npos);
  CHECK(error("a2.json", R"({"kind": "autoregressive", "graphs": {"conditionals": "density_made.onnx"},
    "event_shape": [4], "distribution": "bernoulli"})").find("must hold 4 values per item for a bernoulli") != std::string::npos);
  CHECK(error("e1.json", R"({"kind": "energy", "graphs": {"score": "density_made.onnx"}, "event_shape": [4],
    "noise_levels": [0.1, 1.0]})").find("decreasing order") != std::string::npos);
}

}  // namespace edgegen::converter
