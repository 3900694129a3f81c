// edgegen encode MODEL.egm --input X.npy -o Z.npy [--logvar-out LV.npy]
#include <iostream>
#include <memory>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "file_names.h"
#include "item_files.h"
#include "loaded_model.h"

namespace edgegen::cli {
namespace {

struct EncodeOptions {
  std::string model_path;
  std::string input_path;
  std::string output_path;
  std::string logvar_path;
  SessionOptions runtime;
};

void run_encode(const EncodeOptions& options) {
  if (output_format_of(options.output_path, "-o") != OutputFormat::kNpy)
    throw CliError("-o " + options.output_path + ": latents are written as .npy");
  if (!options.logvar_path.empty() && output_format_of(options.logvar_path, "--logvar-out") != OutputFormat::kNpy)
    throw CliError("--logvar-out " + options.logvar_path + ": log-variances are written as .npy");
  LoadedModel loaded(options.model_path, options.runtime);
  Pipeline& pipeline = loaded.vae_pipeline("encode");
  ItemsFromFile items = read_items(options.input_path, shape_dims(pipeline.item_shape()));
  if (items.count > kMaxItems) throw CliError(options.input_path + ": more than " + std::to_string(kMaxItems) + " items");

  AtomicFile output(options.output_path);
  std::unique_ptr<AtomicFile> logvar_output;
  if (!options.logvar_path.empty()) logvar_output = std::make_unique<AtomicFile>(options.logvar_path);

  size_t latent_floats = checked_float_count(items.count, pipeline.latent_size(), options.input_path);
  std::vector<float> mean(latent_floats), logvar(latent_floats);
  throw_if_error(pipeline.encode(items.values.data(), items.count, mean.data(), logvar.data()), options.model_path);

  std::vector<int64_t> shape = shape_dims(pipeline.latent_shape());
  shape.insert(shape.begin(), static_cast<int64_t>(items.count));
  std::vector<uint8_t> bytes = float32_npy_bytes(shape, mean.data());
  output.write(bytes.data(), bytes.size());
  if (logvar_output) {
    std::vector<uint8_t> logvar_bytes = float32_npy_bytes(shape, logvar.data());
    logvar_output->write(logvar_bytes.data(), logvar_bytes.size());
  }
  output.commit();
  if (logvar_output) logvar_output->commit();
  std::cout << "wrote " << options.output_path << ": posterior means " << format_dims(shape) << "\n";
  if (logvar_output) std::cout << "wrote " << options.logvar_path << ": posterior log-variances " << format_dims(shape) << "\n";
}

}  // namespace

void add_encode_command(CLI::App& app) {
  auto options = std::make_shared<EncodeOptions>();
  CLI::App* command = app.add_subcommand(
      "encode", "Encode items with a VAE's encoder; writes the posterior means (and optionally log-variances).");
  command->add_option("model", options->model_path, "Model file (.egm) with a vae pipeline")->required();
  command->add_option("-i,--input", options->input_path, "X.npy of shape [N, item shape...] (any numeric dtype)")->required();
  command->add_option("-o,--output", options->output_path, "Z.npy: float32 posterior means [N, latent shape...]")->required();
  command->add_option("--logvar-out", options->logvar_path, "LV.npy: float32 posterior log-variances");
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_encode(*options); });
}

}  // namespace edgegen::cli
