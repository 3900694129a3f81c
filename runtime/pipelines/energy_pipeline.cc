#include <cmath>
#include <cstring>

#include "edgegen/density.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"

namespace edgegen {
namespace {

size_t event_elements(const Model& model) {
  const auto* spec = model.root()->pipeline_as_EnergyPipeline();
  if (spec->event_shape() == nullptr) return 0;
  size_t n = 1;
  for (int64_t dim : *spec->event_shape()) n *= dim > 0 ? static_cast<size_t>(dim) : 0;
  return n;
}

size_t reserve_for(const Model& model) { return model.batch() * event_elements(model) * sizeof(float) + 64; }

Status not_energy(const Model& model) {
  return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not an energy model",
                       pipeline_kind_name(model.pipeline_kind()));
}

}  // namespace

Result<size_t> EnergyPipeline::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kEnergy) return not_energy(model);
  return Session::arena_bytes_needed(model, reserve_for(model), options);
}

uint32_t EnergyPipeline::capabilities() const {
  return capability_bit(Capability::kSample) | (has_energy() ? capability_bit(Capability::kScore) : 0u);
}

Status EnergyPipeline::sample(const SamplingOptions& options, size_t count, float* items) {
  return sample(options.seed, count, items);
}

Status EnergyPipeline::score(const ScoringOptions&, const float* items, size_t count, float* log_likelihood) {
  if (!has_energy()) return unsupported(Capability::kScore);
  EG_RETURN_IF_ERROR(energy(items, count, log_likelihood));
  for (size_t i = 0; i < count; ++i) log_likelihood[i] = -log_likelihood[i];
  return Status::ok();
}

Status EnergyPipeline::prepare(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kEnergy) return not_energy(model);
  EG_RETURN_IF_ERROR(session_.prepare(model, reserve_for(model), options));
  return configure(model);
}

Status EnergyPipeline::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kEnergy) return not_energy(model);
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, reserve_for(model), options));
  return configure(model);
}

Status EnergyPipeline::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_EnergyPipeline();
  auto invalid = [](const char* message) {
    return Status::error(StatusCode::kInvalidModel, "energy pipeline: %s", message);
  };
  if (spec->score_graph() != 0) return invalid("the score graph must be graph 0");
  energy_graph_ = -1;
  if (spec->has_energy()) {
    if (spec->energy_graph() >= model.num_graphs()) return invalid("the energy graph does not exist");
    energy_graph_ = static_cast<int>(spec->energy_graph());
  }
  const auto* shape = spec->event_shape();
  if (shape == nullptr || shape->size() == 0 || shape->size() >= static_cast<uint32_t>(kMaxRank))
    return invalid("event_shape is missing or has a bad rank");
  event_shape_ = Shape();
  event_shape_.rank = static_cast<int>(shape->size());
  for (int i = 0; i < event_shape_.rank; ++i) event_shape_.dims[i] = shape->Get(static_cast<uint32_t>(i));
  batch_ = model.batch();
  dims_ = event_elements(model);
  levels_ = spec->noise_levels() ? spec->noise_levels()->data() : nullptr;
  num_levels_ = spec->noise_levels() ? spec->noise_levels()->size() : 0;
  for (size_t i = 0; i < num_levels_; ++i)
    if (!(levels_[i] > 0.f) || !std::isfinite(levels_[i]) || (i > 0 && levels_[i] > levels_[i - 1]))
      return invalid("noise_levels must be positive, finite and decreasing");
  step_size_ = spec->step_size();
  steps_per_level_ = spec->steps_per_level();
  if (!(step_size_ > 0.f) || !std::isfinite(step_size_)) return invalid("step_size must be positive");
  if (steps_per_level_ < 1 || steps_per_level_ > 100000) return invalid("steps_per_level must be from 1 to 100000");
  sigma_input_ = spec->sigma_input();
  const size_t inputs = session_.num_inputs(0);
  if (inputs != (sigma_input_ < 0 ? 1u : 2u) || (sigma_input_ >= 0 && sigma_input_ != 1))
    return invalid("the score graph must take x (input 0) and, with sigma_input, the noise level (input 1)");
  if (sigma_input_ >= 0 && num_levels_ == 0) return invalid("a noise-conditional score needs noise_levels");
  const Tensor& x = session_.input(0, 0);
  if (x.dtype != DType::kFloat32 || x.num_elements() != batch_ * dims_ || session_.num_outputs(0) < 1 ||
      session_.output(0, 0).dtype != DType::kFloat32 || session_.output(0, 0).num_elements() != batch_ * dims_)
    return invalid("the score graph must map float32 x to a float32 score of the same size");
  if (sigma_input_ >= 0) {
    const Tensor& sigma = session_.input(0, 1);
    if (sigma.dtype != DType::kFloat32 || sigma.num_elements() != batch_)
      return invalid("the noise-level input must be float32 with one value per item");
  }
  if (energy_graph_ >= 0) {
    const size_t e = static_cast<size_t>(energy_graph_);
    if (session_.num_inputs(e) != 1 || session_.num_outputs(e) < 1 ||
        session_.input(e, 0).num_elements() != batch_ * dims_ || session_.input(e, 0).dtype != DType::kFloat32 ||
        session_.output(e, 0).num_elements() != batch_ || session_.output(e, 0).dtype != DType::kFloat32)
      return invalid("the energy graph must map float32 x to one float32 energy per item");
  }
  state_ = static_cast<float*>(session_.reserve(batch_ * dims_ * sizeof(float)));
  if (state_ == nullptr) return Status::error(StatusCode::kArenaTooSmall, "energy pipeline: reservation too small");
  return Status::ok();
}

Status EnergyPipeline::sample(uint64_t seed, size_t count, float* items) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "sample() before prepare()");
  const size_t levels = num_levels_ > 0 ? num_levels_ : 1;
  const double smallest = num_levels_ > 0 ? levels_[num_levels_ - 1] : 1.0;
  const size_t values = batch_ * dims_;
  for (size_t done = 0; done < count; done += batch_) {
    const size_t n = count - done < batch_ ? count - done : batch_;
    const uint64_t first = static_cast<uint64_t>(done) * dims_;
    fill_normal(seed, 0, first, state_, values);
    const float start = num_levels_ > 0 ? levels_[0] : 1.f;
    for (size_t i = 0; i < values; ++i) state_[i] *= start;
    uint64_t step = 0;
    for (size_t level = 0; level < levels; ++level) {
      const double sigma = num_levels_ > 0 ? levels_[level] : 1.0;
      const double eta = step_size_ * (sigma * sigma) / (smallest * smallest);
      const float half_eta = static_cast<float>(0.5 * eta), root_eta = static_cast<float>(std::sqrt(eta));
      for (uint32_t t = 0; t < steps_per_level_; ++t, ++step) {
        float* x = session_.input(0, 0).data_as<float>();
        std::memcpy(x, state_, values * sizeof(float));
        if (sigma_input_ >= 0) {
          float* noise = session_.input(0, 1).data_as<float>();
          for (size_t b = 0; b < batch_; ++b) noise[b] = static_cast<float>(sigma);
        }
        EG_RETURN_IF_ERROR(session_.run(0));
        const float* score = session_.output(0, 0).data_as<float>();
        // The noise goes into the score output's slot only after the score is read.
        for (size_t i = 0; i < values; ++i) state_[i] += half_eta * score[i];
        float* eps = session_.input(0, 0).data_as<float>();  // free after the run
        fill_normal(seed, 1 + step, first, eps, values);
        for (size_t i = 0; i < values; ++i) state_[i] += root_eta * eps[i];
      }
    }
    std::memcpy(items + done * dims_, state_, n * dims_ * sizeof(float));
  }
  return Status::ok();
}

Status EnergyPipeline::energy(const float* items, size_t count, float* energy) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "energy() before prepare()");
  if (energy_graph_ < 0) return Status::error(StatusCode::kInvalidArgument, "this energy model has no energy graph");
  const size_t e = static_cast<size_t>(energy_graph_);
  float* x = session_.input(e, 0).data_as<float>();
  for (size_t done = 0; done < count; done += batch_) {
    const size_t n = count - done < batch_ ? count - done : batch_;
    std::memcpy(x, items + done * dims_, n * dims_ * sizeof(float));
    if (n < batch_) std::memset(x + n * dims_, 0, (batch_ - n) * dims_ * sizeof(float));
    EG_RETURN_IF_ERROR(session_.run(e));
    std::memcpy(energy + done, session_.output(e, 0).data, n * sizeof(float));
  }
  return Status::ok();
}

}  // namespace edgegen
