// Manifests: pipelines built from several ONNX graphs, and their errors.
#include <doctest/doctest.h>

#include <fstream>

#include "converter/converter.h"
#include "converter/testing/onnx_model_builder.h"
#include "edgegen_generated.h"

namespace edgegen::converter {
namespace {

using testing::OnnxModelBuilder;

// encoder: x [N, 4] -> a [N, 2], b [N, 2];  decoder: z [N, 2] -> sigmoid -> y [N, 4]
void write_vae_graphs() {
  OnnxModelBuilder encoder;
  encoder.input("x", {1, 4}, true).output("a").output("b");
  encoder.initializer("wa", {4, 2}, testing::test_values(8, 1));
  encoder.initializer("wb", {4, 2}, testing::test_values(8, 2));
  encoder.node("MatMul", {"x", "wa"}, {"a"});
  encoder.node("MatMul", {"x", "wb"}, {"b"});
  encoder.save("vae_encoder.onnx");
  OnnxModelBuilder decoder;
  decoder.input("z", {1, 2}, true).output("y");
  decoder.initializer("wd", {2, 4}, testing::test_values(8, 3));
  decoder.node("MatMul", {"z", "wd"}, {"logits"});
  decoder.node("Sigmoid", {"logits"}, {"y"});
  decoder.save("vae_decoder.onnx");
}

std::string write_manifest(const std::string& name, const std::string& json) {
  std::string path = (testing::test_directory() / name).string();
  std::ofstream(path) << json;
  return path;
}

}  // namespace

TEST_CASE("a VAE manifest maps output roles to encoder outputs by name") {
  write_vae_graphs();
  std::string path = write_manifest("vae.json", R"({"kind": "vae",
    "graphs": {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "likelihood": "gaussian", "gaussian_variance": 0.5,
    "outputs": {"mean": "b", "logvar": "a"}, "output_range": [0, 1]})");
  ConvertOptions options;
  options.batch = 3;
  std::vector<uint8_t> file = convert(path, options);
  const format::Model* model = testing::verified_model(file);
  REQUIRE(model->graphs()->size() == 2);
  CHECK(model->graphs()->Get(0)->name()->str() == "encoder");
  CHECK(model->graphs()->Get(1)->name()->str() == "decoder");
  CHECK(model->batch() == 3);
  const format::VaePipeline* vae = model->pipeline_as_VaePipeline();
  REQUIRE(vae != nullptr);
  CHECK(vae->encoder_graph() == 0);
  CHECK(vae->decoder_graph() == 1);
  CHECK(vae->mean_output() == 1);
  CHECK(vae->logvar_output() == 0);
  CHECK(vae->likelihood() == format::Likelihood::Gaussian);
  CHECK(vae->gaussian_variance() == 0.5f);
  CHECK(std::vector<float>(vae->output_range()->begin(), vae->output_range()->end()) == std::vector<float>{0, 1});
}

TEST_CASE("a decoder manifest") {
  write_vae_graphs();
  std::string path = write_manifest("decoder.json", R"({"kind": "decoder", "graphs": {"decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "prior": "uniform", "output_range": [-1, 1]})");
  std::vector<uint8_t> file = convert(path, {});
  const format::Model* model = testing::verified_model(file);
  const format::DecoderPipeline* decoder = model->pipeline_as_DecoderPipeline();
  REQUIRE(decoder != nullptr);
  CHECK(decoder->prior() == format::Prior::Uniform);
  CHECK(model->graphs()->Get(decoder->decoder_graph())->name()->str() == "decoder");
}

TEST_CASE("manifest errors name what is wrong") {
  write_vae_graphs();
  auto error = [](const std::string& name, const std::string& json) {
    return testing::error_of(write_manifest(name, json));
  };
  CHECK(error("unknown_key.json", R"({"kind": "decoder", "graphs": {"decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "temperature": 1})").find("unknown key 'temperature'") != std::string::npos);
  CHECK(error("kind.json", R"({"kind": "gan"})").find("unknown kind 'gan'") != std::string::npos);
  CHECK(error("latent.json", R"({"kind": "decoder", "graphs": {"decoder": "vae_decoder.onnx"},
    "latent_shape": [3]})").find("latent_shape [3] does not match the decoder input 'z'") != std::string::npos);
  CHECK(error("output_name.json", R"({"kind": "vae",
    "graphs": {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "outputs": {"mean": "mu"}})").find("'mu' is not an encoder output") != std::string::npos);
  CHECK(error("likelihood.json", R"({"kind": "vae",
    "graphs": {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "likelihood": "poisson"})").find("'poisson' is not supported") != std::string::npos);
  CHECK(error("missing_graph.json", R"({"kind": "decoder", "graphs": {"decoder": "nowhere.onnx"},
    "latent_shape": [2]})").find("cannot open") != std::string::npos);
  // Settings of the other likelihood would be ignored: refused.
  CHECK(error("variance_bernoulli.json", R"({"kind": "vae",
    "graphs": {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "gaussian_variance": 0.5})").find("applies to the gaussian likelihood only") != std::string::npos);
  CHECK(error("logits_gaussian.json", R"({"kind": "vae",
    "graphs": {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx"},
    "latent_shape": [2], "likelihood": "gaussian", "output_is_logits": true})")
            .find("applies to the bernoulli likelihood only") != std::string::npos);
}

}  // namespace edgegen::converter
