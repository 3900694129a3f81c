// Image-to-image on the command line (SDEdit, Meng et al. 2021):
//   edgegen img2img MODEL.egm --image in.png --strength 0.6 [--mask keep.png] --context ctx.npy -n 4 -o out.png
// The picture is encoded (latent models) and noised to `strength` of the
// step plan; the remaining steps run and the result is decoded. With
// --mask, white pixels keep the picture (latent in-painting from the
// noised picture instead of from noise).
#include <memory>
#include <string>
#include <vector>

#include "cli_error.h"
#include "commands.h"
#include "common_options.h"
#include "diffusion_options.h"

namespace edgegen::cli {
namespace {

struct ImageToImageOptions {
  std::string model_path;
  std::string image_path;
  std::string mask_path;
  float strength = 0.6f;
  size_t count = 4;
  uint64_t seed = 0;
  std::string output_path;
  int columns = 0;
  GridOptions grid;
  DiffusionCliOptions diffusion;
  SessionOptions runtime;
};

void run_img2img(ImageToImageOptions options) {
  LoadedModel loaded(options.model_path, options.runtime);
  std::unique_ptr<DiffusionPipeline> holder;
  DiffusionPipeline& pipeline = prepare_diffusion_pipeline(loaded, "img2img", holder);
  if (!pipeline.can(Capability::kImageToImage))
    throw CliError("img2img: " + loaded.path() + " is a latent diffusion model without an encoder; image-to-image "
                   "needs one to bring the picture into latent space");
  std::vector<float> image =
      read_picture_items(options.image_path, "--image", pipeline, options.count, pipeline.output_low(), pipeline.output_high());
  DiffusionOptions runtime = diffusion_runtime_options(options.diffusion, options.seed);
  runtime.init_image = image.data();
  runtime.strength = options.strength;
  std::vector<float> mask;
  if (!options.mask_path.empty()) {
    mask = read_picture_items(options.mask_path, "--mask", pipeline, options.count, 0.f, 1.f);
    for (float& value : mask) value = value > 0.5f ? 1.f : 0.f;
    runtime.known = image.data();
    runtime.mask = mask.data();
  }
  options.grid.columns = options.columns;
  run_diffusion_and_write(pipeline, loaded, runtime, options.diffusion, options.count, options.output_path, options.grid,
                          mask.empty() ? "pictures" : "in-painted pictures");
}

}  // namespace

void add_img2img_command(CLI::App& app) {
  auto options = std::make_shared<ImageToImageOptions>();
  CLI::App* command = app.add_subcommand(
      "img2img", "Turn a picture into new ones with a diffusion model (SDEdit, Meng et al. 2021): the picture,\n"
                 "encoded (latent models) and noised to --strength of the schedule, is denoised by the last\n"
                 "round(strength * steps) steps. 0 gives the picture back, 1 ignores it.");
  command->add_option("model", options->model_path, "Model file (.egm) with a diffusion pipeline")->required();
  command->add_option("--image", options->image_path, "The picture: PNG of the model's picture size, or .npy")->required();
  command->add_option("--strength", options->strength, "How much of the schedule to run: 0 (the picture) .. 1 (noise)")
      ->check(CLI::Range(0.f, 1.f))
      ->capture_default_str();
  command->add_option("--mask", options->mask_path, "PNG or .npy, white/1 = keep the picture's pixel (in-painting)");
  command->add_option("-n,--count", options->count, "Number of pictures")
      ->check(CLI::Range(size_t{1}, kMaxItems))
      ->capture_default_str();
  command->add_option("-s,--seed", options->seed, "Random seed")->capture_default_str();
  command->add_option("-o,--output", options->output_path, "FILE.png (a grid) or FILE.npy")->required();
  command->add_option("--resample", options->diffusion.resample, "With --mask: RePaint resampling, repeats of every step")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  command->add_option("--columns", options->columns, "PNG only: tiles per row")->check(CLI::Range(1, 1024));
  add_diffusion_options(command, &options->diffusion);
  add_picture_options(command, &options->grid);
  add_runtime_options(command, &options->runtime);
  command->callback([options] { run_img2img(*options); });
}

}  // namespace edgegen::cli
