// edgegen reconstruct MODEL.egm --input X.npy -o OUT.png|OUT.npy
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

struct ReconstructOptions {
  std::string model_path;
  std::string input_path;
  std::string output_path;
  GridOptions grid;
  SessionOptions runtime;
};

void run_reconstruct(ReconstructOptions options) {
  OutputFormat format = output_format_of(options.output_path, "-o");
  LoadedModel loaded(options.model_path, options.runtime);
  Pipeline& pipeline = loaded.vae_pipeline("reconstruct");
  std::vector<int64_t> item_shape = shape_dims(pipeline.item_shape());
  if (format == OutputFormat::kPng) item_layout_from_shape(item_shape);
  ItemsFromFile items = read_items(options.input_path, item_shape);
  if (items.count > kMaxItems) throw CliError(options.input_path + ": more than " + std::to_string(kMaxItems) + " items");
  AtomicFile output(options.output_path);

  size_t item_size = pipeline.item_size();
  std::vector<float> reconstructions(checked_float_count(items.count, item_size, options.input_path));
  std::vector<float> latents(checked_float_count(items.count, pipeline.latent_size(), options.input_path));
  throw_if_error(pipeline.reconstruct(items.values.data(), items.count, reconstructions.data(), latents.data()),
                 options.model_path);

  std::vector<uint8_t> bytes;
  if (format == OutputFormat::kNpy) {
    bytes = encode_items(format, reconstructions.data(), items.count, item_shape, options.grid);
  } else {
    // Original and reconstruction side by side, pairs laid out in a near-square grid.
    std::vector<float> pairs;
    pairs.reserve(2 * reconstructions.size());
    for (size_t i = 0; i < items.count; ++i) {
      pairs.insert(pairs.end(), items.values.begin() + i * item_size, items.values.begin() + (i + 1) * item_size);
      pairs.insert(pairs.end(), reconstructions.begin() + i * item_size, reconstructions.begin() + (i + 1) * item_size);
    }
    size_t pair_columns = 1;
    while (pair_columns * pair_columns < items.count) ++pair_columns;
    options.grid.columns = static_cast<int>(2 * pair_columns);
    options.grid.low = pipeline.output_low();
    options.grid.high = pipeline.output_high();
    bytes = encode_items(format, pairs.data(), 2 * items.count, item_shape, options.grid);
  }
  output.write(bytes.data(), bytes.size());
  output.commit();
  std::cout << "wrote " << options.output_path << ": " << items.count << " reconstructions"
            << (format == OutputFormat::kPng ? " (each beside its original)" : "") << "\n";
}

}  // namespace

void add_reconstruct_command(CLI::App& app) {
  auto options = std::make_shared<ReconstructOptions>();
  CLI::App* command = app.add_subcommand(
      "reconstruct", "Encode items with a VAE and decode the posterior means: decode(encode(x).mean).");
  command->add_option("model", options->model_path, "Model file (.egm) with a vae pipeline")->required();
  command->add_option("-i,--input", options->input_path, "X.npy of shape [N, item shape...] (any numeric dtype)")->required();
  command->add_option("-o,--output", options->output_path,
                      "OUT.png (each original beside its reconstruction) or OUT.npy (float32 reconstructions)")
      ->required();
  add_picture_options(command, &options->grid);
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_reconstruct(*options); });
}

}  // namespace edgegen::cli
