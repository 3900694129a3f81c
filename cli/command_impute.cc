// edgegen impute MODEL.egm --input PARTIAL.npy -o FILLED.npy [--seed S] [--temperature T] [--top-k K]
//
// Fills the missing entries (NaN) of each row of PARTIAL.npy with a model
// that can impute (today the autoregressive ones): each missing x_d is drawn from p(x_d | x_<d) given
// the observed and already filled earlier entries. Observed entries are kept.
#include <cmath>
#include <iostream>
#include <memory>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "edgegen/program.h"
#include "item_files.h"
#include "loaded_model.h"
#include "npy.h"

namespace edgegen::cli {
namespace {

struct ImputeOptions {
  std::string model_path, input_path, output_path;
  uint64_t seed = 0;
  float temperature = 1.f;
  uint32_t top_k = 0;
  SessionOptions runtime;
};

void run_impute(const ImputeOptions& options) {
  if (output_format_of(options.output_path, "-o") != OutputFormat::kNpy) throw CliError("-o: impute writes .npy");
  LoadedModel loaded(options.model_path, options.runtime);
  if (!loaded.module().declares(Capability::kImpute))
    throw CliError(options.model_path + ": impute needs an " + kinds_declaring(Capability::kImpute) +
                   " model; this one is a '" + std::string(pipeline_kind_name(loaded.module().kind())) + "' pipeline");
  Program& model = loaded.program(Capability::kImpute);
  NpyArray array = read_npy(options.input_path);
  std::vector<float> rows = npy_to_float32(array);
  if (rows.empty() || rows.size() % model.event_size() != 0)
    throw CliError(options.input_path + ": " + std::to_string(rows.size()) + " values are not whole rows of " +
                   std::to_string(model.event_size()));
  const size_t count = rows.size() / model.event_size();
  size_t missing = 0;
  for (float value : rows) missing += std::isnan(value);
  AtomicFile output(options.output_path);
  SamplingOptions sample;
  sample.seed = options.seed;
  sample.temperature = options.temperature;
  sample.top_k = options.top_k;
  throw_if_error(model.impute(sample, count, rows.data()), options.model_path);
  std::vector<int64_t> shape = shape_dims(model.event_shape());
  shape.insert(shape.begin(), static_cast<int64_t>(count));
  std::vector<uint8_t> bytes = float32_npy_bytes(shape, rows.data());
  output.write(bytes.data(), bytes.size());
  output.commit();
  std::cout << "wrote " << options.output_path << ": " << count << " rows, " << missing << " missing entries filled\n";
}

}  // namespace

void add_impute_command(CLI::App& app) {
  auto options = std::make_shared<ImputeOptions>();
  CLI::App* command = app.add_subcommand(
      "impute", "Fill the missing (NaN) entries of rows with an autoregressive model, in the model's order");
  command->add_option("model", options->model_path, "Model file (.egm) with an autoregressive pipeline")->required();
  command->add_option("--input", options->input_path, "Rows (.npy, NaN = missing)")->required();
  command->add_option("-o,--output", options->output_path, "Filled rows (.npy float32)")->required();
  command->add_option("-s,--seed", options->seed, "Random seed")->capture_default_str();
  command->add_option("-t,--temperature", options->temperature, "Sampling temperature (0 = most likely value)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str();
  command->add_option("--top-k", options->top_k, "Categorical only: draw among the k most likely values (0 = all)");
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_impute(*options); });
}

}  // namespace edgegen::cli
