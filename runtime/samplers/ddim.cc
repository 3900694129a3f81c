// DDIM and DDPM ancestral steps, written in the VE scale x = x_vp / sqrt(abar)
// (see diffusion.h), where abar = 1 / (1 + sigma^2).
#include <cmath>

#include "samplers/sampler_steps.h"

namespace edgegen::samplers {

// Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021, eq. (12):
//   x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - s^2) eps + s z,
//   s = eta sqrt((1 - a_prev) / (1 - a_t)) sqrt(1 - a_t / a_prev)   (eq. 16),
// divided by sqrt(a_prev) to stay in the VE scale.
Status step_ddim(const SamplerRun& run, SamplerState&, size_t i, int repeat, float* x, bool) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  const double sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  const double a = 1.0 / (1.0 + sigma * sigma), a_prev = 1.0 / (1.0 + sigma_next * sigma_next);
  double s = run.eta * std::sqrt((1.0 - a_prev) / (1.0 - a)) * std::sqrt(1.0 - a / a_prev);
  double direction = 1.0 - a_prev - s * s;
  if (direction < 0) direction = 0;
  const float eps_scale = static_cast<float>(std::sqrt(direction / a_prev) / sigma);
  const float noise_scale = static_cast<float>(s / std::sqrt(a_prev));
  float* noise = run.scratch[1];
  if (noise_scale > 0.f) run.noise.fill(run.noise.user, noise_key(run, i, repeat, 0), noise);
  for (size_t e = 0; e < run.elements; ++e) {
    float next = x0[e] + eps_scale * (x[e] - x0[e]);  // eps = (x - x0) / sigma
    if (noise_scale > 0.f) next += noise_scale * noise[e];
    x[e] = next;
  }
  return Status::ok();
}

// Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS
// 2020, eqs. (6)-(7), the posterior q(x_prev | x_t, x0) between the plan's
// (possibly strided) timesteps: beta = 1 - a_t / a_prev,
//   mean = sqrt(a_prev) beta / (1 - a_t) x0 + sqrt(a_t / a_prev) (1 - a_prev) / (1 - a_t) x_t,
//   var  = (1 - a_prev) / (1 - a_t) beta.
Status step_ddpm(const SamplerRun& run, SamplerState&, size_t i, int repeat, float* x, bool) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  const double sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  const double a = 1.0 / (1.0 + sigma * sigma), a_prev = 1.0 / (1.0 + sigma_next * sigma_next);
  const double beta = 1.0 - a / a_prev;
  // In the VE scale: x_vp = sqrt(a) x, result divided by sqrt(a_prev).
  const float c0 = static_cast<float>(beta / (1.0 - a));
  const float ct = static_cast<float>(std::sqrt(a / a_prev) * (1.0 - a_prev) / (1.0 - a) * std::sqrt(a / a_prev));
  const float noise_scale = static_cast<float>(std::sqrt((1.0 - a_prev) / (1.0 - a) * beta / a_prev));
  float* noise = run.scratch[1];
  if (noise_scale > 0.f) run.noise.fill(run.noise.user, noise_key(run, i, repeat, 0), noise);
  for (size_t e = 0; e < run.elements; ++e) {
    float next = c0 * x0[e] + ct * x[e];
    if (noise_scale > 0.f) next += noise_scale * noise[e];
    x[e] = next;
  }
  return Status::ok();
}

}  // namespace edgegen::samplers
