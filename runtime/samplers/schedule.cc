// Noise schedules and the step plans samplers walk.
#include <cmath>

#include "edgegen/diffusion.h"

namespace edgegen {

Status compute_alphas_cumprod(const NoiseScheduleSpec& spec, float* out) {
  const uint32_t steps = spec.train_steps;
  if (steps < 2) return Status::error(StatusCode::kInvalidModel, "diffusion schedule: train_steps %u < 2", steps);
  double product = 1.0;
  for (uint32_t t = 0; t < steps; ++t) {
    double beta = 0.0;
    double fraction = static_cast<double>(t) / (steps - 1);
    switch (spec.type) {
      case NoiseScheduleType::kLinear:  // Ho et al. 2020: betas = linspace(beta_start, beta_end, T)
        beta = spec.beta_start + fraction * (static_cast<double>(spec.beta_end) - spec.beta_start);
        break;
      case NoiseScheduleType::kScaledLinear: {  // latent diffusion: linspace of sqrt(beta), squared
        double low = std::sqrt(static_cast<double>(spec.beta_start)), high = std::sqrt(static_cast<double>(spec.beta_end));
        double root = low + fraction * (high - low);
        beta = root * root;
        break;
      }
      case NoiseScheduleType::kCosine: {  // Nichol & Dhariwal 2021, "squaredcos_cap_v2"
        auto alpha_bar = [](double x) {
          double c = std::cos((x + 0.008) / 1.008 * 3.14159265358979323846 / 2);
          return c * c;
        };
        beta = 1.0 - alpha_bar(static_cast<double>(t + 1) / steps) / alpha_bar(static_cast<double>(t) / steps);
        if (beta > 0.999) beta = 0.999;
        break;
      }
      case NoiseScheduleType::kExplicit:
        if (spec.explicit_alphas_cumprod == nullptr)
          return Status::error(StatusCode::kInvalidModel, "diffusion schedule: explicit schedule without alphas_cumprod");
        out[t] = spec.explicit_alphas_cumprod[t];
        continue;
    }
    product *= 1.0 - beta;
    out[t] = static_cast<float>(product);
  }
  for (uint32_t t = 0; t < steps; ++t)
    if (!(out[t] > 0.f) || !(out[t] <= 1.f) || (t > 0 && !(out[t] < out[t - 1])))
      return Status::error(StatusCode::kInvalidModel,
                           "diffusion schedule: alphas_cumprod[%u] = %g is not in (0, 1] and strictly decreasing", t,
                           static_cast<double>(out[t]));
  return Status::ok();
}

namespace {

double sigma_of(double alpha_cumprod) { return std::sqrt((1.0 - alpha_cumprod) / alpha_cumprod); }

// The fractional training timestep whose sigma is `sigma`: linear
// interpolation of log sigma in the training table (k-diffusion's sigma_to_t).
double timestep_of_sigma(const float* alphas_cumprod, uint32_t train_steps, double sigma) {
  double log_sigma = std::log(sigma);
  double first = std::log(sigma_of(alphas_cumprod[0]));
  if (log_sigma <= first) return 0.0;
  for (uint32_t t = 1; t < train_steps; ++t) {
    double high = std::log(sigma_of(alphas_cumprod[t]));
    if (log_sigma <= high) {
      double low = std::log(sigma_of(alphas_cumprod[t - 1]));
      return (t - 1) + (log_sigma - low) / (high - low);
    }
  }
  return train_steps - 1;
}

}  // namespace

Status make_step_plan(const float* alphas_cumprod, uint32_t train_steps, size_t steps, TimestepSpacing spacing,
                      bool karras, StepPlan* plan) {
  if (steps < 1 || steps > train_steps)
    return Status::error(StatusCode::kInvalidArgument, "steps = %zu must be in [1, %u] (the training steps)", steps,
                         train_steps);
  plan->steps = steps;
  const double total = train_steps;
  if (karras) {
    // Karras et al. 2022, eq. (5) with rho = 7, between the training table's
    // smallest and largest sigma.
    const double rho = 7.0;
    double min_inv = std::pow(sigma_of(alphas_cumprod[0]), 1.0 / rho);
    double max_inv = std::pow(sigma_of(alphas_cumprod[train_steps - 1]), 1.0 / rho);
    for (size_t i = 0; i < steps; ++i) {
      double ramp = steps == 1 ? 0.0 : static_cast<double>(i) / (steps - 1);
      double sigma = std::pow(max_inv + ramp * (min_inv - max_inv), rho);
      plan->sigmas[i] = static_cast<float>(sigma);
      plan->timesteps[i] = static_cast<float>(timestep_of_sigma(alphas_cumprod, train_steps, sigma));
    }
  } else {
    for (size_t i = 0; i < steps; ++i) {
      double t = 0;
      switch (spacing) {
        case TimestepSpacing::kLeading:  // DDIM: every (T / N)-th step from 0, largest first
          t = static_cast<double>((steps - 1 - i) * (train_steps / steps));
          break;
        case TimestepSpacing::kTrailing:  // from T - 1 down (Lin et al. 2024, "Common diffusion noise schedules...")
          t = std::round(total - static_cast<double>(i) * total / static_cast<double>(steps)) - 1;
          break;
        case TimestepSpacing::kLinspace:
          t = steps == 1 ? total - 1 : std::round((total - 1) * static_cast<double>(steps - 1 - i) / (steps - 1));
          break;
      }
      if (t < 0) t = 0;
      plan->timesteps[i] = static_cast<float>(t);
      plan->sigmas[i] = static_cast<float>(sigma_of(alphas_cumprod[static_cast<size_t>(t)]));
    }
  }
  plan->sigmas[steps] = 0.f;
  return Status::ok();
}

}  // namespace edgegen
