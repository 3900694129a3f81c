// Multistep DPM-Solver++ (Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast
// Solver for Guided Sampling of Diffusion Probabilistic Models", 2022) in
// the data-prediction form, with lambda = -log sigma and h = lambda_{i+1} - lambda_i.
// The first step (no history) and the last step (sigma_{i+1} = 0, where
// x = D) are first order.
#include <cmath>
#include <cstring>

#include "samplers/sampler_steps.h"

namespace edgegen::samplers {

namespace {
void copy(float* to, const float* from, size_t count) { std::memcpy(to, from, count * sizeof(float)); }
}  // namespace

// Algorithm 2 of the paper (DPM-Solver++(2M)):
//   D_i' = (1 + 1/(2r)) D_i - 1/(2r) D_{i-1},  r = h_{i-1} / h_i
//   x_{i+1} = (sigma_{i+1} / sigma_i) x_i - (exp(-h) - 1) D_i'
Status step_dpmpp_2m(const SamplerRun& run, SamplerState& state, size_t i, int, float* x, bool commit) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  float* previous = run.scratch[1];
  const double sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  double h = 0;
  if (sigma_next == 0.0) {
    copy(x, x0, run.elements);
  } else {
    h = std::log(sigma) - std::log(sigma_next);
    const float ratio = static_cast<float>(sigma_next / sigma);
    const float weight = static_cast<float>(-std::expm1(-h));
    if (state.history == 0) {
      for (size_t e = 0; e < run.elements; ++e) x[e] = ratio * x[e] + weight * x0[e];
    } else {
      const double r = state.h_last / h;
      const float a = static_cast<float>(1.0 + 1.0 / (2.0 * r)), b = static_cast<float>(1.0 / (2.0 * r));
      for (size_t e = 0; e < run.elements; ++e) x[e] = ratio * x[e] + weight * (a * x0[e] - b * previous[e]);
    }
  }
  if (commit) {
    copy(previous, x0, run.elements);
    state.history = 1;
    state.h_last = h;
  }
  return Status::ok();
}

// Third-order multistep DPM-Solver++ (the paper's multistep scheme of order
// 3, Appendix; in the form of k-diffusion's dpmpp_3m with eta = 0):
//   x = (sigma_{i+1}/sigma_i) x + (1 - e^{-h}) D_i + phi_2 d1 - phi_3 d2,
//   phi_2 = (e^{-h} - 1)/h + 1, phi_3 = phi_2 / h - 1/2,
//   d1_0 = (D_i - D_{i-1}) / r0, d1_1 = (D_{i-1} - D_{i-2}) / r1,
//   d1 = d1_0 + (d1_0 - d1_1) r0 / (r0 + r1), d2 = (d1_0 - d1_1) / (r0 + r1),
// with r0 = h_{i-1}/h, r1 = h_{i-2}/h; with one past value the second-order
// term phi_2 (D_i - D_{i-1}) / r0 only.
Status step_dpmpp_3m(const SamplerRun& run, SamplerState& state, size_t i, int, float* x, bool commit) {
  EG_RETURN_IF_ERROR(denoise_at(run, i, x));
  const float* x0 = run.scratch[0];
  float* previous = run.scratch[1];
  float* before_previous = run.scratch[2];
  const double sigma = run.plan->sigmas[i], sigma_next = run.plan->sigmas[i + 1];
  double h = 0;
  if (sigma_next == 0.0) {
    copy(x, x0, run.elements);
  } else {
    h = std::log(sigma) - std::log(sigma_next);
    const float ratio = static_cast<float>(sigma_next / sigma);
    const float weight = static_cast<float>(-std::expm1(-h));
    const double phi2 = std::expm1(-h) / h + 1.0, phi3 = phi2 / h - 0.5;
    if (state.history >= 2) {
      const double r0 = state.h_last / h, r1 = state.h_before_last / h;
      const float c1 = static_cast<float>(phi2), c2 = static_cast<float>(phi3);
      const float k0 = static_cast<float>(1.0 / r0), k1 = static_cast<float>(1.0 / r1);
      const float mix = static_cast<float>(r0 / (r0 + r1)), inv = static_cast<float>(1.0 / (r0 + r1));
      for (size_t e = 0; e < run.elements; ++e) {
        float d10 = (x0[e] - previous[e]) * k0, d11 = (previous[e] - before_previous[e]) * k1;
        float d1 = d10 + (d10 - d11) * mix, d2 = (d10 - d11) * inv;
        x[e] = ratio * x[e] + weight * x0[e] + c1 * d1 - c2 * d2;
      }
    } else if (state.history == 1) {
      const float c = static_cast<float>(phi2 / (state.h_last / h));
      for (size_t e = 0; e < run.elements; ++e) x[e] = ratio * x[e] + weight * x0[e] + c * (x0[e] - previous[e]);
    } else {
      for (size_t e = 0; e < run.elements; ++e) x[e] = ratio * x[e] + weight * x0[e];
    }
  }
  if (commit) {
    copy(before_previous, previous, run.elements);
    copy(previous, x0, run.elements);
    state.history = state.history < 2 ? state.history + 1 : 2;
    state.h_before_last = state.h_last;
    state.h_last = h;
  }
  return Status::ok();
}

}  // namespace edgegen::samplers
