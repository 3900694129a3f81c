// Latent consistency multistep sampling (Luo, Tan, Huang, Li & Zhao, "Latent
// Consistency Models", 2023, Algorithm 1): at each step the consistency
// function f(x, t) = c_skip(t) x + c_out(t) x0_pred(x, t) gives the clean
// sample, which is re-noised to the next timestep with fresh noise:
//   x_{i+1} = sqrt(a_{i+1}) f + sqrt(1 - a_{i+1}) z   (VP; here x = f + sigma_{i+1} z).
// Boundary conditions as in the LCM release: c_skip = s_d^2 / ((10 t)^2 + s_d^2),
// c_out = 10 t / sqrt((10 t)^2 + s_d^2), s_d = 0.5.
#include <cmath>

#include "samplers/sampler_steps.h"

namespace edgegen::samplers {

Status step_lcm(const SamplerRun& run, SamplerState&, size_t i, int repeat, float* x, bool) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  const double sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  const double scaled_t = 10.0 * run.plan->timesteps[i], sigma_data = 0.5;
  const double c_skip = sigma_data * sigma_data / (scaled_t * scaled_t + sigma_data * sigma_data);
  const double c_out = scaled_t / std::sqrt(scaled_t * scaled_t + sigma_data * sigma_data);
  // f = c_skip x_vp + c_out x0 with x_vp = x / sqrt(1 + sigma^2).
  const float skip = static_cast<float>(c_skip / std::sqrt(1.0 + sigma * sigma)), out = static_cast<float>(c_out);
  float* noise = run.scratch[1];
  if (sigma_next > 0) run.noise.fill(run.noise.user, noise_key(run, i, repeat, 0), noise);
  for (size_t e = 0; e < run.elements; ++e) {
    float clean = skip * x[e] + out * x0[e];
    x[e] = sigma_next > 0 ? clean + static_cast<float>(sigma_next) * noise[e] : clean;
  }
  return Status::ok();
}

}  // namespace edgegen::samplers
