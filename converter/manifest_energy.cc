#include "converter/manifest_energy.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

}  // namespace

void read_energy_manifest(const std::string& path, const json& root, Manifest* manifest) {
  const std::set<std::string> allowed = {"kind", "graphs", "event_shape", "noise_levels", "step_size", "steps_per_level",
                                         "sigma_input"};
  for (const auto& item : root.items())
    if (!allowed.count(item.key()))
      manifest_error(path, "unknown key '" + item.key() +
                             "' (allowed: event_shape, graphs, kind, noise_levels, sigma_input, step_size, steps_per_level)");
  if (!root.contains("graphs") || !root["graphs"].is_object() || !root["graphs"].contains("score") ||
      !root["graphs"]["score"].is_string())
    manifest_error(path, "'graphs' needs the path of the 'score' graph");
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  for (const auto& item : root["graphs"].items()) {
    if (item.key() != "score" && item.key() != "energy")
      manifest_error(path, "unknown key '" + item.key() + "' in 'graphs' (allowed: energy, score)");
    if (!item.value().is_string()) manifest_error(path, "'graphs." + item.key() + "' must be a path");
  }
  manifest->graphs.emplace_back("score", (directory / root["graphs"]["score"].get<std::string>()).string());
  if (root["graphs"].contains("energy"))
    manifest->graphs.emplace_back("energy", (directory / root["graphs"]["energy"].get<std::string>()).string());
  EnergyManifest& energy = manifest->energy;
  if (!root.contains("event_shape") || !root["event_shape"].is_array() || root["event_shape"].empty())
    manifest_error(path, "'event_shape' must be a non-empty list of positive integers");
  for (const auto& dim : root["event_shape"]) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 1)
      manifest_error(path, "'event_shape' must be a non-empty list of positive integers");
    energy.event_shape.push_back(dim.get<int64_t>());
  }
  if (root.contains("noise_levels")) {
    const json& levels = root["noise_levels"];
    if (!levels.is_array()) manifest_error(path, "'noise_levels' must be a list of positive numbers, largest first");
    for (const auto& level : levels) {
      if (!level.is_number() || !(level.get<double>() > 0))
        manifest_error(path, "'noise_levels' must be a list of positive numbers, largest first");
      if (!energy.noise_levels.empty() && level.get<float>() > energy.noise_levels.back())
        manifest_error(path, "'noise_levels' must be in decreasing order (largest first)");
      energy.noise_levels.push_back(level.get<float>());
    }
  }
  if (root.contains("step_size")) {
    if (!root["step_size"].is_number() || !(root["step_size"].get<double>() > 0))
      manifest_error(path, "'step_size' must be a positive number");
    energy.step_size = root["step_size"].get<float>();
  }
  if (root.contains("steps_per_level")) {
    if (!root["steps_per_level"].is_number_integer() || root["steps_per_level"].get<int64_t>() < 1 ||
        root["steps_per_level"].get<int64_t>() > 100000)
      manifest_error(path, "'steps_per_level' must be an integer from 1 to 100000");
    energy.steps_per_level = root["steps_per_level"].get<uint32_t>();
  }
  if (root.contains("sigma_input")) {
    if (!root["sigma_input"].is_string()) manifest_error(path, "'sigma_input' must be the name of a score graph input");
    energy.sigma_input = root["sigma_input"].get<std::string>();
  }
}

PipelineWriter make_energy_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  const EnergyManifest& energy = manifest.energy;
  const IrGraph& score = graphs[0];
  const int64_t dims = shape_product(energy.event_shape, 0);
  int sigma_input = -1;
  if (!energy.sigma_input.empty()) {
    for (size_t i = 0; i < score.inputs.size(); ++i)
      if (score.tensors[static_cast<size_t>(score.inputs[i])].name == energy.sigma_input) sigma_input = static_cast<int>(i);
    if (sigma_input < 0) throw ConversionError("sigma_input '" + energy.sigma_input + "' is not a score graph input");
    const IrTensor& sigma = score.tensors[static_cast<size_t>(score.inputs[static_cast<size_t>(sigma_input)])];
    if (shape_product(sigma.shape, 1) != 1)
      throw ConversionError("the noise-level input '" + sigma.name + "' " + shape_to_string(sigma.shape) +
                            " must hold one value per item ([batch] or [batch, 1])");
  }
  if (score.inputs.size() != (sigma_input < 0 ? 1u : 2u))
    throw ConversionError("the score graph has " + std::to_string(score.inputs.size()) +
                          " inputs; it needs x (and the noise level when sigma_input is given)");
  const int x_input = sigma_input == 0 ? 1 : 0;
  const IrTensor& x = score.tensors[static_cast<size_t>(score.inputs[static_cast<size_t>(x_input)])];
  if (x_input != 0) throw ConversionError("the score graph's first input must be x (the noise level second)");
  if (std::vector<int64_t>(x.shape.begin() + 1, x.shape.end()) != energy.event_shape)
    throw ConversionError("event_shape " + shape_to_string(energy.event_shape) + " does not match the score input '" + x.name +
                          "' " + shape_to_string(x.shape));
  const IrTensor& s = score.tensors[static_cast<size_t>(score.outputs[0])];
  if (shape_product(s.shape, 1) != dims)
    throw ConversionError("the score output '" + s.name + "' " + shape_to_string(s.shape) + " must have x's size");
  bool has_energy = graphs.size() > 1;
  if (has_energy) {
    const IrGraph& e = graphs[1];
    if (e.inputs.size() != 1 || e.outputs.empty() ||
        shape_product(e.tensors[static_cast<size_t>(e.inputs[0])].shape, 1) != dims ||
        shape_product(e.tensors[static_cast<size_t>(e.outputs[0])].shape, 1) != 1)
      throw ConversionError("the energy graph must map x (the event) to one energy per item");
  }
  EnergyManifest copy = energy;
  return {format::PipelineSpec::EnergyPipeline, [copy, has_energy, sigma_input](flatbuffers::FlatBufferBuilder& builder) {
            return format::CreateEnergyPipelineDirect(builder, 0, has_energy ? 1 : 0, has_energy, &copy.event_shape,
                                                      &copy.noise_levels, copy.step_size, copy.steps_per_level,
                                                      sigma_input)
                .Union();
          }};
}

}  // namespace edgegen::converter
