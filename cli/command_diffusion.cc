// Diffusion on the command line:
//   edgegen sample MODEL.egm --sampler dpmpp_2m --steps 4 --guidance 3 --class 7 -n 16 --seed 1 -o grid.png
//   edgegen inpaint MODEL.egm --image in.png --mask mask.png --class 3 -n 8 -o out.png
//   edgegen sample LATENT.egm --context ctx.npy --guidance 4 -n 8 -o grid.png
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include "atomic_file.h"
#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "diffusion_options.h"
#include "edgegen/diffusion.h"
#include "file_names.h"
#include "item_files.h"
#include "png_file.h"

namespace edgegen::cli {
namespace {

struct StepProgressBar {
  bool enabled = false;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

// A progress bar on stderr, drawn only when stderr is a terminal or the run
// is long enough to care (over half a second).
bool draw_progress(void* user, size_t step, size_t total, double) {
  auto* bar = static_cast<StepProgressBar*>(user);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - bar->start).count();
  if (!bar->enabled || (elapsed < 0.5 && step < total)) return true;
  const int width = 30;
  int filled = static_cast<int>(width * step / total);
  std::fprintf(stderr, "\r[%.*s%.*s] %zu/%zu steps %.1f s", filled, "##############################", width - filled,
               "                              ", step, total, elapsed);
  if (step == total) std::fputc('\n', stderr);
  std::fflush(stderr);
  return true;
}

}  // namespace

DiffusionPipeline& prepare_diffusion_pipeline(LoadedModel& loaded, const std::string& command,
                                              std::unique_ptr<DiffusionPipeline>& holder) {
  if (loaded.model().pipeline_kind() != PipelineKind::kDiffusion)
    throw CliError("'" + command + "' needs a model with a diffusion pipeline; " + loaded.path() + " has a " +
                   pipeline_kind_name(loaded.model().pipeline_kind()) + " pipeline");
  holder = std::make_unique<DiffusionPipeline>();
  throw_if_error(holder->prepare(loaded.model(), loaded.options()), loaded.path());
  loaded.use_prepacked_weights(holder->session());
  return *holder;
}

DiffusionOptions diffusion_runtime_options(const DiffusionCliOptions& cli, uint64_t seed) {
  DiffusionOptions options;
  if (!parse_sampler(cli.sampler.c_str(), &options.sampler))
    throw CliError("--sampler " + cli.sampler +
                   ": unknown sampler (supported: ddim, euler, euler_a, heun, dpmpp_2m, dpmpp_3m, ddpm, lcm)");
  options.steps = cli.steps;
  options.spacing = cli.spacing == "leading"    ? TimestepSpacing::kLeading
                    : cli.spacing == "linspace" ? TimestepSpacing::kLinspace
                                                : TimestepSpacing::kTrailing;
  options.karras = cli.karras;
  options.eta = cli.eta;
  options.guidance = cli.guidance;
  options.seed = seed;
  options.resample = cli.resample;
  return options;
}

namespace {

// The label of each item from --class, or an empty vector (no labels).
std::vector<int32_t> item_labels(const DiffusionPipeline& pipeline, const std::string& text, size_t count) {
  if (text.empty()) return {};
  if (!pipeline.has_class_input()) throw CliError("--class " + text + ": this model is not class-conditional");
  std::vector<int32_t> labels(count);
  if (text == "cycle") {
    for (size_t i = 0; i < count; ++i) labels[i] = static_cast<int32_t>(i % pipeline.num_classes());
    return labels;
  }
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || value < -1 || value >= static_cast<long>(pipeline.num_classes()))
    throw CliError("--class " + text + ": expected a class in [0, " + std::to_string(pipeline.num_classes()) +
                   "), -1 (unconditional) or 'cycle'");
  for (auto& label : labels) label = static_cast<int32_t>(value);
  return labels;
}

std::vector<float> read_init_noise(const std::string& path, const DiffusionPipeline& pipeline, size_t count) {
  ItemsFromFile noise = read_items(path, shape_dims(pipeline.sample_shape()));
  if (noise.count != count)
    throw CliError("--init-noise " + path + ": holds " + std::to_string(noise.count) + " samples but -n is " +
                   std::to_string(count));
  return std::move(noise.values);
}

void write_items(OutputFormat format, const std::vector<float>& items, size_t count,
                 const DiffusionPipeline& pipeline, GridOptions grid, AtomicFile& output) {
  grid.low = pipeline.output_low();
  grid.high = pipeline.output_high();
  std::vector<uint8_t> bytes = encode_items(format, items.data(), count, shape_dims(pipeline.item_shape()), grid);
  output.write(bytes.data(), bytes.size());
  output.commit();
}

// --context: [tokens, dim] (every item) or [count, tokens, dim].
std::vector<float> read_contexts(const std::string& path, const DiffusionPipeline& pipeline, size_t count) {
  if (!pipeline.has_context_input()) throw CliError("--context " + path + ": this model takes no context");
  ItemsFromFile items = read_items(path, shape_dims(pipeline.context_shape()));
  if (items.count == 1 && count > 1) {
    std::vector<float> repeated(count * pipeline.context_size());
    for (size_t i = 0; i < count; ++i)
      std::copy(items.values.begin(), items.values.end(), repeated.begin() + i * pipeline.context_size());
    return repeated;
  }
  if (items.count != count)
    throw CliError("--context " + path + ": holds " + std::to_string(items.count) + " contexts; expected 1 or " +
                   std::to_string(count) + " (-n)");
  return std::move(items.values);
}

}  // namespace

void run_diffusion_and_write(DiffusionPipeline& pipeline, const LoadedModel& loaded, DiffusionOptions options,
                             const DiffusionCliOptions& cli, size_t count, const std::string& output_path,
                             const GridOptions& grid, const char* what) {
  OutputFormat format = output_format_of(output_path, "-o");
  if (format == OutputFormat::kPng) item_layout_from_shape(shape_dims(pipeline.item_shape()));
  std::vector<int32_t> labels = item_labels(pipeline, cli.class_label, count);
  std::vector<float> noise;
  if (!cli.init_noise_path.empty()) {
    noise = read_init_noise(cli.init_noise_path, pipeline, count);
    options.init_noise = noise.data();
  }
  std::vector<float> context, uncond_context;
  if (!cli.context_path.empty()) {
    context = read_contexts(cli.context_path, pipeline, count);
    options.context = context.data();
  }
  if (!cli.uncond_context_path.empty()) {
    if (!pipeline.has_context_input()) throw CliError("--uncond-context: this model takes no context");
    ItemsFromFile uncond = read_items(cli.uncond_context_path, shape_dims(pipeline.context_shape()));
    if (uncond.count != 1) throw CliError("--uncond-context " + cli.uncond_context_path + ": expected one context");
    uncond_context = std::move(uncond.values);
    options.unconditional_context = uncond_context.data();
  }
  if (pipeline.has_context_input() && context.empty() && uncond_context.empty() &&
      pipeline.stored_unconditional_context() == nullptr)
    throw CliError(loaded.path() + ": the model is conditioned on a context; give --context FILE.npy");
  StepProgressBar bar;
  bar.enabled = !cli.quiet;
  options.progress = {draw_progress, &bar};
  AtomicFile output(output_path);
  std::vector<float> items(checked_float_count(count, pipeline.item_size(), "-n"));
  throw_if_error(pipeline.sample(options, count, labels.empty() ? nullptr : labels.data(), items.data()), loaded.path());
  write_items(format, items, count, pipeline, grid, output);
  std::cout << "wrote " << output_path << ": " << count << " " << what << " of " << format_dims(shape_dims(pipeline.item_shape()))
            << " (" << sampler_name(options.sampler) << ", " << options.steps << " steps, guidance " << options.guidance
            << ", seed " << options.seed << ")\n";
  const double total = pipeline.last_sample_seconds(), graphs = pipeline.last_graph_seconds();
  char timing[160];
  std::snprintf(timing, sizeof timing, "sampling took %.1f ms: graphs %.1f ms, sampler %.3f ms (%.3f%%)\n", total * 1e3,
                graphs * 1e3, (total - graphs) * 1e3, total > 0 ? 100 * (total - graphs) / total : 0.0);
  std::cout << timing;
}

std::vector<float> read_picture_items(const std::string& path, const std::string& option,
                                      const DiffusionPipeline& pipeline, size_t count, float low, float high) {
  std::vector<int64_t> shape = shape_dims(pipeline.item_shape());
  size_t size = pipeline.item_size();
  if (output_format_of(path, option) == OutputFormat::kNpy) {
    ItemsFromFile items = read_items(path, shape);
    if (items.count == 1 && count > 1) {
      std::vector<float> repeated(count * size);
      for (size_t i = 0; i < count; ++i) std::copy(items.values.begin(), items.values.end(), repeated.begin() + i * size);
      return repeated;
    }
    if (items.count != count)
      throw CliError(option + " " + path + ": holds " + std::to_string(items.count) + " items; expected 1 or " +
                     std::to_string(count));
    return std::move(items.values);
  }
  ItemLayout layout = item_layout_from_shape(shape);
  Image image = read_png(path);
  if (image.width != layout.width || image.height != layout.height)
    throw CliError(option + " " + path + ": the image is " + std::to_string(image.width) + "x" +
                   std::to_string(image.height) + "; the model's pictures are " + std::to_string(layout.width) + "x" +
                   std::to_string(layout.height));
  std::vector<float> values(count * size);
  for (int c = 0; c < layout.channels; ++c)
    for (int y = 0; y < layout.height; ++y)
      for (int x = 0; x < layout.width; ++x) {
        int channel = image.channels == 1 ? 0 : (layout.channels == 1 ? -1 : c);
        float unit = channel >= 0 ? image.at(x, y, channel) / 255.f
                                  : (image.at(x, y, 0) + image.at(x, y, 1) + image.at(x, y, 2)) / (3.f * 255.f);
        values[(static_cast<size_t>(c) * layout.height + y) * layout.width + x] = low + unit * (high - low);
      }
  for (size_t i = 1; i < count; ++i) std::copy(values.begin(), values.begin() + size, values.begin() + i * size);
  return values;
}

namespace {

struct InpaintOptions {
  std::string model_path;
  std::string image_path;
  std::string mask_path;
  size_t count = 8;
  uint64_t seed = 0;
  std::string output_path;
  int columns = 0;
  GridOptions grid;
  DiffusionCliOptions diffusion;
  SessionOptions runtime;
};

void run_inpaint(InpaintOptions options) {
  LoadedModel loaded(options.model_path, options.runtime);
  std::unique_ptr<DiffusionPipeline> holder;
  DiffusionPipeline& pipeline = prepare_diffusion_pipeline(loaded, "inpaint", holder);
  if (!pipeline.can(Capability::kInpaint))
    throw CliError("inpaint: " + loaded.path() + " is a latent diffusion model without an encoder; in-painting needs "
                   "one to bring the picture into latent space");
  std::vector<float> known =
      read_picture_items(options.image_path, "--image", pipeline, options.count, pipeline.output_low(), pipeline.output_high());
  std::vector<float> mask = read_picture_items(options.mask_path, "--mask", pipeline, options.count, 0.f, 1.f);
  for (float& value : mask) value = value > 0.5f ? 1.f : 0.f;
  DiffusionOptions runtime = diffusion_runtime_options(options.diffusion, options.seed);
  runtime.known = known.data();
  runtime.mask = mask.data();
  options.grid.columns = options.columns;
  run_diffusion_and_write(pipeline, loaded, runtime, options.diffusion, options.count, options.output_path, options.grid,
                          "in-painted samples");
}

}  // namespace

void add_diffusion_options(CLI::App* command, DiffusionCliOptions* options) {
  const std::string group = "Diffusion models";
  command->add_option("--sampler", options->sampler, "ddim, euler, euler_a, heun, dpmpp_2m, dpmpp_3m, ddpm or lcm")
      ->check(CLI::IsMember({"ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_3m", "ddpm", "lcm"}))
      ->group(group)
      ->capture_default_str();
  command->add_option("--steps", options->steps, "Sampling steps")
      ->check(CLI::Range(size_t{1}, DiffusionPipeline::kMaxSteps))
      ->group(group)
      ->capture_default_str();
  command->add_option("--spacing", options->spacing, "Timestep spacing: leading, trailing or linspace")
      ->check(CLI::IsMember({"leading", "trailing", "linspace"}))
      ->group(group)
      ->capture_default_str();
  command->add_flag("--karras", options->karras, "Karras et al. (2022) sigmas instead of spaced timesteps")->group(group);
  command->add_option("--eta", options->eta, "DDIM noise (0 deterministic, 1 DDPM-like)")
      ->check(CLI::Range(0.f, 1.f))
      ->group(group)
      ->capture_default_str();
  command->add_option("--guidance", options->guidance, "Classifier-free guidance scale (1 = none)")
      ->check(CLI::Range(-100.f, 100.f))
      ->group(group)
      ->capture_default_str();
  command->add_option("--class", options->class_label, "Class of every sample, -1 (unconditional) or 'cycle'")
      ->group(group);
  command->add_option("--init-noise", options->init_noise_path, "x_T as FILE.npy (float32 [N, sample shape...])")
      ->group(group);
  command->add_option("--context", options->context_path,
                      "Context models: FILE.npy, [tokens, dim] for every item or [N, tokens, dim]")
      ->group(group);
  command->add_option("--uncond-context", options->uncond_context_path,
                      "Context models: the unconditional context for guidance, FILE.npy [tokens, dim] "
                      "(default: the one stored in the model)")
      ->group(group);
  command->add_flag("-q,--quiet", options->quiet, "No progress bar on stderr")->group(group);
}

void run_diffusion_sample(LoadedModel& loaded, const DiffusionCliOptions& options, size_t count, uint64_t seed,
                          const std::string& output_path, GridOptions grid) {
  std::unique_ptr<DiffusionPipeline> holder;
  DiffusionPipeline& pipeline = prepare_diffusion_pipeline(loaded, "sample", holder);
  run_diffusion_and_write(pipeline, loaded, diffusion_runtime_options(options, seed), options, count, output_path, grid,
                          "samples");
}

void add_inpaint_command(CLI::App& app) {
  auto options = std::make_shared<InpaintOptions>();
  CLI::App* command = app.add_subcommand(
      "inpaint", "Fill in the masked-out part of an image with a diffusion model (RePaint, Lugmayr et al. 2022).\n"
                 "Mask pixels that are white (> 50%) keep the image; the rest is generated.");
  command->add_option("model", options->model_path, "Model file (.egm) with a diffusion pipeline")->required();
  command->add_option("--image", options->image_path, "The known image: PNG of the sample size, or .npy")->required();
  command->add_option("--mask", options->mask_path, "PNG or .npy, white/1 = keep the image's pixel")->required();
  command->add_option("-n,--count", options->count, "Number of in-painted samples")
      ->check(CLI::Range(size_t{1}, kMaxItems))
      ->capture_default_str();
  command->add_option("-s,--seed", options->seed, "Random seed")->capture_default_str();
  command->add_option("-o,--output", options->output_path, "FILE.png (a grid) or FILE.npy")->required();
  command->add_option("--resample", options->diffusion.resample, "RePaint resampling: repeats of every step")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  command->add_option("--columns", options->columns, "PNG only: tiles per row")->check(CLI::Range(1, 1024));
  add_diffusion_options(command, &options->diffusion);
  add_picture_options(command, &options->grid);
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_inpaint(*options); });
}

}  // namespace edgegen::cli
