// One step of each sampler, over sigma_i -> sigma_{i+1} of a StepPlan.
// run_sampler (sampler_loop.cc) owns the loop, in-painting and progress;
// each function here is one published update rule.
#pragma once

#include "edgegen/diffusion.h"

namespace edgegen::samplers {

// History a multistep method carries from step to step.
struct SamplerState {
  size_t history = 0;        // committed previous denoised values (0..2)
  double h_last = 0.0;       // step sizes in log-sigma of the last two steps
  double h_before_last = 0.0;
};

// x0 = D(x, sigma_i) into run.scratch[0].
Status denoise_at(const SamplerRun& run, size_t i, const float* x);
// The noise key of step i, repeat r, use k (0 sampler, 1 in-paint, 2 jump back).
uint64_t noise_key(const SamplerRun& run, size_t i, int r, int use);

// Each: x at sigma_i -> x at sigma_{i+1}. `commit`: the step is final (not a
// RePaint repeat), so multistep history may advance.
Status step_ddim(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_ddpm(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_euler(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_euler_ancestral(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_heun(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_dpmpp_2m(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_dpmpp_3m(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);
Status step_lcm(const SamplerRun& run, SamplerState& state, size_t i, int repeat, float* x, bool commit);

}  // namespace edgegen::samplers
