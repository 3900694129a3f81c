#include "converter/quantize/diffusion_calibration.h"

#include <algorithm>
#include <cmath>

#include "converter/converter.h"
#include "edgegen/diffusion.h"
#include "edgegen/random.h"

namespace edgegen::converter {
namespace {

// DDIM steps per trajectory: enough that the steps of a few groups of
// trajectories tile the schedule finely, few enough that 256 samples come
// from a dozen trajectories' worth of different starting noise.
constexpr int kStepsPerTrajectory = 10;

NoiseScheduleType schedule_type(const std::string& name) {
  if (name == "scaled_linear") return NoiseScheduleType::kScaledLinear;
  if (name == "cosine") return NoiseScheduleType::kCosine;
  if (name == "explicit") return NoiseScheduleType::kExplicit;
  return NoiseScheduleType::kLinear;
}

std::vector<float> alphas_cumprod_of(const Manifest::Diffusion& d) {
  NoiseScheduleSpec spec;
  spec.type = schedule_type(d.schedule);
  spec.beta_start = d.beta_start;
  spec.beta_end = d.beta_end;
  spec.train_steps = d.train_steps;
  spec.explicit_alphas_cumprod = d.alphas_cumprod.empty() ? nullptr : d.alphas_cumprod.data();
  std::vector<float> table(d.train_steps);
  Status status = compute_alphas_cumprod(spec, table.data());
  if (!status.is_ok()) throw ConversionError(std::string("calibration: the noise schedule: ") + status.message());
  return table;
}

int input_position(const IrGraph& graph, const Manifest::Diffusion& d, const char* role) {
  auto found = d.inputs.find(role);
  if (found == d.inputs.end()) return -1;
  for (size_t k = 0; k < graph.inputs.size(); ++k)
    if (graph.tensors[static_cast<size_t>(graph.inputs[k])].name == found->second) return static_cast<int>(k);
  return -1;
}

}  // namespace

DiffusionCalibration diffusion_calibration(const IrGraph& denoiser, const Manifest::Diffusion& d, uint32_t batch,
                                           int count, uint64_t seed, const std::vector<float>& contexts) {
  const int sample_at = input_position(denoiser, d, "sample");
  const int timestep_at = input_position(denoiser, d, "timestep");
  const int class_at = input_position(denoiser, d, "class");
  const int context_at = input_position(denoiser, d, "context");
  if (sample_at < 0 || timestep_at < 0)
    throw ConversionError("calibration: the diffusion manifest names no sample or timestep input of the denoiser");
  const std::vector<float> alphas = alphas_cumprod_of(d);
  const int64_t train_steps = static_cast<int64_t>(alphas.size());
  // Classifier-free guidance runs both halves: the class (or context) and the null one.
  const int halves = (class_at >= 0 && d.null_class >= 0) || context_at >= 0 ? 2 : 1;
  const size_t context_item =
      context_at >= 0 ? static_cast<size_t>(denoiser.tensors[static_cast<size_t>(denoiser.inputs[context_at])].num_elements()) / batch
                      : 0;
  if (context_item > 0 && !contexts.empty() && contexts.size() % context_item != 0)
    throw ConversionError("calibration: the contexts given hold " + std::to_string(contexts.size()) +
                          " values, not a whole number of the denoiser's " + std::to_string(context_item) +
                          "-value context items");
  if (context_item > 0 && !d.unconditional_context.empty() && d.unconditional_context.size() != context_item)
    throw ConversionError("calibration: the unconditional context has " + std::to_string(d.unconditional_context.size()) +
                          " values, the denoiser's context input " + std::to_string(context_item) + " per item");
  const size_t elements = static_cast<size_t>(denoiser.tensors[static_cast<size_t>(denoiser.inputs[sample_at])].num_elements());

  // The trajectories need only the denoiser's outputs: the fast kernels
  // (EDGEGEN_BACKEND=reference pins the reference ones, as everywhere).
  GraphRunner runner(denoiser, batch, Backend::kAuto);
  DiffusionCalibration result;
  const int batches_per_group = kStepsPerTrajectory * halves;
  const int groups = std::max(1, (count + static_cast<int>(batch) * batches_per_group - 1) /
                                     (static_cast<int>(batch) * batches_per_group));
  for (int group = 0; group < groups; ++group) {
    // The group's timesteps: kStepsPerTrajectory evenly spaced over the
    // schedule, shifted by a fraction of the spacing drawn per group.
    float shift = 0.f;
    fill_uniform(seed, 1, static_cast<uint64_t>(group), &shift, 1);
    std::vector<int64_t> timesteps;
    for (int i = kStepsPerTrajectory - 1; i >= 0; --i)
      timesteps.push_back(std::min<int64_t>(
          train_steps - 1, static_cast<int64_t>((i + shift) * static_cast<float>(train_steps) / kStepsPerTrajectory)));
    std::vector<float> x(elements), classes(batch, 0.f);
    fill_normal(seed, 2, static_cast<uint64_t>(group) * elements, x.data(), x.size());
    // The conditional half's contexts: the given ones in turn, or N(0, 1).
    std::vector<float> context(context_item * batch);
    if (context_item > 0 && contexts.empty()) {
      fill_normal(seed, 4, static_cast<uint64_t>(group) * context.size(), context.data(), context.size());
    } else if (context_item > 0) {
      const size_t items = contexts.size() / context_item;
      for (uint32_t b = 0; b < batch; ++b) {
        const size_t item = (static_cast<size_t>(group) * batch + b) % items;
        std::copy_n(contexts.begin() + static_cast<std::ptrdiff_t>(item * context_item), context_item,
                    context.begin() + static_cast<std::ptrdiff_t>(b * context_item));
      }
    }
    if (class_at >= 0) {
      std::vector<float> draw(batch);
      fill_uniform(seed, 3, static_cast<uint64_t>(group) * batch, draw.data(), draw.size());
      for (uint32_t b = 0; b < batch; ++b)
        classes[b] = std::floor(draw[b] * static_cast<float>(std::max<uint32_t>(1, d.num_classes)));
    }
    for (size_t s = 0; s < timesteps.size(); ++s) {
      const int64_t t = timesteps[s];
      std::vector<float> model_out;
      for (int half = 0; half < halves; ++half) {
        CalibrationBatch in;
        in.inputs.resize(denoiser.inputs.size());
        for (size_t k = 0; k < denoiser.inputs.size(); ++k)
          in.inputs[k].assign(static_cast<size_t>(denoiser.tensors[static_cast<size_t>(denoiser.inputs[k])].num_elements()),
                              0.f);
        in.inputs[static_cast<size_t>(sample_at)] = x;
        std::fill(in.inputs[static_cast<size_t>(timestep_at)].begin(), in.inputs[static_cast<size_t>(timestep_at)].end(),
                  static_cast<float>(t));
        if (context_at >= 0) {
          std::vector<float>& given = in.inputs[static_cast<size_t>(context_at)];
          if (half == 0) given = context;
          else if (!d.unconditional_context.empty())
            for (uint32_t b = 0; b < batch; ++b)
              std::copy(d.unconditional_context.begin(), d.unconditional_context.end(),
                        given.begin() + static_cast<std::ptrdiff_t>(b * context_item));
          // (no unconditional context stored: zeros, as the runtime uses)
        }
        if (class_at >= 0) {
          std::vector<float>& labels = in.inputs[static_cast<size_t>(class_at)];
          const size_t per_item = labels.size() / batch;
          for (uint32_t b = 0; b < batch; ++b)
            std::fill_n(labels.begin() + static_cast<std::ptrdiff_t>(b * per_item), per_item,
                        half == 0 ? classes[b] : static_cast<float>(d.null_class));
        }
        std::vector<std::vector<float>> out = runner.run(in);
        if (half == 0) model_out = std::move(out.at(0));
        result.denoiser.push_back(std::move(in));
      }
      if (model_out.size() != elements)
        throw ConversionError("calibration: the denoiser's first output does not have the sample's shape");
      // DDIM (eta 0) to the next timestep, or to the clean sample.
      const double a = alphas[static_cast<size_t>(t)];
      const double a_next = s + 1 < timesteps.size() ? alphas[static_cast<size_t>(timesteps[s + 1])] : 1.0;
      for (size_t e = 0; e < elements; ++e) {
        const double xt = x[e], out = model_out[e];
        double x0 = 0, eps = 0;
        if (d.prediction == "v_prediction") {
          x0 = std::sqrt(a) * xt - std::sqrt(1 - a) * out;
          eps = std::sqrt(1 - a) * xt + std::sqrt(a) * out;
        } else if (d.prediction == "sample") {
          x0 = out;
          eps = (xt - std::sqrt(a) * x0) / std::sqrt(1 - a);
        } else {
          eps = out;
          x0 = (xt - std::sqrt(1 - a) * eps) / std::sqrt(a);
        }
        x[e] = static_cast<float>(std::sqrt(a_next) * x0 + std::sqrt(1 - a_next) * eps);
      }
    }
    result.final_samples.insert(result.final_samples.end(), x.begin(), x.end());
    result.final_count += batch;
  }
  // A group of trajectories gives more batches than a small `count` asks
  // for; keep that many, spread evenly over the steps (and both guidance
  // halves), so that observing the activations costs what was asked.
  const size_t wanted = static_cast<size_t>(std::max(1, (count + static_cast<int>(batch) - 1) / static_cast<int>(batch)));
  if (wanted < result.denoiser.size()) {
    std::vector<CalibrationBatch> kept;
    for (size_t i = 0; i < wanted; ++i) {
      size_t index = i * result.denoiser.size() / wanted;
      if (halves == 2) index = std::min(result.denoiser.size() - 1, (index & ~size_t{1}) + i % 2);
      kept.push_back(std::move(result.denoiser[index]));
    }
    result.denoiser = std::move(kept);
  }
  return result;
}

}  // namespace edgegen::converter
