// Command-line options and runners for diffusion models: the extra options
// of `edgegen sample` (sampler, steps, guidance, class, context, ...) and the
// `edgegen inpaint` and `edgegen img2img` commands.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "image_grid.h"
#include "edgegen/diffusion.h"
#include "loaded_model.h"

namespace edgegen::cli {

struct DiffusionCliOptions {
  std::string sampler = "dpmpp_2m";
  size_t steps = 20;
  std::string spacing = "trailing";
  bool karras = false;
  float eta = 0.f;
  float guidance = 1.f;
  std::string class_label;  // "", an integer, "-1" (unconditional) or "cycle" (item i: i mod num_classes)
  std::string init_noise_path;
  bool quiet = false;  // no progress bar
  int resample = 1;    // in-painting only
  std::string context_path;         // --context FILE.npy: [tokens, dim] or [N, tokens, dim]
  std::string uncond_context_path;  // --uncond-context FILE.npy: [tokens, dim]
};

// Adds the diffusion options to `command` (used by sample and inpaint).
void add_diffusion_options(CLI::App* command, DiffusionCliOptions* options);

// `edgegen sample` on a diffusion model: writes `count` items to `output_path`
// (.png grid or .npy) atomically.
void run_diffusion_sample(LoadedModel& loaded, const DiffusionCliOptions& options, size_t count, uint64_t seed,
                          const std::string& output_path, GridOptions grid);

void add_inpaint_command(CLI::App& app);
void add_img2img_command(CLI::App& app);  // command_img2img.cc

// Shared by the diffusion commands (command_diffusion.cc).
DiffusionPipeline& prepare_diffusion_pipeline(LoadedModel& loaded, const std::string& command,
                                              std::unique_ptr<DiffusionPipeline>& holder);
DiffusionOptions diffusion_runtime_options(const DiffusionCliOptions& cli, uint64_t seed);
// A PNG (gray, or RGB for 3-channel pictures) of the model's picture size (its
// decoder's output, or the sample), or a .npy of items, as `count` items
// scaled from [0, 1] to [low, high]; one picture is repeated.
std::vector<float> read_picture_items(const std::string& path, const std::string& option,
                                      const DiffusionPipeline& pipeline, size_t count, float low, float high);
// Reads --context / --uncond-context into `options` (kept alive in the two
// vectors), samples `count` items and writes them to `output_path` atomically.
void run_diffusion_and_write(DiffusionPipeline& pipeline, const LoadedModel& loaded, DiffusionOptions options,
                             const DiffusionCliOptions& cli, size_t count, const std::string& output_path,
                             const GridOptions& grid, const char* what);

}  // namespace edgegen::cli
