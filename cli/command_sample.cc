// edgegen sample MODEL.egm -n N --seed S [--temperature T] -o FILE.png|FILE.npy [--latents-out Z.npy]
#include <iostream>
#include <memory>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "density_sample.h"
#include "diffusion_options.h"
#include "file_names.h"
#include "item_files.h"
#include "loaded_model.h"
#include "wav_file.h"

namespace edgegen::cli {
namespace {

struct SampleOptions {
  std::string model_path;
  size_t count = 16;
  uint64_t seed = 0;
  float temperature = 1.f;
  std::string output_path;
  std::string latents_path;
  int columns = 0;
  GridOptions grid;
  SessionOptions runtime;
  uint32_t top_k = 0;             // autoregressive categorical only
  DiffusionCliOptions diffusion;  // diffusion models only (diffusion_options.h)
  std::string wav_format = "pcm16";  // audio decoders, -o FILE.wav
};

// Kinds whose samples `sample` writes its own way: what a PNG's black and
// white stand for and what the report says differ per kind (display_range.h).
// Decoder and vae models, not listed, take run_sample's own path.
struct KindSampler {
  PipelineKind kind;
  void (*write)(LoadedModel& loaded, const SampleOptions& options);
};
const KindSampler kKindSamplers[] = {
    {PipelineKind::kFlow,
     [](LoadedModel& loaded, const SampleOptions& options) {
       sample_flow(loaded, options.count, options.seed, options.temperature, options.output_path, options.grid);
     }},
    {PipelineKind::kEnergy,
     [](LoadedModel& loaded, const SampleOptions& options) {
       sample_energy(loaded, options.count, options.seed, options.output_path, options.grid);
     }},
    {PipelineKind::kAutoregressive,
     [](LoadedModel& loaded, const SampleOptions& options) {
       sample_autoregressive(loaded, options.count, options.seed, options.temperature, options.top_k,
                             options.output_path, options.grid);
     }},
    {PipelineKind::kDiffusion,
     [](LoadedModel& loaded, const SampleOptions& options) {
       run_diffusion_sample(loaded, options.diffusion, options.count, options.seed, options.output_path, options.grid);
     }},
};

// Decoder/vae models whose items are waveforms (manifest "sample_rate"):
// one mono WAV per item, PATH when -n is 1, else STEM_0.wav, STEM_1.wav, ...
// (item i from latent i of the seed's stream).
void sample_waveforms(LoadedModel& loaded, const SampleOptions& options) {
  Pipeline& pipeline = loaded.pipeline("sample");
  if (pipeline.sample_rate() == 0)
    throw CliError("-o " + options.output_path + ": this model's items are not waveforms (its manifest declares no "
                   "sample_rate); write .png or .npy");
  const WavFormat format = parse_wav_format(options.wav_format);
  const std::vector<std::string> paths = item_file_names(options.output_path, options.count);
  std::vector<std::unique_ptr<AtomicFile>> outputs;
  for (const std::string& path : paths) outputs.push_back(std::make_unique<AtomicFile>(path));
  std::vector<float> items(checked_float_count(options.count, pipeline.item_size(), "-n"));
  throw_if_error(pipeline.sample(options.seed, options.temperature, options.count, items.data()), options.model_path);
  for (size_t i = 0; i < options.count; ++i) {
    std::vector<uint8_t> bytes =
        encode_wav(items.data() + i * pipeline.item_size(), pipeline.item_size(), pipeline.sample_rate(), format);
    outputs[i]->write(bytes.data(), bytes.size());
  }
  for (auto& output : outputs) output->commit();
  std::cout << "wrote " << (paths.size() == 1 ? paths[0] : paths[0] + " .. " + paths.back()) << ": " << options.count
            << " waveforms of " << pipeline.item_size() << " samples at " << pipeline.sample_rate() << " Hz (seed "
            << options.seed << ", temperature " << options.temperature << ")\n";
}

void run_sample(SampleOptions options) {
  if (is_wav_path(options.output_path)) {
    if (!options.latents_path.empty()) throw CliError("--latents-out is for .png and .npy output");
    LoadedModel loaded(options.model_path, options.runtime);
    return sample_waveforms(loaded, options);
  }
  OutputFormat format = output_format_of(options.output_path, "-o");
  if (!options.latents_path.empty() && output_format_of(options.latents_path, "--latents-out") != OutputFormat::kNpy)
    throw CliError("--latents-out " + options.latents_path + ": latents are written as .npy");
  LoadedModel loaded(options.model_path, options.runtime);
  options.grid.columns = options.columns;
  for (const KindSampler& entry : kKindSamplers)
    if (entry.kind == loaded.module().kind()) return entry.write(loaded, options);
  Pipeline& pipeline = loaded.pipeline("sample");
  std::vector<int64_t> item_shape = shape_dims(pipeline.item_shape());
  std::vector<int64_t> latent_shape = shape_dims(pipeline.latent_shape());
  if (format == OutputFormat::kPng) item_layout_from_shape(item_shape);  // fail before the work if not drawable

  AtomicFile output(options.output_path);
  std::unique_ptr<AtomicFile> latents_output;
  if (!options.latents_path.empty()) latents_output = std::make_unique<AtomicFile>(options.latents_path);

  std::vector<float> items(checked_float_count(options.count, pipeline.item_size(), "-n"));
  std::vector<float> latents(checked_float_count(options.count, pipeline.latent_size(), "-n"));
  throw_if_error(pipeline.sample(options.seed, options.temperature, options.count, items.data(), latents.data()),
                 options.model_path);

  options.grid.low = pipeline.output_low();
  options.grid.high = pipeline.output_high();
  std::vector<uint8_t> bytes = encode_items(format, items.data(), options.count, item_shape, options.grid);
  output.write(bytes.data(), bytes.size());
  if (latents_output) {
    latent_shape.insert(latent_shape.begin(), static_cast<int64_t>(options.count));
    std::vector<uint8_t> latent_bytes = float32_npy_bytes(latent_shape, latents.data());
    latents_output->write(latent_bytes.data(), latent_bytes.size());
  }
  output.commit();
  if (latents_output) latents_output->commit();
  std::cout << "wrote " << options.output_path << ": " << options.count << " samples of " << format_dims(item_shape)
            << " (seed " << options.seed << ", temperature " << options.temperature << ")\n";
  if (latents_output) std::cout << "wrote " << options.latents_path << ": latents " << format_dims(latent_shape) << "\n";
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto options = std::make_shared<SampleOptions>();
  CLI::App* command = app.add_subcommand(
      "sample", "Draw latents z ~ N(0, T^2 I) from a seed and decode them (decoder and vae pipelines),\n"
                "or run a diffusion model's sampler (see the diffusion options).\n"
                "The same seed gives the same samples on every platform; sample i uses latent i of the seed's stream.");
  command->add_option("model", options->model_path, "Model file (.egm)")->required();
  command->add_option("-n,--count", options->count, "Number of samples")
      ->check(CLI::Range(size_t{1}, kMaxItems))
      ->capture_default_str();
  command->add_option("-s,--seed", options->seed, "Random seed")->capture_default_str();
  command->add_option("-t,--temperature", options->temperature, "Scale of the latent noise (0 gives the prior mean)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str();
  command->add_option("-o,--output", options->output_path,
                      "FILE.png (a grid of the samples) or FILE.npy (float32 [N, item shape...]); FILE.wav for "
                      "a decoder of waveforms (one file per sample: FILE.wav for -n 1, else FILE_0.wav ...)")
      ->required();
  command->add_option("--latents-out", options->latents_path, "Also write the latents as Z.npy (float32 [N, latent shape...])");
  command->add_option("--columns", options->columns, "PNG only: tiles per row (default: a near-square grid)")
      ->check(CLI::Range(1, 1024));
  command->add_option("--top-k", options->top_k, "Autoregressive (categorical) only: draw among the k most likely values");
  command->add_option("--format", options->wav_format, "WAV sample format: pcm16 (clipped to [-1, 1]) or float32")
      ->check(CLI::IsMember({"pcm16", "float32"}))
      ->capture_default_str();
  add_picture_options(command, &options->grid);
  add_runtime_options(command, &options->runtime);
  add_diffusion_options(command, &options->diffusion);
  command->callback([options] { run_sample(*options); });
}

}  // namespace edgegen::cli
