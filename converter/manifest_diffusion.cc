// Diffusion manifests: a denoiser graph (and an optional latent decoder and
// encoder) called by the runtime's sampler loop.
//
//   {"kind": "diffusion", "graphs": {"denoiser": "unet.onnx", "decoder": "vae_dec.onnx"},
//    "inputs": {"sample": "x_t", "timestep": "t", "class": "y"},
//    "schedule": {"type": "linear", "beta_start": 0.0001, "beta_end": 0.02, "train_steps": 1000},
//    "prediction": "epsilon", "sample_shape": [1, 16, 16], "output_range": [-1, 1],
//    "num_classes": 10, "null_class": 10}
//
// Latent diffusion adds "graphs.encoder" (picture -> latent mean, for img2img
// and latent in-painting), "latent_scale" (sampled latents = mean *
// latent_scale, Stable Diffusion's 0.18215), "inputs.context" (a denoiser
// input [batch, tokens, dim]) with "unconditional_context" (a .npy path or
// nested lists, [tokens, dim]) and "tile_overlap" (latent pixels): a decoder
// converted for a smaller latent than sample_shape decodes tile by tile.
//
// schedule.type: linear | scaled_linear | cosine (alias squaredcos_cap_v2) |
// explicit (with "alphas_cumprod": [train_steps floats, strictly decreasing
// in (0, 1)]). prediction: epsilon | v_prediction | sample.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// A little-endian float32, C-order .npy file (NumPy format 1.0-3.0): the
// converter's only use of .npy is a stored context, so only that is read.
std::vector<float> read_float32_npy(const std::string& manifest, const std::string& file, std::vector<int64_t>* shape) {
  std::ifstream in(file, std::ios::binary);
  if (!in) manifest_error(manifest, "cannot open '" + file + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto fail = [&](const std::string& why) { manifest_error(manifest, "'" + file + "' is not a float32 .npy: " + why); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("no .npy magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) | static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    header_start = 10;
  } else if ((major == 2 || major == 3) && bytes.size() >= 12) {
    for (int i = 0; i < 4; ++i) header_length |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    fail("unknown format version");
  }
  if (header_start + header_length > bytes.size()) fail("truncated header");
  std::string header = bytes.substr(header_start, header_length);
  if (header.find("'<f4'") == std::string::npos) fail("the dtype must be '<f4'");
  if (header.find("'fortran_order': False") == std::string::npos) fail("only C order is read");
  size_t open = header.find("'shape': ("), close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) fail("no shape");
  shape->clear();
  size_t count = 1;
  for (size_t at = open + 10; at < close;) {
    while (at < close && (header[at] == ' ' || header[at] == ',')) ++at;
    if (at >= close) break;
    char* end = nullptr;
    long long dim = std::strtoll(header.c_str() + at, &end, 10);
    if (end == header.c_str() + at || dim < 1 || dim > (1 << 24)) fail("bad shape");
    shape->push_back(dim);
    count *= static_cast<size_t>(dim);
    if (count > (size_t{1} << 24)) fail("too large for a context");
    at = static_cast<size_t>(end - header.c_str());
  }
  const size_t data_start = header_start + header_length;
  if (bytes.size() - data_start != count * sizeof(float)) fail("the data is not shape-product float32 values");
  std::vector<float> values(count);
  std::memcpy(values.data(), bytes.data() + data_start, count * sizeof(float));
  return values;
}

// "unconditional_context": a .npy path (relative to the manifest) or nested
// lists, [tokens, dim] or [1, tokens, dim]; stored without the leading 1.
void read_unconditional_context(const std::string& path, const json& value, Manifest::Diffusion& diffusion) {
  std::vector<int64_t> shape;
  std::vector<float> values;
  if (value.is_string()) {
    values = read_float32_npy(path, (std::filesystem::path(path).parent_path() / value.get<std::string>()).string(), &shape);
  } else if (value.is_array() && !value.empty() && value[0].is_array()) {
    shape = {static_cast<int64_t>(value.size()), static_cast<int64_t>(value[0].size())};
    for (const auto& row : value) {
      if (!row.is_array() || row.size() != value[0].size())
        manifest_error(path, "'unconditional_context' must be [tokens, dim] lists of numbers of one length");
      for (const auto& number : row) {
        if (!number.is_number() || !std::isfinite(number.get<double>()))
          manifest_error(path, "'unconditional_context' must hold finite numbers");
        values.push_back(number.get<float>());
      }
    }
  } else {
    manifest_error(path, "'unconditional_context' must be a .npy path or [tokens, dim] lists of numbers");
  }
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2 || values.empty())
    manifest_error(path, "'unconditional_context' must have the shape [tokens, dim] (or [1, tokens, dim]); it is " +
                   shape_to_string(shape));
  for (float v : values)
    if (!std::isfinite(v)) manifest_error(path, "'unconditional_context' must hold finite numbers");
  diffusion.unconditional_context = std::move(values);
  diffusion.unconditional_context_shape = shape;
}

}  // namespace

void read_diffusion_manifest(const std::string& path, const void* json_root, Manifest& manifest) {
  const json& root = *static_cast<const json*>(json_root);
  check_manifest_keys(path, root, "",
             {"kind", "graphs", "inputs", "schedule", "prediction", "sample_shape", "output_range", "num_classes",
              "null_class", "latent_scale", "unconditional_context", "tile_overlap"});
  Manifest::Diffusion& diffusion = manifest.diffusion;

  if (!root.contains("graphs") || !root["graphs"].is_object()) manifest_error(path, "missing object key 'graphs'");
  const json& graphs = root["graphs"];
  check_manifest_keys(path, graphs, " in 'graphs'", {"denoiser", "decoder", "encoder"});
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  for (const std::string role : {"denoiser", "decoder", "encoder"}) {
    if (!graphs.contains(role)) {
      if (role == "denoiser") manifest_error(path, "'graphs' needs the path of the 'denoiser' graph");
      continue;
    }
    if (!graphs[role].is_string()) manifest_error(path, "'graphs." + role + "' must be a path");
    manifest.graphs.emplace_back(role, (directory / graphs[role].get<std::string>()).string());
  }

  if (root.contains("inputs")) {
    const json& inputs = root["inputs"];
    if (!inputs.is_object())
      manifest_error(path, "'inputs' must map roles (sample, timestep, class, context) to denoiser input names");
    check_manifest_keys(path, inputs, " in 'inputs'", {"sample", "timestep", "class", "context"});
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

  if (root.contains("latent_scale"))
    diffusion.latent_scale = static_cast<float>(number_in(path, root["latent_scale"], "latent_scale", 0, 1e6));
  if (root.contains("latent_scale") && !graphs.contains("decoder"))
    manifest_error(path, "'latent_scale' needs a 'decoder' graph (it scales the latents the decoder reads)");
  if (graphs.contains("encoder") && !graphs.contains("decoder"))
    manifest_error(path, "an 'encoder' graph needs a 'decoder' graph (latent diffusion has both)");
  if (root.contains("tile_overlap")) {
    if (!graphs.contains("decoder")) manifest_error(path, "'tile_overlap' needs a 'decoder' graph");
    diffusion.tile_overlap = integer_in(path, root["tile_overlap"], "tile_overlap", 0, 1 << 16);
  }
  const bool has_context = diffusion.inputs.count("context") != 0;
  if (root.contains("unconditional_context")) {
    if (!has_context) manifest_error(path, "'unconditional_context' needs a 'context' entry in 'inputs'");
    read_unconditional_context(path, root["unconditional_context"], diffusion);
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
  int64_t context = diffusion.inputs.count("context") ? resolve("context", 3) : -1;
  if (sample < 0 || timestep < 0)
    throw ConversionError("the denoiser has " + std::to_string(num_inputs) +
                          " inputs; it needs at least a sample and a timestep");
  std::set<int64_t> wired{sample, timestep};
  if (klass >= 0) wired.insert(klass);
  if (context >= 0) wired.insert(context);
  const size_t used = 2 + (klass >= 0 ? 1 : 0) + (context >= 0 ? 1 : 0);
  if (wired.size() != used)
    throw ConversionError("inputs.sample, inputs.timestep, inputs.class and inputs.context must name different denoiser inputs");
  if (num_inputs != used)
    throw ConversionError("the denoiser has " + std::to_string(num_inputs) + " inputs but the manifest wires " +
                          std::to_string(used) + " (sample, timestep" + (klass >= 0 ? ", class" : "") +
                          (context >= 0 ? ", context" : "") + ")");

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
  if (context >= 0) {
    const IrTensor& tensor = tensor_of(context);
    if (tensor.dtype != DType::kFloat32 || tensor.shape.size() != 3)
      throw ConversionError("the context input '" + tensor.name + "' must be float32 [batch, tokens, dim] (it is " +
                            shape_to_string(tensor.shape) + ")");
    if (!diffusion.unconditional_context_shape.empty() &&
        diffusion.unconditional_context_shape != without_batch(tensor.shape))
      throw ConversionError("unconditional_context has the shape " +
                            shape_to_string(diffusion.unconditional_context_shape) + " but the context input '" +
                            tensor.name + "' takes " + shape_to_string(without_batch(tensor.shape)) + " per item");
  }
  const bool has_decoder = graphs.size() >= 2, has_encoder = graphs.size() == 3;
  std::vector<int64_t> picture;  // the decoder's output for the whole sample
  uint32_t tile_overlap = 0;
  if (has_decoder) {
    const IrGraph& decoder = graphs[1];
    if (decoder.inputs.size() != 1 || decoder.outputs.empty())
      throw ConversionError("the decoder graph must have exactly one input (the final sample)");
    const IrTensor& z = decoder.tensors[static_cast<size_t>(decoder.inputs[0])];
    const IrTensor& out = decoder.tensors[static_cast<size_t>(decoder.outputs[0])];
    const std::vector<int64_t> tile = without_batch(z.shape), tile_out = without_batch(out.shape);
    const std::vector<int64_t>& full = diffusion.sample_shape;
    picture = tile_out;
    if (tile != full) {
      // A decoder converted for a smaller latent tile [C, h, w] of a [C, H, W]
      // sample runs tile by tile: its output [C', f h, f w] must scale evenly.
      const bool tileable = tile.size() == 3 && full.size() == 3 && tile_out.size() == 3 && tile[0] == full[0] &&
                            tile[1] <= full[1] && tile[2] <= full[2] && tile_out[1] % tile[1] == 0 &&
                            tile_out[2] % tile[2] == 0 && tile_out[1] / tile[1] == tile_out[2] / tile[2];
      if (!tileable)
        throw ConversionError("sample_shape " + shape_to_string(full) + " does not match the decoder input '" + z.name +
                              "' shape " + shape_to_string(tile) +
                              " (without the batch dimension); a decoder for tiles needs [C, h, w] with h, w no larger "
                              "than the sample's and an output [C', f h, f w]");
      const int64_t factor = tile_out[1] / tile[1];
      picture = {tile_out[0], full[1] * factor, full[2] * factor};
      const int64_t overlap = diffusion.tile_overlap >= 0 ? diffusion.tile_overlap : std::min(tile[1], tile[2]) / 4;
      if ((tile[1] < full[1] && overlap >= tile[1]) || (tile[2] < full[2] && overlap >= tile[2]))
        throw ConversionError("tile_overlap " + std::to_string(overlap) + " must be smaller than the decoder's tile " +
                              shape_to_string(tile));
      tile_overlap = static_cast<uint32_t>(overlap);
    }
  }
  if (has_encoder) {
    const IrGraph& encoder = graphs[2];
    if (encoder.inputs.size() != 1 || encoder.outputs.empty())
      throw ConversionError("the encoder graph must have one input (the picture) and the latent mean as its first output");
    const IrTensor& image = encoder.tensors[static_cast<size_t>(encoder.inputs[0])];
    const IrTensor& mean = encoder.tensors[static_cast<size_t>(encoder.outputs[0])];
    if (image.dtype != DType::kFloat32 || without_batch(image.shape) != picture)
      throw ConversionError("the encoder input '" + image.name + "' has the shape " +
                            shape_to_string(without_batch(image.shape)) + " but the decoder makes pictures of " +
                            shape_to_string(picture) + " (without the batch dimension; float32 expected)");
    if (mean.dtype != DType::kFloat32 || without_batch(mean.shape) != diffusion.sample_shape)
      throw ConversionError("the encoder output '" + mean.name + "' has the shape " +
                            shape_to_string(without_batch(mean.shape)) + " but sample_shape is " +
                            shape_to_string(diffusion.sample_shape));
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
          [copy, has_decoder, has_encoder, tile_overlap, sample, timestep, klass, context, kind,
           prediction](flatbuffers::FlatBufferBuilder& builder) {
            const Manifest::Diffusion& d = copy.diffusion;
            auto schedule = format::CreateNoiseScheduleDirect(builder, kind, d.beta_start, d.beta_end, d.train_steps,
                                                               d.alphas_cumprod.empty() ? nullptr : &d.alphas_cumprod);
            return format::CreateDiffusionPipelineDirect(
                       builder, /*denoiser_graph=*/0, /*decoder_graph=*/has_decoder ? 1 : 0, has_decoder,
                       static_cast<uint32_t>(sample), static_cast<uint32_t>(timestep), static_cast<int32_t>(klass),
                       schedule, prediction, &d.sample_shape, copy.output_range.empty() ? nullptr : &copy.output_range,
                       d.num_classes, d.null_class, /*encoder_graph=*/has_encoder ? 2 : 0, has_encoder,
                       d.latent_scale, static_cast<int32_t>(context),
                       d.unconditional_context.empty() ? nullptr : &d.unconditional_context,
                       tile_overlap)
                .Union();
          }};
}

}  // namespace edgegen::converter
