#include "converter/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

std::vector<int64_t> read_shape(const std::string& path, const json& value, const std::string& key) {
  if (!value.is_array() || value.empty()) manifest_error(path, "'" + key + "' must be a non-empty list of positive integers");
  std::vector<int64_t> shape;
  for (const auto& dim : value) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 1)
      manifest_error(path, "'" + key + "' must be a non-empty list of positive integers");
    shape.push_back(dim.get<int64_t>());
  }
  return shape;
}

std::string read_choice(const std::string& path, const json& value, const std::string& key,
                        const std::vector<std::string>& choices) {
  std::string list;
  for (const auto& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  if (!value.is_string()) manifest_error(path, "'" + key + "' must be a string (one of: " + list + ")");
  std::string text = value.get<std::string>();
  if (std::find(choices.begin(), choices.end(), text) == choices.end())
    manifest_error(path, "'" + key + "' = '" + text + "' is not supported (supported: " + list + ")");
  return text;
}

// "input_shapes" and "dims", which every kind takes: read, then removed
// from `root` so that each kind's reader checks only its own keys.
void read_shape_settings(const std::string& path, json* root, Manifest* manifest) {
  if (root->contains("input_shapes")) {
    const json& shapes = (*root)["input_shapes"];
    if (!shapes.is_object())
      manifest_error(path, "'input_shapes' must map graph roles to {input name: [dims]} (e.g. {\"decoder\": {\"z\": [1, 64]}})");
    for (const auto& role : shapes.items()) {
      if (!role.value().is_object())
        manifest_error(path, "'input_shapes." + role.key() + "' must map input names to [dims]");
      for (const auto& input : role.value().items())
        manifest->input_shapes[role.key()][input.key()] =
            read_shape(path, input.value(), "input_shapes." + role.key() + "." + input.key());
    }
    root->erase("input_shapes");
  }
  if (root->contains("dims")) {
    const json& dims = (*root)["dims"];
    if (!dims.is_object()) manifest_error(path, "'dims' must map symbolic dimension names to positive integers");
    for (const auto& dim : dims.items()) {
      if (!dim.value().is_number_integer() || dim.value().get<int64_t>() < 1)
        manifest_error(path, "'dims." + dim.key() + "' must be a positive integer");
      manifest->dims[dim.key()] = dim.value().get<int64_t>();
    }
    root->erase("dims");
  }
}

// Shapes for a role the kind has no graph for would be ignored: refuse them.
void check_shape_roles(const std::string& path, const Manifest& manifest) {
  for (const auto& [role, shapes] : manifest.input_shapes) {
    bool known = false;
    std::string roles;
    for (const auto& [graph_role, graph_path] : manifest.graphs) {
      known = known || graph_role == role;
      roles += (roles.empty() ? "" : ", ") + graph_role;
    }
    if (!known) manifest_error(path, "'input_shapes' names the graph '" + role + "', which this manifest does not have (graphs: " + roles + ")");
  }
}

void read_diffusion(const std::string& path, const json& root, Manifest* manifest) {
  read_diffusion_manifest(path, &root, *manifest);
}

// The manifest kinds that have their own reader and writer
// (manifest_<kind>.cc); decoder and vae are read and written in this file.
// Adding a kind: its file and one line here.
struct ManifestKind {
  const char* name;
  void (*read)(const std::string& path, const json& root, Manifest* manifest);
  PipelineWriter (*make)(const Manifest& manifest, const std::vector<IrGraph>& graphs);
};
const ManifestKind kManifestKinds[] = {
    {"flow", read_flow_manifest, make_flow_pipeline},
    {"autoregressive", read_autoregressive_manifest, make_autoregressive_pipeline},
    {"energy", read_energy_manifest, make_energy_pipeline},
    {"diffusion", read_diffusion, make_diffusion_pipeline},
    {"token_decoder", read_token_decoder_manifest, make_token_decoder_pipeline},
    {"vocoder", read_vocoder_manifest, make_vocoder_pipeline},
};

const ManifestKind* find_manifest_kind(const std::string& name) {
  for (const ManifestKind& kind : kManifestKinds)
    if (name == kind.name) return &kind;
  return nullptr;
}

}  // namespace

Manifest read_manifest(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConversionError("cannot open manifest '" + path + "'");
  json root;
  try {
    root = json::parse(file);
  } catch (const json::exception& error) {
    manifest_error(path, std::string("invalid JSON: ") + error.what());
  }
  if (!root.is_object()) manifest_error(path, "must be a JSON object");
  if (!root.contains("kind") || !root["kind"].is_string()) manifest_error(path, "missing string key 'kind'");

  Manifest manifest;
  manifest.kind = root["kind"].get<std::string>();
  read_shape_settings(path, &root, &manifest);
  std::vector<std::string> roles;
  std::set<std::string> allowed = {"kind", "graphs", "latent_shape", "prior", "output_range", "sample_rate"};
  if (manifest.kind == "decoder") {
    roles = {"decoder"};
  } else if (manifest.kind == "vae") {
    roles = {"encoder", "decoder"};
    allowed.insert({"likelihood", "outputs", "output_is_logits", "gaussian_variance"});
  } else if (const ManifestKind* kind = find_manifest_kind(manifest.kind)) {
    kind->read(path, root, &manifest);
    check_shape_roles(path, manifest);
    return manifest;
  } else {
    std::string supported = "decoder, vae";
    for (const ManifestKind& known : kManifestKinds) supported += std::string(", ") + known.name;
    manifest_error(path, "unknown kind '" + manifest.kind + "' (supported: " + supported + ")");
  }
  check_manifest_keys(path, root, "", allowed);

  if (!root.contains("graphs") || !root["graphs"].is_object()) manifest_error(path, "missing object key 'graphs'");
  const json& graphs = root["graphs"];
  check_manifest_keys(path, graphs, " in 'graphs'", std::set<std::string>(roles.begin(), roles.end()));
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  for (const std::string& role : roles) {
    if (!graphs.contains(role) || !graphs[role].is_string())
      manifest_error(path, "'graphs' needs the path of the '" + role + "' graph");
    manifest.graphs.emplace_back(role, (directory / graphs[role].get<std::string>()).string());
  }

  if (!root.contains("latent_shape")) manifest_error(path, "missing key 'latent_shape'");
  manifest.latent_shape = read_shape(path, root["latent_shape"], "latent_shape");
  if (root.contains("prior")) manifest.prior = read_choice(path, root["prior"], "prior", {"normal", "uniform"});
  if (root.contains("output_range")) {
    const json& range = root["output_range"];
    if (!range.is_array() || range.size() != 2 || !range[0].is_number() || !range[1].is_number() ||
        !(range[0].get<double>() < range[1].get<double>()))
      manifest_error(path, "'output_range' must be [low, high] with low < high");
    manifest.output_range = {range[0].get<float>(), range[1].get<float>()};
  }
  if (root.contains("sample_rate")) {
    const json& rate = root["sample_rate"];
    if (!rate.is_number_integer() || rate.get<int64_t>() < 1 || rate.get<int64_t>() > 1000000)
      manifest_error(path, "'sample_rate' must be an integer from 1 to 1000000 (samples per second of the decoder's "
                           "waveform); got " + rate.dump());
    manifest.sample_rate = static_cast<uint32_t>(rate.get<int64_t>());
  }
  if (manifest.kind == "vae") {
    if (root.contains("likelihood"))
      manifest.likelihood = read_choice(path, root["likelihood"], "likelihood", {"bernoulli", "gaussian", "categorical"});
    if (root.contains("outputs")) {
      const json& outputs = root["outputs"];
      if (!outputs.is_object()) manifest_error(path, "'outputs' must map roles to encoder output names");
      check_manifest_keys(path, outputs, " in 'outputs'", {"mean", "logvar"});
      for (const auto& item : outputs.items()) {
        if (!item.value().is_string()) manifest_error(path, "'outputs." + item.key() + "' must be an output name");
        manifest.outputs[item.key()] = item.value().get<std::string>();
      }
    }
    if (root.contains("output_is_logits")) {
      if (!root["output_is_logits"].is_boolean()) manifest_error(path, "'output_is_logits' must be true or false");
      manifest.output_is_logits = root["output_is_logits"].get<bool>();
    }
    if (root.contains("gaussian_variance")) {
      // The file stores a float32: 1e39 is positive but does not fit, 1e-50
      // would become 0.
      const json& variance = root["gaussian_variance"];
      const double value = variance.is_number() ? variance.get<double>() : 0.0;
      if (!(value > 0) || value > std::numeric_limits<float>::max() || !(static_cast<float>(value) > 0))
        manifest_error(path, "'gaussian_variance' must be a positive number that fits float32 (got " + variance.dump() + ")");
      manifest.gaussian_variance = static_cast<float>(value);
    }
    // Settings of the other likelihood would be silently ignored: refuse them.
    if (root.contains("gaussian_variance") && manifest.likelihood != "gaussian")
      manifest_error(path, "'gaussian_variance' applies to the gaussian likelihood only (this manifest's is '" +
                               manifest.likelihood + "')");
    if (root.contains("output_is_logits") && manifest.likelihood == "gaussian")
      manifest_error(path, "'output_is_logits' applies to the bernoulli likelihood only (a gaussian decoder outputs means)");
  }
  check_shape_roles(path, manifest);
  return manifest;
}

PipelineWriter make_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  if (const ManifestKind* kind = find_manifest_kind(manifest.kind)) return kind->make(manifest, graphs);
  auto graph_index = [&](const std::string& role) {
    for (size_t i = 0; i < manifest.graphs.size(); ++i)
      if (manifest.graphs[i].first == role) return static_cast<uint32_t>(i);
    throw ConversionError("internal: no graph for role '" + role + "'");
  };
  const IrGraph& decoder = graphs[graph_index("decoder")];
  if (decoder.inputs.size() != 1)
    throw ConversionError("the decoder graph has " + std::to_string(decoder.inputs.size()) + " inputs; a latent pipeline needs exactly one (z)");
  std::vector<int64_t> z_shape = without_batch(decoder.tensors[static_cast<size_t>(decoder.inputs[0])].shape);
  if (z_shape != manifest.latent_shape)
    throw ConversionError("latent_shape " + shape_to_string(manifest.latent_shape) + " does not match the decoder input '" +
                          decoder.tensors[static_cast<size_t>(decoder.inputs[0])].name + "' shape " + shape_to_string(z_shape) +
                          " (without the batch dimension)");
  format::Prior prior = manifest.prior == "uniform" ? format::Prior::Uniform : format::Prior::Normal;
  if (manifest.sample_rate > 0) {
    // A waveform item is mono: [samples] or [1, samples].
    const IrTensor& generated = decoder.tensors[static_cast<size_t>(decoder.outputs.at(0))];
    const std::vector<int64_t> item = without_batch(generated.shape);
    if (!(item.size() == 1 || (item.size() == 2 && item[0] == 1)))
      throw ConversionError("'sample_rate' says the decoder output is a waveform, but '" + generated.name + "' is " +
                            shape_to_string(generated.shape) + "; a mono waveform is [batch, samples] or [batch, 1, samples]");
  }
  Manifest copy = manifest;

  if (manifest.kind == "decoder") {
    uint32_t decoder_index = graph_index("decoder");
    return {format::PipelineSpec::DecoderPipeline, [copy, decoder_index, prior](flatbuffers::FlatBufferBuilder& builder) {
              return format::CreateDecoderPipelineDirect(builder, decoder_index, &copy.latent_shape, prior,
                                                         copy.output_range.empty() ? nullptr : &copy.output_range,
                                                         copy.sample_rate)
                  .Union();
            }};
  }

  const IrGraph& encoder = graphs[graph_index("encoder")];
  auto output_index = [&](const std::string& role, uint32_t default_index) {
    auto it = manifest.outputs.find(role);
    if (it == manifest.outputs.end()) {
      if (default_index >= encoder.outputs.size())
        throw ConversionError("the encoder has no output " + std::to_string(default_index) + " for '" + role + "'");
      return default_index;
    }
    for (size_t i = 0; i < encoder.outputs.size(); ++i)
      if (encoder.tensors[static_cast<size_t>(encoder.outputs[i])].name == it->second) return static_cast<uint32_t>(i);
    std::string names;
    for (int output : encoder.outputs) names += (names.empty() ? "'" : ", '") + encoder.tensors[static_cast<size_t>(output)].name + "'";
    throw ConversionError("outputs." + role + " = '" + it->second + "' is not an encoder output (outputs: " + names + ")");
  };
  uint32_t mean_output = output_index("mean", 0), logvar_output = output_index("logvar", 1);
  if (mean_output == logvar_output) throw ConversionError("the mean and logvar outputs must differ");
  for (uint32_t index : {mean_output, logvar_output}) {
    const IrTensor& output = encoder.tensors[static_cast<size_t>(encoder.outputs[index])];
    if (without_batch(output.shape) != manifest.latent_shape)
      throw ConversionError("latent_shape " + shape_to_string(manifest.latent_shape) + " does not match encoder output '" +
                            output.name + "' shape " + shape_to_string(without_batch(output.shape)) +
                            " (without the batch dimension)");
  }
  format::Likelihood likelihood = manifest.likelihood == "gaussian"      ? format::Likelihood::Gaussian
                                  : manifest.likelihood == "categorical" ? format::Likelihood::Categorical
                                                                         : format::Likelihood::Bernoulli;
  uint32_t encoder_index = graph_index("encoder"), decoder_index = graph_index("decoder");
  return {format::PipelineSpec::VaePipeline,
          [copy, encoder_index, decoder_index, likelihood, mean_output, logvar_output, prior](flatbuffers::FlatBufferBuilder& builder) {
            return format::CreateVaePipelineDirect(builder, encoder_index, decoder_index, &copy.latent_shape, likelihood,
                                                   mean_output, logvar_output,
                                                   copy.output_range.empty() ? nullptr : &copy.output_range,
                                                   copy.output_is_logits, copy.gaussian_variance, prior,
                                                   copy.sample_rate)
                .Union();
          }};
}

}  // namespace edgegen::converter
