// edgegen interpolate MODEL.egm (--seeds A B | --inputs X.npy) --steps K [--mode linear|slerp] -o STRIP.png|.npy
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

struct InterpolateOptions {
  std::string model_path;
  std::vector<uint64_t> seeds;
  std::string inputs_path;
  size_t steps = 8;
  std::string mode = "slerp";
  float temperature = 1.f;
  std::string output_path;
  std::string latents_path;
  GridOptions grid;
  SessionOptions runtime;
};

// The two endpoint latents, one after the other.
std::vector<float> endpoint_latents(LoadedModel& loaded, const InterpolateOptions& options) {
  if (!options.seeds.empty()) {
    Pipeline& pipeline = loaded.pipeline("interpolate");
    std::vector<float> latents(2 * pipeline.latent_size());
    // Latent 0 of each seed's stream: the first sample `sample --seed S` draws.
    for (size_t i = 0; i < 2; ++i)
      pipeline.draw_latents(options.seeds[i], options.temperature, 1, latents.data() + i * pipeline.latent_size());
    return latents;
  }
  Pipeline& pipeline = loaded.vae_pipeline("interpolate --inputs");
  ItemsFromFile items = read_items(options.inputs_path, shape_dims(pipeline.item_shape()));
  if (items.count != 2)
    throw CliError(options.inputs_path + ": --inputs needs exactly 2 items to interpolate between, the file has " +
                   std::to_string(items.count));
  std::vector<float> mean(2 * pipeline.latent_size()), logvar(2 * pipeline.latent_size());
  throw_if_error(pipeline.encode(items.values.data(), 2, mean.data(), logvar.data()), options.model_path);
  return mean;
}

void run_interpolate(InterpolateOptions options) {
  if (options.seeds.empty() == options.inputs_path.empty())
    throw CLI::ValidationError("interpolate", "give exactly one of --seeds A B or --inputs X.npy");
  OutputFormat format = output_format_of(options.output_path, "-o");
  if (!options.latents_path.empty() && output_format_of(options.latents_path, "--latents-out") != OutputFormat::kNpy)
    throw CliError("--latents-out " + options.latents_path + ": latents are written as .npy");
  LoadedModel loaded(options.model_path, options.runtime);
  Pipeline& pipeline = loaded.pipeline("interpolate");
  std::vector<int64_t> item_shape = shape_dims(pipeline.item_shape());
  if (format == OutputFormat::kPng) item_layout_from_shape(item_shape);
  std::vector<float> endpoints = endpoint_latents(loaded, options);

  AtomicFile output(options.output_path);
  std::unique_ptr<AtomicFile> latents_output;
  if (!options.latents_path.empty()) latents_output = std::make_unique<AtomicFile>(options.latents_path);

  size_t latent_size = pipeline.latent_size();
  Interpolation mode = options.mode == "linear" ? Interpolation::kLinear : Interpolation::kSpherical;
  std::vector<float> latents(checked_float_count(options.steps, latent_size, "--steps"));
  for (size_t k = 0; k < options.steps; ++k) {
    float t = static_cast<float>(k) / static_cast<float>(options.steps - 1);
    interpolate_latents(endpoints.data(), endpoints.data() + latent_size, latent_size, t, mode,
                        latents.data() + k * latent_size);
  }
  std::vector<float> items(checked_float_count(options.steps, pipeline.item_size(), "--steps"));
  throw_if_error(pipeline.decode(latents.data(), options.steps, items.data()), options.model_path);

  options.grid.columns = static_cast<int>(options.steps);  // one row: a strip
  options.grid.low = pipeline.output_low();
  options.grid.high = pipeline.output_high();
  std::vector<uint8_t> bytes = encode_items(format, items.data(), options.steps, item_shape, options.grid);
  output.write(bytes.data(), bytes.size());
  std::vector<int64_t> latent_shape = shape_dims(pipeline.latent_shape());
  latent_shape.insert(latent_shape.begin(), static_cast<int64_t>(options.steps));
  if (latents_output) {
    std::vector<uint8_t> latent_bytes = float32_npy_bytes(latent_shape, latents.data());
    latents_output->write(latent_bytes.data(), latent_bytes.size());
  }
  output.commit();
  if (latents_output) latents_output->commit();
  std::cout << "wrote " << options.output_path << ": " << options.steps << " steps ("
            << options.mode << ")\n";
  if (latents_output) std::cout << "wrote " << options.latents_path << ": latents " << format_dims(latent_shape) << "\n";
}

}  // namespace

void add_interpolate_command(CLI::App& app) {
  auto options = std::make_shared<InterpolateOptions>();
  CLI::App* command = app.add_subcommand(
      "interpolate", "Decode K latents interpolated between two endpoints: the latents of two seeds,\n"
                     "or (vae only) the encodings of two items.");
  command->add_option("model", options->model_path, "Model file (.egm)")->required();
  CLI::Option* seeds = command->add_option("--seeds", options->seeds, "Two seeds: endpoints are latent 0 of each seed's stream")
                           ->expected(2);
  command->add_option("--inputs", options->inputs_path, "X.npy holding exactly 2 items to encode (vae only)")->excludes(seeds);
  command->add_option("-k,--steps", options->steps, "Number of images, endpoints included")
      ->check(CLI::Range(size_t{2}, size_t{1024}))
      ->capture_default_str();
  command->add_option("--mode", options->mode, "linear, or slerp (spherical: keeps Gaussian latents at a typical norm)")
      ->check(CLI::IsMember({"linear", "slerp"}))
      ->capture_default_str();
  command->add_option("-t,--temperature", options->temperature, "With --seeds: scale of the latent noise")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str();
  command->add_option("-o,--output", options->output_path,
                      "STRIP.png (the images in one row) or STRIP.npy (float32 [K, item shape...])")
      ->required();
  command->add_option("--latents-out", options->latents_path, "Also write the interpolated latents as Z.npy");
  add_picture_options(command, &options->grid);
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_interpolate(*options); });
}

}  // namespace edgegen::cli
