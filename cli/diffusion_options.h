// Command-line options and runners for diffusion models: the extra options
// of `edgegen sample` (sampler, steps, guidance, class, ...) and the
// `edgegen inpaint` command.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "image_grid.h"
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
};

// Adds the diffusion options to `command` (used by sample and inpaint).
void add_diffusion_options(CLI::App* command, DiffusionCliOptions* options);

// `edgegen sample` on a diffusion model: writes `count` items to `output_path`
// (.png grid or .npy) atomically.
void run_diffusion_sample(LoadedModel& loaded, const DiffusionCliOptions& options, size_t count, uint64_t seed,
                          const std::string& output_path, GridOptions grid);

void add_inpaint_command(CLI::App& app);

}  // namespace edgegen::cli
