// The "vocoder" manifest kind and "sample_rate" on decoders: what converts,
// and the errors that name what is wrong.
#include <doctest/doctest.h>

#include <fstream>

#include "converter/converter.h"
#include "converter/testing/onnx_model_builder.h"
#include "edgegen_generated.h"

namespace edgegen::converter {
namespace {

using testing::OnnxModelBuilder;

// mel [1, 4, 16] -> ConvTranspose1d(4 -> 1, kernel 4, stride 4) -> audio [1, 1, 64]: hop 4.
void write_vocoder_graphs() {
  OnnxModelBuilder upsample;
  upsample.input("mel", {1, 4, 16}).output("audio");
  upsample.initializer("w", {4, 1, 4}, testing::test_values(16, 3));
  auto& node = upsample.node("ConvTranspose", {"mel", "w"}, {"audio"});
  OnnxModelBuilder::set_ints(node, "strides", {4});
  OnnxModelBuilder::set_ints(node, "kernel_shape", {4});
  upsample.save("vocoder_hop4.onnx");
  // The same as [1, 64] (no channel axis).
  OnnxModelBuilder flat;
  flat.input("mel", {1, 4, 16}).output("audio");
  flat.initializer("w", {4, 1, 4}, testing::test_values(16, 3));
  flat.int_initializer("shape", {1, 64});
  auto& flat_node = flat.node("ConvTranspose", {"mel", "w"}, {"wave"});
  OnnxModelBuilder::set_ints(flat_node, "strides", {4});
  OnnxModelBuilder::set_ints(flat_node, "kernel_shape", {4});
  flat.node("Reshape", {"wave", "shape"}, {"audio"});
  flat.save("vocoder_flat.onnx");
  // Rank 2 input: not [b, mels, frames].
  OnnxModelBuilder rank2;
  rank2.input("mel", {4, 16}).output("audio");
  rank2.node("Relu", {"mel"}, {"audio"});
  rank2.save("vocoder_rank2.onnx");
  // A decoder of 8x8 pictures, and one of waveforms [1, 1, 64].
  OnnxModelBuilder picture;
  picture.input("z", {1, 4}).output("image");
  picture.initializer("w", {4, 64}, testing::test_values(256, 4));
  picture.int_initializer("shape", {1, 1, 8, 8});
  picture.node("MatMul", {"z", "w"}, {"flat"});
  picture.node("Reshape", {"flat", "shape"}, {"image"});
  picture.save("decoder_picture.onnx");
  OnnxModelBuilder wave;
  wave.input("z", {1, 4}).output("wave");
  wave.initializer("w", {4, 64}, testing::test_values(256, 4));
  wave.int_initializer("shape", {1, 1, 64});
  wave.node("MatMul", {"z", "w"}, {"flat"});
  wave.node("Reshape", {"flat", "shape"}, {"wave"});
  wave.save("decoder_wave.onnx");
}

std::string write(const std::string& name, const std::string& json) {
  std::string path = (testing::test_directory() / name).string();
  std::ofstream(path) << json;
  return path;
}

}  // namespace

TEST_CASE("vocoder manifests convert to a VocoderPipeline; decoders keep their sample_rate") {
  write_vocoder_graphs();
  ConvertOptions options;
  for (const char* graph : {"vocoder_hop4.onnx", "vocoder_flat.onnx"}) {
    CAPTURE(graph);
    std::vector<uint8_t> bytes = convert(write("v.json", std::string(R"({"kind": "vocoder", "graphs": {"vocoder": ")") +
                                                             graph + R"("}, "sample_rate": 16000, "hop_length": 4,
      "context_frames": 2, "pad_value": -4})"), options);
    const format::Model* model = format::GetModel(bytes.data());
    REQUIRE(model->pipeline_type() == format::PipelineSpec::VocoderPipeline);
    const auto* spec = model->pipeline_as_VocoderPipeline();
    CHECK(spec->graph() == 0);
    CHECK(spec->sample_rate() == 16000);
    CHECK(spec->hop_length() == 4);
    CHECK(spec->context_frames() == 2);
    CHECK(spec->pad_value() == -4.f);
  }
  std::vector<uint8_t> plain = convert(write("v0.json", R"({"kind": "vocoder", "graphs": {"vocoder": "vocoder_hop4.onnx"},
    "sample_rate": 22050, "hop_length": 4, "context_frames": 0})"), options);
  CHECK(format::GetModel(plain.data())->pipeline_as_VocoderPipeline()->pad_value() == doctest::Approx(-11.512925f));

  std::vector<uint8_t> decoder = convert(write("d.json", R"({"kind": "decoder", "graphs": {"decoder": "decoder_wave.onnx"},
    "latent_shape": [4], "sample_rate": 8000, "output_range": [-1, 1]})"), options);
  CHECK(format::GetModel(decoder.data())->pipeline_as_DecoderPipeline()->sample_rate() == 8000);
  std::vector<uint8_t> silent = convert(write("d0.json", R"({"kind": "decoder", "graphs": {"decoder": "decoder_picture.onnx"},
    "latent_shape": [4]})"), options);
  CHECK(format::GetModel(silent.data())->pipeline_as_DecoderPipeline()->sample_rate() == 0);
}

TEST_CASE("vocoder manifest errors name what is wrong") {
  write_vocoder_graphs();
  auto error = [](const std::string& json) { return testing::error_of(write("bad.json", json)); };
  auto has = [](const std::string& message, const std::string& part) {
    CAPTURE(message);
    return message.find(part) != std::string::npos;
  };
  const std::string graph = R"("graphs": {"vocoder": "vocoder_hop4.onnx"})";
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "hop_length": 4, "context_frames": 1})"),
            "missing key 'sample_rate' (samples per second)"));
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 0, "hop_length": 4, "context_frames": 1})"),
            "'sample_rate' must be an integer from 1 to 1000000"));
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050.5, "hop_length": 4, "context_frames": 1})"),
            "'sample_rate' must be an integer"));
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050, "context_frames": 1})"),
            "missing key 'hop_length'"));
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050, "hop_length": 4})"),
            "missing key 'context_frames'"));
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050, "hop_length": 4, "context_frames": 1,
            "pad_value": "quiet"})"),
            "'pad_value' must be a finite number"));
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050, "hop_length": 4, "context_frames": 1,
            "hop": 4})"),
            "unknown key 'hop'"));
  CHECK(has(error(R"({"kind": "vocoder", "graphs": {"generator": "vocoder_hop4.onnx"}, "sample_rate": 22050,
            "hop_length": 4, "context_frames": 1})"),
            "unknown key 'generator' in 'graphs'"));
  // The graph's upsampling is 4, not 256.
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050, "hop_length": 256, "context_frames": 1})"),
            "the vocoder output 'audio' [1, 1, 64] must be float32 [1, 1, 4096] or [1, 4096]"));
  // 16 frames cannot hold 8 context frames on each side.
  CHECK(has(error(R"({"kind": "vocoder", )" + graph + R"(, "sample_rate": 22050, "hop_length": 4, "context_frames": 8})"),
            "converted for 16 frames, which leaves none between 8 context frames on each side"));
  CHECK(has(error(R"({"kind": "vocoder", "graphs": {"vocoder": "vocoder_rank2.onnx"}, "sample_rate": 22050,
            "hop_length": 4, "context_frames": 1})"),
            "the vocoder input 'mel' [4, 16] must be float32 [batch, mels, frames]"));
  // A decoder whose items are pictures is not audio.
  CHECK(has(error(R"({"kind": "decoder", "graphs": {"decoder": "decoder_picture.onnx"}, "latent_shape": [4],
            "sample_rate": 8000})"),
            "'sample_rate' says the decoder output is a waveform, but 'image' is [1, 1, 8, 8]"));
  CHECK(has(error(R"({"kind": "decoder", "graphs": {"decoder": "decoder_wave.onnx"}, "latent_shape": [4],
            "sample_rate": -1})"),
            "'sample_rate' must be an integer from 1 to 1000000"));
}

}  // namespace edgegen::converter
