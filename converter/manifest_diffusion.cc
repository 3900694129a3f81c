// Diffusion manifests: a denoiser graph (and an optional latent decoder)
// called by the runtime's sampler loop.
//
//   {"kind": "diffusion", "graphs": {"denoiser": "unet.onnx", "decoder": "vae_dec.onnx"},
//    "inputs": {"sample": "x_t", "timestep": "t", "class": "y"},
//    "schedule": {"type": "linear", "beta_start": 0.0001, "beta_end": 0.02, "train_steps": 1000},
//    "prediction": "epsilon", "sample_shape": [1, 16, 16], "output_range": [-1, 1],
//    "num_classes": 10, "null_class": 10}
//
// schedule.type: linear | scaled_linear | cosine (alias squaredcos_cap_v2) |
// explicit (with "alphas_cumprod": [train_steps floats, strictly decreasing
// in (0, 1)]). prediction: epsilon | v_prediction | sample.
#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "converter/converter.h"
#include "converter/manifest.h"
#include "converter/manifest_checks.h"

namespace edgegen::converter {
namespace {

using nlohmann::json;

std::string choice(const std::string& path, const json& value, const std::string& key,
                   const std::set<std::string>& choices) {
  if (!value.is_string() || !choices.count(value.get<std::string>()))
    manifest_error(path, "'" + key + "' = " + value.dump() + " is not supported (supported: " + join_names(choices) + ")");
  return value.get<std::string>();
}

double number_in(const std::string& path, const json& value, const std::string& key, double low, double high) {
  if (!value.is_number() || !(value.get<double>() > low) || !(value.get<double>() < high))
    manifest_error(path, "'" + key + "' must be a number in (" + std::to_string(low) + ", " + std::to_string(high) + ")");
  return value.get<double>();
}

int64_t integer_in(const std::string& path, const json& value, const std::string& key, int64_t low, int64_t high) {
  if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high)
    manifest_error(path, "'" + key + "' must be an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
  return value.get<int64_t>();
}

void read_schedule(const std::string& path, const json& value, Manifest::Diffusion& diffusion) {
  if (!value.is_object()) manifest_error(path, "'schedule' must be an object with a 'type'");
  if (!value.contains("type")) manifest_error(path, "'schedule' needs a 'type' (linear, scaled_linear, cosine, explicit)");
  std::string type = choice(path, value["type"], "schedule.type",
                            {"linear", "scaled_linear", "cosine", "squaredcos_cap_v2", "explicit"});
  if (type == "squaredcos_cap_v2") type = "cosine";
  diffusion.schedule = type;
  constexpr int64_t kMaxTrainSteps = 100000;
  if (type == "linear" || type == "scaled_linear") {
    check_manifest_keys(path, value, " in 'schedule' of type " + type, {"type", "beta_start", "beta_end", "train_steps"});
    if (value.contains("beta_start"))
      diffusion.beta_start = static_cast<float>(number_in(path, value["beta_start"], "schedule.beta_start", 0, 1));
    if (value.contains("beta_end"))
      diffusion.beta_end = static_cast<float>(number_in(path, value["beta_end"], "schedule.beta_end", 0, 1));
    if (!(diffusion.beta_start < diffusion.beta_end))
      manifest_error(path, "'schedule.beta_start' must be smaller than 'schedule.beta_end'");
  } else if (type == "cosine") {
    check_manifest_keys(path, value, " in 'schedule' of type cosine", {"type", "train_steps"});
  } else {
    check_manifest_keys(path, value, " in 'schedule' of type explicit", {"type", "alphas_cumprod", "train_steps"});
    if (!value.contains("alphas_cumprod") || !value["alphas_cumprod"].is_array() || value["alphas_cumprod"].size() < 2)
      manifest_error(path, "an explicit schedule needs 'alphas_cumprod': a list of at least 2 numbers");
    double previous = 1.0;
    for (size_t i = 0; i < value["alphas_cumprod"].size(); ++i) {
      const json& item = value["alphas_cumprod"][i];
      if (!item.is_number() || !(item.get<double>() > 0) || !(item.get<double>() < previous) ||
          (i == 0 && !(item.get<double>() <= 1)))
        manifest_error(path, "'schedule.alphas_cumprod[" + std::to_string(i) +
                       "]' must be a number in (0, 1], strictly smaller than the one before");
      previous = item.get<double>();
      diffusion.alphas_cumprod.push_back(static_cast<float>(previous));
    }
    diffusion.train_steps = static_cast<uint32_t>(diffusion.alphas_cumprod.size());
    if (value.contains("train_steps") &&
        integer_in(path, value["train_steps"], "schedule.train_steps", 2, kMaxTrainSteps) != diffusion.train_steps)
      manifest_error(path, "'schedule.train_steps' must equal the length of 'schedule.alphas_cumprod' (" +
                     std::to_string(diffusion.train_steps) + ")");
    return;
  }
  if (value.contains("train_steps"))
    diffusion.train_steps =
        static_cast<uint32_t>(integer_in(path, value["train_steps"], "schedule.train_steps", 2, kMaxTrainSteps));
}

// The index of the graph input called `name`; the message lists the inputs.
uint32_t input_index(const IrGraph& graph, const std::string& name, const std::string& role) {
  std::string names;
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const std::string& input = graph.tensors[static_cast<size_t>(graph.inputs[i])].name;
    if (input == name) return static_cast<uint32_t>(i);
    names += (names.empty() ? "'" : ", '") + input + "'";
  }
  throw ConversionError("inputs." + role + " = '" + name + "' is not an input of the denoiser (inputs: " + names + ")");
}

}  // namespace

void read_diffusion_manifest(const std::string& path, const void* json_root, Manifest& manifest) {
  const json& root = *static_cast<const json*>(json_root);
  check_manifest_keys(path, root, "",
             {"kind", "graphs", "inputs", "schedule", "prediction", "sample_shape", "output_range", "num_classes",
              "null_class"});
  Manifest::Diffusion& diffusion = manifest.diffusion;

  if (!root.contains("graphs") || !root["graphs"].is_object()) manifest_error(path, "missing object key 'graphs'");
  const json& graphs = root["graphs"];
  check_manifest_keys(path, graphs, " in 'graphs'", {"denoiser", "decoder"});
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  for (const std::string role : {"denoiser", "decoder"}) {
    if (!graphs.contains(role)) {
      if (role == "denoiser") manifest_error(path, "'graphs' needs the path of the 'denoiser' graph");
      continue;
    }
    if (!graphs[role].is_string()) manifest_error(path, "'graphs." + role + "' must be a path");
    manifest.graphs.emplace_back(role, (directory / graphs[role].get<std::string>()).string());
  }

  if (root.contains("inputs")) {
    const json& inputs = root["inputs"];
    if (!inputs.is_object()) manifest_error(path, "'inputs' must map roles (sample, timestep, class) to denoiser input names");
    check_manifest_keys(path, inputs, " in 'inputs'", {"sample", "timestep", "class"});
    for (const auto& item : inputs.items()) {
      if (!item.value().is_string()) manifest_error(path, "'inputs." + item.key() + "' must be an input name");
      diffusion.inputs[item.key()] = item.value().get<std::string>();
    }
  }

  if (!root.contains("schedule")) manifest_error(path, "missing key 'schedule'");
  read_schedule(path, root["schedule"], diffusion);
  if (root.contains("prediction"))
    diffusion.prediction = choice(path, root["prediction"], "prediction", {"epsilon", "v_prediction", "sample"});

  if (!root.contains("sample_shape")) manifest_error(path, "missing key 'sample_shape' (one sample, without the batch dimension)");
  const json& shape = root["sample_shape"];
  if (!shape.is_array() || shape.empty()) manifest_error(path, "'sample_shape' must be a non-empty list of positive integers");
  for (const auto& dim : shape) {
    if (!dim.is_number_integer() || dim.get<int64_t>() < 1)
      manifest_error(path, "'sample_shape' must be a non-empty list of positive integers");
    diffusion.sample_shape.push_back(dim.get<int64_t>());
  }
  manifest.latent_shape = diffusion.sample_shape;

  if (root.contains("output_range")) {
    const json& range = root["output_range"];
    if (!range.is_array() || range.size() != 2 || !range[0].is_number() || !range[1].is_number() ||
        !(range[0].get<double>() < range[1].get<double>()))
      manifest_error(path, "'output_range' must be [low, high] with low < high");
    manifest.output_range = {range[0].get<float>(), range[1].get<float>()};
  }

  bool has_class = diffusion.inputs.count("class") != 0;
  if (root.contains("num_classes"))
    diffusion.num_classes = static_cast<uint32_t>(integer_in(path, root["num_classes"], "num_classes", 1, 1 << 24));
  if (root.contains("null_class"))
    diffusion.null_class = static_cast<int32_t>(integer_in(path, root["null_class"], "null_class", 0, 1 << 24));
  if (has_class && diffusion.num_classes == 0)
    manifest_error(path, "a denoiser with a 'class' input needs 'num_classes'");
  if (!has_class && (root.contains("num_classes") || root.contains("null_class")))
    manifest_error(path, "'num_classes' and 'null_class' need a 'class' entry in 'inputs'");
  if (diffusion.null_class > static_cast<int32_t>(diffusion.num_classes))
    manifest_error(path, "'null_class' must be in [0, num_classes] (num_classes = " + std::to_string(diffusion.num_classes) + ")");
}

PipelineWriter make_diffusion_pipeline(const Manifest& manifest, const std::vector<IrGraph>& graphs) {
  const Manifest::Diffusion& diffusion = manifest.diffusion;
  const IrGraph& denoiser = graphs[0];
  const size_t num_inputs = denoiser.inputs.size();
  auto resolve = [&](const std::string& role, int64_t position) -> int64_t {
    auto it = diffusion.inputs.find(role);
    if (it != diffusion.inputs.end()) return input_index(denoiser, it->second, role);
    return position < static_cast<int64_t>(num_inputs) ? position : -1;
  };
  // Without "inputs", the denoiser's inputs are (sample, timestep[, class]) in order.
  int64_t sample = resolve("sample", 0), timestep = resolve("timestep", 1);
  int64_t klass = diffusion.inputs.count("class") ? resolve("class", 2) : -1;
  if (sample < 0 || timestep < 0)
    throw ConversionError("the denoiser has " + std::to_string(num_inputs) +
                          " inputs; it needs at least a sample and a timestep");
  if (sample == timestep || (klass >= 0 && (klass == sample || klass == timestep)))
    throw ConversionError("inputs.sample, inputs.timestep and inputs.class must name different denoiser inputs");
  size_t used = 2 + (klass >= 0 ? 1 : 0);
  if (num_inputs != used)
    throw ConversionError("the denoiser has " + std::to_string(num_inputs) + " inputs but the manifest wires " +
                          std::to_string(used) + " (sample, timestep" + (klass >= 0 ? ", class" : "") + ")");

  auto tensor_of = [&](int64_t input) -> const IrTensor& {
    return denoiser.tensors[static_cast<size_t>(denoiser.inputs[static_cast<size_t>(input)])];
  };
  const IrTensor& x = tensor_of(sample);
  if (x.dtype != DType::kFloat32 || without_batch(x.shape) != diffusion.sample_shape)
    throw ConversionError("sample_shape " + shape_to_string(diffusion.sample_shape) + " does not match the denoiser input '" +
                          x.name + "' shape " + shape_to_string(without_batch(x.shape)) +
                          " (without the batch dimension; float32 expected)");
  if (denoiser.outputs.empty() ||
      without_batch(denoiser.tensors[static_cast<size_t>(denoiser.outputs[0])].shape) != diffusion.sample_shape)
    throw ConversionError("the denoiser's first output must have the sample shape " +
                          shape_to_string(diffusion.sample_shape) + " (without the batch dimension)");
  for (auto [input, role] : {std::pair<int64_t, const char*>{timestep, "timestep"}, {klass, "class"}}) {
    if (input < 0) continue;
    const IrTensor& tensor = tensor_of(input);
    bool dtype_ok = tensor.dtype == DType::kFloat32 || tensor.dtype == DType::kInt64 || tensor.dtype == DType::kInt32;
    if (!dtype_ok || tensor.shape.empty() || shape_product(without_batch(tensor.shape)) != 1)
      throw ConversionError(std::string("the ") + role + " input '" + tensor.name + "' must hold one float32, int32 or int64 value per item, shape [batch] (it is " +
                            shape_to_string(tensor.shape) + ")");
  }
  bool has_decoder = graphs.size() == 2;
  if (has_decoder) {
    const IrGraph& decoder = graphs[1];
    if (decoder.inputs.size() != 1)
      throw ConversionError("the decoder graph must have exactly one input (the final sample)");
    const IrTensor& z = decoder.tensors[static_cast<size_t>(decoder.inputs[0])];
    if (without_batch(z.shape) != diffusion.sample_shape)
      throw ConversionError("sample_shape " + shape_to_string(diffusion.sample_shape) + " does not match the decoder input '" +
                            z.name + "' shape " + shape_to_string(without_batch(z.shape)));
  }

  format::NoiseScheduleKind kind = diffusion.schedule == "scaled_linear" ? format::NoiseScheduleKind::ScaledLinear
                                   : diffusion.schedule == "cosine"      ? format::NoiseScheduleKind::Cosine
                                   : diffusion.schedule == "explicit"    ? format::NoiseScheduleKind::Explicit
                                                                         : format::NoiseScheduleKind::Linear;
  format::DiffusionPrediction prediction = diffusion.prediction == "v_prediction" ? format::DiffusionPrediction::VPrediction
                                           : diffusion.prediction == "sample"     ? format::DiffusionPrediction::Sample
                                                                                  : format::DiffusionPrediction::Epsilon;
  Manifest copy = manifest;
  return {format::PipelineSpec::DiffusionPipeline,
          [copy, has_decoder, sample, timestep, klass, kind, prediction](flatbuffers::FlatBufferBuilder& builder) {
            const Manifest::Diffusion& d = copy.diffusion;
            auto schedule = format::CreateNoiseScheduleDirect(builder, kind, d.beta_start, d.beta_end, d.train_steps,
                                                               d.alphas_cumprod.empty() ? nullptr : &d.alphas_cumprod);
            return format::CreateDiffusionPipelineDirect(
                       builder, /*denoiser_graph=*/0, /*decoder_graph=*/has_decoder ? 1 : 0, has_decoder,
                       static_cast<uint32_t>(sample), static_cast<uint32_t>(timestep), static_cast<int32_t>(klass),
                       schedule, prediction, &d.sample_shape, copy.output_range.empty() ? nullptr : &copy.output_range,
                       d.num_classes, d.null_class)
                .Union();
          }};
}

}  // namespace edgegen::converter
