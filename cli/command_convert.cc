// edgegen convert INPUT.onnx|MANIFEST.json -o OUT.egm [--batch N]
//   [--quantize int8 [--calibration FILE.npy|DIR|TEXT.txt] [--calibration-samples N]
//    [--calibration-method minmax|percentile|entropy] [--keep-float NAME,...] [--quality-budget DB]]
//   [--weights float32|fp16] [--input-shape NAME=D0,D1,...]... [--dim SYMBOL=VALUE]...
//   [--tile N [--tile-overlap K]]
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "converter/converter.h"
#include "edgegen/mapped_file.h"
#include "edgegen/model.h"
#include "model_info.h"
#include "npy.h"

namespace edgegen::cli {
namespace {

struct ConvertCommandOptions {
  std::string input_path;
  std::string output_path;
  int batch = 1;
  bool no_fold_batchnorm = false;
  bool no_fuse_activations = false;
  std::string quantize;  // "" or "int8"
  std::string calibration_path;
  int calibration_samples = 0;
  std::string calibration_method = "minmax";
  double calibration_percentile = 99.99;
  std::vector<std::string> keep_float;
  double quality_budget_db = 0;
  std::string weights = "float32";  // or "fp16"
  std::vector<std::string> input_shapes;  // NAME=D0,D1,...
  std::vector<std::string> dims;          // SYMBOL=VALUE
  int64_t tile = 0;
  int64_t tile_overlap = -1;
};

// "A=1,2": a positive integer list after the last '=' (ONNX names may hold
// ':' or '/'; a name with '=' is still split at the last one).
std::pair<std::string, std::vector<int64_t>> parse_assignment(const std::string& text, const std::string& option,
                                                              const std::string& form) {
  const size_t equals = text.rfind('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
    throw CliError(option + " '" + text + "': expected " + form);
  std::vector<int64_t> values;
  std::stringstream list(text.substr(equals + 1));
  std::string item;
  while (std::getline(list, item, ',')) {
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 1)
      throw CliError(option + " '" + text + "': '" + item + "' is not a positive integer (expected " + form + ")");
    values.push_back(value);
  }
  return {text.substr(0, equals), values};
}

void read_shape_options(const ConvertCommandOptions& options, converter::ConvertOptions* convert_options) {
  for (const std::string& text : options.input_shapes) {
    auto [name, dims] = parse_assignment(text, "--input-shape", "NAME=D0,D1,...");
    if (!convert_options->input_shapes.emplace(name, dims).second)
      throw CliError("--input-shape gives '" + name + "' twice");
  }
  for (const std::string& text : options.dims) {
    auto [symbol, value] = parse_assignment(text, "--dim", "SYMBOL=VALUE");
    if (value.size() != 1) throw CliError("--dim '" + text + "': expected one value (SYMBOL=VALUE)");
    if (!convert_options->dims.emplace(symbol, value[0]).second) throw CliError("--dim gives '" + symbol + "' twice");
  }
}

converter::CalibrationArray calibration_array(const std::string& path) {
  NpyArray array = read_npy(path);
  if (array.shape.empty()) throw CliError("calibration file '" + path + "' holds a scalar; expected samples [N, ...]");
  converter::CalibrationArray result;
  result.shape = array.shape;
  result.values = npy_to_float32(array);
  return result;
}

// --calibration FILE.npy: samples of the model's data (or of its one input);
// DIR: NAME.npy per graph input (NAME as in the ONNX graph; "data" for the
// data a pipeline's encoder / flow reads).
std::map<std::string, converter::CalibrationArray> read_calibration(const std::string& path) {
  std::map<std::string, converter::CalibrationArray> inputs;
  if (path.empty()) return inputs;
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(path, error)) {
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.path().extension() == ".npy") inputs[entry.path().stem().string()] = calibration_array(entry.path().string());
    if (inputs.empty()) throw CliError("calibration directory '" + path + "' holds no .npy files");
    return inputs;
  }
  if (!fs::exists(path, error)) throw CliError("calibration data '" + path + "' does not exist");
  inputs["*"] = calibration_array(path);
  inputs["data"] = inputs["*"];
  return inputs;
}

void run_convert(const ConvertCommandOptions& options) {
  converter::ConvertOptions convert_options;
  convert_options.batch = options.batch;
  convert_options.fold_batchnorm = !options.no_fold_batchnorm;
  convert_options.fuse_activations = !options.no_fuse_activations;
  read_shape_options(options, &convert_options);
  convert_options.decoder_tile = options.tile;
  convert_options.tile_overlap = options.tile_overlap;
  converter::QuantizeOptions& quantize = convert_options.quantize;
  quantize.int8 = options.quantize == "int8";
  if (!quantize.int8 && (!options.calibration_path.empty() || !options.keep_float.empty() || options.quality_budget_db > 0))
    throw CliError("--calibration, --keep-float and --quality-budget need --quantize int8");
  quantize.method = options.calibration_method;
  quantize.percentile = options.calibration_percentile;
  quantize.samples = options.calibration_samples;
  quantize.keep_float = options.keep_float;
  quantize.quality_budget_db = options.quality_budget_db;
  // A .txt calibration is text a token decoder's float step graph is run on.
  if (quantize.int8 && std::filesystem::path(options.calibration_path).extension() == ".txt") {
    std::ifstream text(options.calibration_path, std::ios::binary);
    if (!text) throw CliError("calibration text '" + options.calibration_path + "' cannot be opened");
    quantize.calibration_text.assign(std::istreambuf_iterator<char>(text), std::istreambuf_iterator<char>());
  } else if (quantize.int8) {
    quantize.inputs = read_calibration(options.calibration_path);
  }
  convert_options.float16_weights = options.weights == "fp16";
  // Opened first so a bad output path fails before the conversion work.
  AtomicFile output(options.output_path);
  std::vector<std::string> notes;
  // Streamed to the temporary file: a model of several GB is never held
  // twice (the converter's constants go straight to the file).
  uint64_t size = converter::convert(
      options.input_path, convert_options, [&](const void* data, size_t bytes) { output.write(data, bytes); }, &notes);

  // Load what the converter produced as the runtime will, from the written
  // file mapped: a file the runtime rejects is a converter bug and is not
  // committed.
  Result<MappedFile> written = MappedFile::open(output.temporary_path().c_str());
  throw_if_error(written.status(), "cannot read back the converted model");
  Result<Model> model = Model::from_buffer(written.value().data(), written.value().size());
  throw_if_error(model.status(), "the converter produced a model the runtime rejects (a converter bug)");
  ModelInfo info;
  try {
    info = describe_model(model.value());
  } catch (const CliError& error) {
    throw CliError(std::string("the converter produced a model the runtime rejects (a converter bug): ") + error.what());
  }

  output.commit();
  // Warnings (a precision the model loses, ...) go to stderr, the rest of what the converter did to stdout.
  for (const std::string& note : notes) {
    if (note.rfind("warning: ", 0) == 0) std::cerr << "edgegen: " << note << "\n";
    else std::cout << note << "\n";
  }
  std::cout << "wrote " << options.output_path << ": " << info.pipeline_kind << " pipeline, " << model_info_summary(info)
            << ", " << with_thousands(size) << " bytes in all\n";
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto options = std::make_shared<ConvertCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "convert",
      "Convert an ONNX model, or a JSON manifest naming several ONNX graphs and the pipeline they form, to .egm");
  command->add_option("input", options->input_path, "INPUT.onnx or MANIFEST.json")->required();
  command->add_option("-o,--output", options->output_path, "Output model file (.egm)")->required();
  command->add_option("--batch", options->batch, "Batch size to convert for (every graph's batch dimension)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command->add_option("--input-shape", options->input_shapes,
                      "Fix a graph input's shape: NAME=D0,D1,... (repeatable; NAME is the input's exact ONNX name). "
                      "Every shape computation of the graph then folds at convert time")
      ->allow_extra_args(false);
  command->add_option("--dim", options->dims,
                      "Fix a named symbolic dimension wherever a graph input has it: SYMBOL=VALUE (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--tile", options->tile,
                      "Diffusion manifests with a decoder: convert the decoder for N x N latent tiles; the runtime "
                      "decodes the sample tile by tile, blending where tiles overlap, so the arena holds one tile's "
                      "activations instead of the whole picture's (e.g. --tile 32 on a 64 x 64 latent)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  command->add_option("--tile-overlap", options->tile_overlap,
                      "Latent pixels neighbouring tiles share (default: the manifest's \"tile_overlap\", else a "
                      "quarter of the tile)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 16));
  command->add_flag("--no-fold-batchnorm", options->no_fold_batchnorm,
                    "Keep BatchNorm operators instead of folding them into the Conv, ConvTranspose or Gemm before them");
  command->add_flag("--no-fuse-activations", options->no_fuse_activations,
                    "Keep activations as separate operators instead of fusing them into their producers");
  command->add_option("--quantize", options->quantize,
                      "Post-training quantization: int8 weights (symmetric, per output channel) and activations "
                      "(asymmetric, per tensor) for convolutions, transposed convolutions and fully connected layers")
      ->check(CLI::IsMember({"int8"}));
  command->add_option("--calibration", options->calibration_path,
                      "Calibration data: FILE.npy with samples [N, ...] of the data (or of a bare model's one "
                      "input), or DIR with NAME.npy per graph input, or (token decoders) TEXT.txt the float step "
                      "graph is run on; default: generated from the pipeline (decoder latents from the prior)");
  command->add_option("--calibration-samples", options->calibration_samples,
                      "Calibration samples to use (default: all of a file, 256 generated)")
      ->check(CLI::Range(1, 1 << 20));
  command->add_option("--calibration-method", options->calibration_method,
                      "How activation ranges are chosen: minmax, percentile (clips the tails), entropy (KL)")
      ->check(CLI::IsMember({"minmax", "percentile", "entropy"}))
      ->capture_default_str();
  command->add_option("--calibration-percentile", options->calibration_percentile,
                      "Percentage of values the percentile method keeps")
      ->check(CLI::Range(50.0, 100.0))
      ->capture_default_str();
  command->add_option("--weights", options->weights,
                      "Storage of float32 weights: fp16 halves them in the file (rounded to nearest even; constants "
                      "of fewer than 1024 elements, such as biases, stay float32); the runtime widens them to "
                      "float32 at prepare, in the arena. Combines with --quantize int8 for the layers that stay float")
      ->check(CLI::IsMember({"float32", "fp16"}))
      ->capture_default_str();
  command->add_option("--keep-float", options->keep_float,
                      "Operators (ONNX node names) or their output tensors to keep in float32")
      ->delimiter(',');
  command->add_option("--quality-budget", options->quality_budget_db,
                      "Keep the most harmful layers in float32 until every output's SNR against float32 is at "
                      "least this many dB on the calibration data")
      ->check(CLI::Range(0.0, 200.0));
  command->callback([options] { run_convert(*options); });
}

}  // namespace edgegen::cli
