// Calibration data for a diffusion denoiser, generated from the float model
// itself: what the denoiser sees while sampling.
//
// A denoiser sees noisy samples at every noise level of the schedule, and
// its activations' ranges drift with the timestep; calibrating on a few
// timesteps is the known failure of post-training quantization for diffusion
// (Q-Diffusion, Li et al. 2023; PTQ4DM, Shang et al. 2023). So the samples
// come from DDIM trajectories of the float model whose timesteps are spread
// uniformly over the whole training schedule (each group of trajectories
// shifted by a random fraction of a step), and a class-conditional model is
// run on both halves of classifier-free guidance (the class and the null
// class) at every step. A denoiser with a context input (a text encoder's
// output) is run with contexts on the conditional half (the ones given, or
// standard normal draws, the scale of a normalized text embedding) and the
// unconditional context on the other: calibrating on the unconditional
// context alone sets the context path's ranges for zeros and clips every
// real context (an int8 model that ignores its prompt).
#pragma once

#include <cstdint>
#include <vector>

#include "converter/ir.h"
#include "converter/manifest.h"
#include "converter/quantize/calibration.h"

namespace edgegen::converter {

struct DiffusionCalibration {
  std::vector<CalibrationBatch> denoiser;  // batches of the denoiser's inputs, in its input order
  std::vector<float> final_samples;        // the trajectories' ends: what a latent decoder would read
  size_t final_count = 0;                  // items in final_samples
};

// `count` denoiser items rounded up to whole batches of `batch` (spread
// over the steps of at least one group of trajectories, whose ends are all
// in final_samples), from the float `denoiser` graph described by
// `diffusion`; deterministic for a seed on one machine (the trajectories
// run on the fast kernels).
// `contexts`: items of the context input ([tokens, dim] each, cycled) for
// the conditional half; empty: standard normal draws.
DiffusionCalibration diffusion_calibration(const IrGraph& denoiser, const Manifest::Diffusion& diffusion,
                                           uint32_t batch, int count, uint64_t seed,
                                           const std::vector<float>& contexts = {});

}  // namespace edgegen::converter
