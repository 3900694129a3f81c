// `edgegen sample` for density pipelines (flow, autoregressive, energy):
// the sample command hands such models here.
#pragma once

#include <cstdint>
#include <string>

#include "image_grid.h"
#include "loaded_model.h"

namespace edgegen::cli {

// Draws `count` samples with `seed` and `temperature` from the flow in
// `loaded` and writes them to `output_path` (.npy float32 [N, event shape],
// or .png when the event shape is drawable). A PNG maps the range the model
// declares (display_range.h) to black..white, not `grid`'s low and high, and
// the command prints that range. Throws CliError.
void sample_flow(const LoadedModel& loaded, size_t count, uint64_t seed, float temperature,
                 const std::string& output_path, GridOptions grid);

// Same for an autoregressive model (one pass per dimension); `top_k` limits a
// categorical draw to the k most likely values (0 = all).
void sample_autoregressive(const LoadedModel& loaded, size_t count, uint64_t seed, float temperature, uint32_t top_k,
                           const std::string& output_path, GridOptions grid);

// Annealed Langevin samples of an energy/score model.
void sample_energy(const LoadedModel& loaded, size_t count, uint64_t seed, const std::string& output_path,
                   GridOptions grid);

}  // namespace edgegen::cli
