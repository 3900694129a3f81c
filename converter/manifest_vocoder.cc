#include "converter/manifest_vocoder.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

uint32_t read_count(const std::string& path, const json& root, const char* key, int64_t low, int64_t high,
                    const char* what) {
  if (!root.contains(key)) manifest_error(path, std::string("missing key '") + key + "' (" + what + ")");
  const json& value = root[key];
  if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high)
    manifest_error(path, std::string("'") + key + "' must be an integer from " + std::to_string(low) + " to " +
                             std::to_string(high) + " (" + what + "); got " + value.dump());
  return static_cast<uint32_t>(value.get<int64_t>());
}

}  // namespace

void read_vocoder_manifest(const std::string& path, const json& root, Manifest* manifest) {
  check_manifest_keys(path, root, "", {"kind", "graphs", "sample_rate", "hop_length", "context_frames", "pad_value"});
  if (!root.contains("graphs") || !root["graphs"].is_object()) manifest_error(path, "missing object key 'graphs'");
  check_manifest_keys(path, root["graphs"], " in 'graphs'", {"vocoder"});
  if (!root["graphs"].contains("vocoder") || !root["graphs"]["vocoder"].is_string())
    manifest_error(path, "'graphs' needs the path of the 'vocoder' graph");
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  manifest->graphs.emplace_back("vocoder", (directory / root["graphs"]["vocoder"].get<std::string>()).string());
  VocoderManifest& vocoder = manifest->vocoder;
  vocoder.sample_rate = read_count(path, root, "sample_rate", 1, 1000000, "samples per second");
  vocoder.hop_length = read_count(path, root, "hop_length", 1, 65536, "samples per frame");
  vocoder.context_frames =
      read_count(path, root, "context_frames", 0, 65536, "frames each side an output frame depends on");
  if (root.contains("pad_value")) {
    const json& pad = root["pad_value"];
    const double value = pad.is_number() ? pad.get<double>() : std::nan("");
    if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max())
      manifest_error(path, "'pad_value' must be a finite number (a frame of silence); got " + pad.dump());
    vocoder.pad_value = static_cast<float>(value);
  }
}

PipelineWriter make_vocoder_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  const VocoderManifest& vocoder = manifest.vocoder;
  const IrGraph& graph = graphs[0];
  if (graph.inputs.size() != 1)
    throw ConversionError("the vocoder graph has " + std::to_string(graph.inputs.size()) +
                          " inputs; it needs exactly one (the mel frames [batch, mels, frames])");
  const IrTensor& mel = graph.tensors[static_cast<size_t>(graph.inputs[0])];
  if (mel.dtype != DType::kFloat32 || mel.shape.size() != 3)
    throw ConversionError("the vocoder input '" + mel.name + "' " + shape_to_string(mel.shape) +
                          " must be float32 [batch, mels, frames]");
  const int64_t frames = mel.shape[2];
  if (frames <= 2 * static_cast<int64_t>(vocoder.context_frames))
    throw ConversionError("the vocoder graph is converted for " + std::to_string(frames) + " frames, which leaves none between " +
                          std::to_string(vocoder.context_frames) +
                          " context frames on each side; convert it for more frames (\"dims\" or --dim)");
  if (graph.outputs.empty()) throw ConversionError("the vocoder graph has no output");
  const IrTensor& audio = graph.tensors[static_cast<size_t>(graph.outputs[0])];
  const int64_t samples = frames * vocoder.hop_length;
  const std::vector<int64_t> rank3 = {mel.shape[0], 1, samples}, rank2 = {mel.shape[0], samples};
  if (audio.dtype != DType::kFloat32 || (audio.shape != rank3 && audio.shape != rank2))
    throw ConversionError("the vocoder output '" + audio.name + "' " + shape_to_string(audio.shape) + " must be float32 " +
                          shape_to_string(rank3) + " or " + shape_to_string(rank2) + ": " + std::to_string(frames) +
                          " frames x hop_length " + std::to_string(vocoder.hop_length) +
                          " (is hop_length the graph's total upsampling?)");
  VocoderManifest copy = vocoder;
  return {format::PipelineSpec::VocoderPipeline, [copy](flatbuffers::FlatBufferBuilder& builder) {
            return format::CreateVocoderPipeline(builder, 0, copy.sample_rate, copy.hop_length, copy.context_frames,
                                                 copy.pad_value)
                .Union();
          }};
}

}  // namespace edgegen::converter
