// Euler, Euler ancestral and Heun over the probability-flow ODE
// dx/dsigma = (x - D(x, sigma)) / sigma of Karras, Aittala, Aila & Laine,
// "Elucidating the Design Space of Diffusion-Based Generative Models",
// NeurIPS 2022.
#include <cmath>

#include "samplers/sampler_steps.h"

namespace edgegen::samplers {

// Karras et al. 2022, Algorithm 2 without churn (S_churn = 0): one Euler step.
Status step_euler(const SamplerRun& run, SamplerState&, size_t i, int, float* x, bool) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  const float sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  const float ratio = (sigma_next - sigma) / sigma;
  for (size_t e = 0; e < run.elements; ++e) x[e] += (x[e] - x0[e]) * ratio;
  return Status::ok();
}

// Euler step to sigma_down followed by fresh noise of std sigma_up, with
// sigma_up = sqrt(s'^2 (s^2 - s'^2) / s^2), sigma_down = sqrt(s'^2 - sigma_up^2)
// (the ancestral step of k-diffusion, equal in distribution to DDPM's
// posterior for eta = 1; Song et al. 2021 / Karras et al. 2022).
Status step_euler_ancestral(const SamplerRun& run, SamplerState&, size_t i, int repeat, float* x, bool) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  const double sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  double up = std::sqrt(sigma_next * sigma_next * (sigma * sigma - sigma_next * sigma_next) / (sigma * sigma));
  if (up > sigma_next) up = sigma_next;
  const double down = std::sqrt(sigma_next * sigma_next - up * up);
  const float ratio = static_cast<float>((down - sigma) / sigma);
  float* noise = run.scratch[1];
  if (up > 0) run.noise.fill(run.noise.user, noise_key(run, i, repeat, 0), noise);
  for (size_t e = 0; e < run.elements; ++e) {
    x[e] += (x[e] - x0[e]) * ratio;
    if (up > 0) x[e] += static_cast<float>(up) * noise[e];
  }
  return Status::ok();
}

// Karras et al. 2022, Algorithm 1 (deterministic, second order): an Euler
// step, then the trapezoidal correction with the slope at sigma_{i+1};
// the last step to sigma = 0 stays Euler.
Status step_heun(const SamplerRun& run, SamplerState&, size_t i, int, float* x, bool) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  float* slope = run.scratch[1];
  float* x_euler = run.scratch[2];
  const float* x0 = run.scratch[0];
  for (size_t e = 0; e < run.elements; ++e) {
    slope[e] = (x[e] - x0[e]) / sigma;
    x_euler[e] = x[e] + slope[e] * (sigma_next - sigma);
  }
  if (sigma_next == 0.f) {
    for (size_t e = 0; e < run.elements; ++e) x[e] = x_euler[e];
    return Status::ok();
  }
  EG_RETURN_IF_ERROR(denoise_at(run, i + 1, x_euler));  // scratch[0] = D(x_euler, sigma_{i+1})
  const float* x0_next = run.scratch[0];
  for (size_t e = 0; e < run.elements; ++e) {
    float slope_next = (x_euler[e] - x0_next[e]) / sigma_next;
    x[e] += 0.5f * (slope[e] + slope_next) * (sigma_next - sigma);
  }
  return Status::ok();
}

}  // namespace edgegen::samplers
