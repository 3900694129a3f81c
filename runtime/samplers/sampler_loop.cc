// The sampler loop: one switch picks the update rule; in-painting
// (RePaint, Lugmayr et al., "RePaint: Inpainting using Denoising Diffusion
// Probabilistic Models", CVPR 2022), progress and cancellation are here so
// every sampler gets them.
#include <cmath>
#include <cstring>

#include "platform/clock.h"
#include "samplers/sampler_steps.h"

namespace edgegen {

namespace {
struct SamplerInfo {
  SamplerKind kind;
  const char* name;
  size_t scratch;
};
constexpr SamplerInfo kSamplers[] = {
    {SamplerKind::kDdim, "ddim", 2},          {SamplerKind::kEuler, "euler", 2},
    {SamplerKind::kEulerAncestral, "euler_a", 2}, {SamplerKind::kHeun, "heun", 4},
    {SamplerKind::kDpmpp2m, "dpmpp_2m", 3},   {SamplerKind::kDpmpp3m, "dpmpp_3m", 4},
    {SamplerKind::kDdpm, "ddpm", 2},          {SamplerKind::kLcm, "lcm", 2},
};
}  // namespace

const char* sampler_name(SamplerKind kind) {
  for (const auto& info : kSamplers)
    if (info.kind == kind) return info.name;
  return "unknown";
}

bool parse_sampler(const char* name, SamplerKind* kind) {
  for (const auto& info : kSamplers)
    if (std::strcmp(info.name, name) == 0) {
      *kind = info.kind;
      return true;
    }
  return false;
}

size_t sampler_scratch_buffers(SamplerKind kind) {
  for (const auto& info : kSamplers)
    if (info.kind == kind) return info.scratch;
  return 5;
}

size_t sampler_model_calls(SamplerKind kind, size_t steps) {
  return kind == SamplerKind::kHeun && steps > 0 ? 2 * steps - 1 : steps;
}

namespace samplers {

Status denoise_at(const SamplerRun& run, size_t i, const float* x) {
  return run.denoise.denoise(run.denoise.user, x, run.plan->sigmas[i], run.plan->timesteps[i], run.scratch[0]);
}

uint64_t noise_key(const SamplerRun& run, size_t i, int r, int use) {
  return (static_cast<uint64_t>(i) * static_cast<uint64_t>(run.resample) + static_cast<uint64_t>(r)) * 4u +
         static_cast<uint64_t>(use);
}

}  // namespace samplers

Status run_sampler(const SamplerRun& run, float* x) {
  using namespace samplers;
  if (run.plan == nullptr || run.plan->steps == 0 || run.denoise.denoise == nullptr)
    return Status::error(StatusCode::kInvalidArgument, "run_sampler: needs a step plan and a denoise callback");
  for (size_t k = 0; k < sampler_scratch_buffers(run.kind); ++k)
    if (run.scratch[k] == nullptr)
      return Status::error(StatusCode::kInvalidArgument, "run_sampler: %s needs %zu scratch buffers",
                           sampler_name(run.kind), sampler_scratch_buffers(run.kind));
  const bool inpaint = run.known != nullptr && run.mask != nullptr;
  const int repeats = inpaint && run.resample > 1 ? run.resample : 1;
  float* noise = run.scratch[sampler_scratch_buffers(run.kind) - 1];  // free between steps: reused for in-paint noise
  const uint64_t start = monotonic_nanoseconds();
  SamplerState state;
  const size_t steps = run.plan->steps;
  for (size_t i = 0; i < steps; ++i) {
    for (int r = 0; r < repeats; ++r) {
      const bool commit = r == repeats - 1;
      Status status;
      switch (run.kind) {
        case SamplerKind::kDdim: status = step_ddim(run, state, i, r, x, commit); break;
        case SamplerKind::kEuler: status = step_euler(run, state, i, r, x, commit); break;
        case SamplerKind::kEulerAncestral: status = step_euler_ancestral(run, state, i, r, x, commit); break;
        case SamplerKind::kHeun: status = step_heun(run, state, i, r, x, commit); break;
        case SamplerKind::kDpmpp2m: status = step_dpmpp_2m(run, state, i, r, x, commit); break;
        case SamplerKind::kDpmpp3m: status = step_dpmpp_3m(run, state, i, r, x, commit); break;
        case SamplerKind::kDdpm: status = step_ddpm(run, state, i, r, x, commit); break;
        case SamplerKind::kLcm: status = step_lcm(run, state, i, r, x, commit); break;
        default: return Status::error(StatusCode::kInvalidArgument, "run_sampler: unknown sampler %u",
                                      static_cast<uint32_t>(run.kind));
      }
      EG_RETURN_IF_ERROR(status);
      if (!inpaint) continue;
      // RePaint: the known region at the new noise level, x_known = x0 + sigma_{i+1} z.
      const float sigma_next = run.plan->sigmas[i + 1];
      if (sigma_next > 0.f) run.noise.fill(run.noise.user, noise_key(run, i, r, 1), noise);
      for (size_t e = 0; e < run.elements; ++e)
        if (run.mask[e] > 0.5f) x[e] = run.known[e] + (sigma_next > 0.f ? sigma_next * noise[e] : 0.f);
      if (!commit) {
        // Jump back to sigma_i: x + sqrt(sigma_i^2 - sigma_{i+1}^2) z (forward diffusion in the VE scale).
        const double sigma = run.plan->sigmas[i];
        const float scale = static_cast<float>(std::sqrt(sigma * sigma - static_cast<double>(sigma_next) * sigma_next));
        run.noise.fill(run.noise.user, noise_key(run, i, r, 2), noise);
        for (size_t e = 0; e < run.elements; ++e) x[e] += scale * noise[e];
      }
    }
    if (run.progress.on_step != nullptr &&
        !run.progress.on_step(run.progress.user, i + 1, steps,
                              static_cast<double>(monotonic_nanoseconds() - start) * 1e-9))
      return Status::error(StatusCode::kCancelled, "sampling cancelled after step %zu of %zu", i + 1, steps);
  }
  return Status::ok();
}

}  // namespace edgegen
