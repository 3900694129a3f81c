#include <cmath>
#include <cstring>

#include "edgegen/density.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"
#include "pipelines/likelihood_terms.h"

namespace edgegen {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454835606594728112;

size_t event_elements(const Model& model) {
  const auto* spec = model.root()->pipeline_as_AutoregressivePipeline();
  if (spec->event_shape() == nullptr) return 0;
  size_t n = 1;
  for (int64_t dim : *spec->event_shape()) n *= dim > 0 ? static_cast<size_t>(dim) : 0;
  return n;
}

size_t reserve_for(const Model& model) { return model.batch() * event_elements(model) * sizeof(float) + 64; }

// log-sum-exp of `n` values scaled by 1/temperature, stably.

}  // namespace

Result<size_t> AutoregressivePipeline::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kAutoregressive)
    return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not autoregressive",
                         pipeline_kind_name(model.pipeline_kind()));
  return Session::arena_bytes_needed(model, reserve_for(model), options);
}

uint32_t AutoregressivePipeline::capabilities() const {
  return capability_bit(Capability::kScore) | capability_bit(Capability::kSample) | capability_bit(Capability::kImpute);
}

namespace {
ArSampleOptions ar_options(const SamplingOptions& options) {
  ArSampleOptions ar;
  ar.seed = options.seed;
  ar.temperature = options.temperature;
  ar.top_k = options.top_k;
  return ar;
}
}  // namespace

Status AutoregressivePipeline::score(const ScoringOptions&, const float* items, size_t count, float* log_likelihood) {
  return log_prob(items, count, log_likelihood);
}

Status AutoregressivePipeline::sample(const SamplingOptions& options, size_t count, float* items) {
  return sample(ar_options(options), count, items);
}

Status AutoregressivePipeline::impute(const SamplingOptions& options, size_t count, float* items) {
  return impute(ar_options(options), count, items);
}

Status AutoregressivePipeline::prepare(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kAutoregressive)
    return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not autoregressive",
                         pipeline_kind_name(model.pipeline_kind()));
  EG_RETURN_IF_ERROR(session_.prepare(model, reserve_for(model), options));
  return configure(model);
}

Status AutoregressivePipeline::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kAutoregressive)
    return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not autoregressive",
                         pipeline_kind_name(model.pipeline_kind()));
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, reserve_for(model), options));
  return configure(model);
}

Status AutoregressivePipeline::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_AutoregressivePipeline();
  if (spec->conditionals_graph() != 0 || model.num_graphs() < 1)
    return Status::error(StatusCode::kInvalidModel, "autoregressive pipeline: the conditionals graph must be graph 0");
  const auto* shape = spec->event_shape();
  if (shape == nullptr || shape->size() == 0 || shape->size() >= static_cast<uint32_t>(kMaxRank))
    return Status::error(StatusCode::kInvalidModel, "autoregressive pipeline: event_shape is missing or has a bad rank");
  event_shape_ = Shape();
  event_shape_.rank = static_cast<int>(shape->size());
  for (int i = 0; i < event_shape_.rank; ++i) event_shape_.dims[i] = shape->Get(static_cast<uint32_t>(i));
  batch_ = model.batch();
  dims_ = event_elements(model);
  kind_ = static_cast<ArKind>(spec->distribution());
  categories_ = spec->num_categories();
  if (kind_ != ArKind::kBernoulli && kind_ != ArKind::kCategorical && kind_ != ArKind::kGaussian)
    return Status::error(StatusCode::kInvalidModel, "autoregressive pipeline: unknown distribution %u",
                         static_cast<uint32_t>(kind_));
  if (kind_ == ArKind::kCategorical && categories_ < 2)
    return Status::error(StatusCode::kInvalidModel, "autoregressive pipeline: categorical needs num_categories >= 2");
  per_item_ = kind_ == ArKind::kCategorical ? dims_ * categories_ : kind_ == ArKind::kGaussian ? 2 * dims_ : dims_;
  if (session_.num_inputs(0) != 1 || session_.num_outputs(0) < 1)
    return Status::error(StatusCode::kInvalidModel, "autoregressive pipeline: the graph needs one input and an output");
  const Tensor& input = session_.input(0, 0);
  const Tensor& output = session_.output(0, 0);
  // Token ids (int64/int32, into an embedding) are the natural input of a categorical model.
  const bool integer_input = input.dtype == DType::kInt64 || input.dtype == DType::kInt32;
  if ((input.dtype != DType::kFloat32 && !(integer_input && kind_ == ArKind::kCategorical)) ||
      input.num_elements() != batch_ * dims_ || output.dtype != DType::kFloat32 ||
      output.num_elements() != batch_ * per_item_)
    return Status::error(StatusCode::kInvalidModel,
                         "autoregressive pipeline: input '%s' must be float32 (or int64/int32 token ids for a "
                         "categorical model) with %zu values per item, and output '%s' float32 with %zu",
                         input.name, dims_, output.name, per_item_);
  state_ = static_cast<float*>(session_.reserve(batch_ * dims_ * sizeof(float)));
  if (state_ == nullptr) return Status::error(StatusCode::kArenaTooSmall, "autoregressive pipeline: reservation too small");
  return Status::ok();
}

void AutoregressivePipeline::write_input(const float* rows) {
  Tensor& input = session_.input(0, 0);
  const size_t n = batch_ * dims_;
  if (input.dtype == DType::kInt64) {
    for (size_t i = 0; i < n; ++i) input.data_as<int64_t>()[i] = static_cast<int64_t>(rows[i]);
  } else if (input.dtype == DType::kInt32) {
    for (size_t i = 0; i < n; ++i) input.data_as<int32_t>()[i] = static_cast<int32_t>(rows[i]);
  } else {
    std::memcpy(input.data, rows, n * sizeof(float));
  }
}

Status AutoregressivePipeline::log_prob(const float* items, size_t count, float* log_prob) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "log_prob() before prepare()");
  for (size_t done = 0; done < count; done += batch_) {
    const size_t n = count - done < batch_ ? count - done : batch_;
    const float* x = items + done * dims_;
    // Categorical values are checked before the graph sees them: an
    // integer input cannot hold 2.5 or -1 faithfully.
    for (size_t i = 0; kind_ == ArKind::kCategorical && i < n * dims_; ++i)
      if (!(x[i] >= 0.f && x[i] < static_cast<float>(categories_)) || x[i] != std::floor(x[i]))
        return Status::error(StatusCode::kInvalidArgument,
                             "item %zu, dimension %zu: categorical data must be an integer in [0, %u) (got %g)",
                             done + i / dims_, i % dims_, categories_, static_cast<double>(x[i]));
    std::memcpy(state_, x, n * dims_ * sizeof(float));
    if (n < batch_) std::memset(state_ + n * dims_, 0, (batch_ - n) * dims_ * sizeof(float));
    write_input(state_);
    EG_RETURN_IF_ERROR(session_.run(0));
    const float* out = session_.output(0, 0).data_as<float>();
    for (size_t item = 0; item < n; ++item) {
      const float* xi = x + item * dims_;
      const float* oi = out + item * per_item_;
      if (kind_ == ArKind::kCategorical) {  // values checked before the run
        log_prob[done + item] = static_cast<float>(categorical_log_likelihood(xi, oi, dims_, categories_));
        continue;
      }
      if (kind_ == ArKind::kBernoulli) {
        for (size_t d = 0; d < dims_; ++d)
          if (!(xi[d] >= 0.f && xi[d] <= 1.f))
            return Status::error(StatusCode::kInvalidArgument, "item %zu, dimension %zu: bernoulli data must be in [0, 1] (got %g)",
                                 done + item, d, static_cast<double>(xi[d]));
        // x log sigmoid(l) + (1 - x) log sigmoid(-l)
        log_prob[done + item] = static_cast<float>(bernoulli_logit_log_likelihood(xi, oi, dims_));
        continue;
      }
      double total = 0;  // Gaussian: mean and log std per dimension
      for (size_t d = 0; d < dims_; ++d) {
        const double mean = oi[d], log_std = oi[dims_ + d];
        const double u = (xi[d] - mean) * std::exp(-log_std);
        total += -0.5 * u * u - log_std - 0.5 * kLogTwoPi;
      }
      log_prob[done + item] = static_cast<float>(total);
    }
  }
  return Status::ok();
}

Status AutoregressivePipeline::draw_dimension(size_t d, size_t items, size_t first_item, const ArSampleOptions& options,
                                              const float* missing) {
  write_input(state_);
  EG_RETURN_IF_ERROR(session_.run(0));
  const float* out = session_.output(0, 0).data_as<float>();
  const bool greedy = options.temperature <= 0.f;
  const double inv_t = greedy ? 1.0 : 1.0 / options.temperature;
  for (size_t item = 0; item < items; ++item) {
    if (missing != nullptr && !std::isnan(missing[item * dims_ + d])) continue;
    const float* oi = out + item * per_item_;
    const uint64_t index = static_cast<uint64_t>(first_item + item) * dims_ + d;
    float value;
    if (kind_ == ArKind::kBernoulli) {
      float u;
      fill_uniform(options.seed, 0, index, &u, 1);
      const double p = 1.0 / (1.0 + std::exp(-oi[d] * inv_t));
      value = greedy ? (oi[d] > 0.f ? 1.f : 0.f) : (u < p ? 1.f : 0.f);
    } else if (kind_ == ArKind::kCategorical) {
      const float* logits = oi + d * categories_;
      // top-k: the k-th largest logit is the cut (ties at the cut are kept).
      float cut = -INFINITY;
      if (options.top_k > 0 && options.top_k < categories_) {
        for (uint32_t c = 0; c < categories_; ++c) {
          uint32_t larger = 0;
          for (uint32_t o = 0; o < categories_; ++o) larger += logits[o] > logits[c];
          if (larger < options.top_k && (cut == -INFINITY || logits[c] < cut)) cut = logits[c];
        }
      }
      uint32_t best = 0;
      for (uint32_t c = 1; c < categories_; ++c)
        if (logits[c] > logits[best]) best = c;
      if (greedy) {
        value = static_cast<float>(best);
      } else {
        double top = logits[best] * inv_t, total = 0;
        for (uint32_t c = 0; c < categories_; ++c)
          if (logits[c] >= cut) total += std::exp(logits[c] * inv_t - top);
        float u;
        fill_uniform(options.seed, 0, index, &u, 1);
        double target = u * total, running = 0;
        value = static_cast<float>(best);
        for (uint32_t c = 0; c < categories_; ++c) {
          if (logits[c] < cut) continue;
          running += std::exp(logits[c] * inv_t - top);
          if (running > target) {
            value = static_cast<float>(c);
            break;
          }
        }
      }
    } else {
      float eps;
      fill_normal(options.seed, 0, index, &eps, 1);
      value = static_cast<float>(oi[d] + (greedy ? 0.0 : options.temperature * std::exp(static_cast<double>(oi[dims_ + d])) * eps));
    }
    state_[item * dims_ + d] = value;
  }
  return Status::ok();
}

Status AutoregressivePipeline::fill(const ArSampleOptions& options, size_t count, float* items, bool impute) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "sample() before prepare()");
  if (!(options.temperature >= 0.f) || !std::isfinite(options.temperature))
    return Status::error(StatusCode::kInvalidArgument, "temperature must be finite and >= 0");
  for (size_t done = 0; done < count; done += batch_) {
    const size_t n = count - done < batch_ ? count - done : batch_;
    float* rows = items + done * dims_;
    std::memset(state_, 0, batch_ * dims_ * sizeof(float));
    if (impute) {
      for (size_t i = 0; i < n * dims_; ++i) {
        const float value = rows[i];
        if (kind_ == ArKind::kCategorical && !std::isnan(value) &&
            (!(value >= 0.f && value < static_cast<float>(categories_)) || value != std::floor(value)))
          return Status::error(StatusCode::kInvalidArgument,
                               "item %zu, dimension %zu: categorical data must be an integer in [0, %u) or NaN (got %g)",
                               done + i / dims_, i % dims_, categories_, static_cast<double>(value));
        state_[i] = std::isnan(value) ? 0.f : value;
      }
    }
    for (size_t d = 0; d < dims_; ++d) {
      bool needed = !impute;
      for (size_t item = 0; item < n && !needed; ++item) needed = std::isnan(rows[item * dims_ + d]);
      if (needed) EG_RETURN_IF_ERROR(draw_dimension(d, n, done, options, impute ? rows : nullptr));
    }
    std::memcpy(rows, state_, n * dims_ * sizeof(float));
  }
  return Status::ok();
}

Status AutoregressivePipeline::sample(const ArSampleOptions& options, size_t count, float* items) {
  return fill(options, count, items, false);
}

Status AutoregressivePipeline::impute(const ArSampleOptions& options, size_t count, float* items) {
  return fill(options, count, items, true);
}

}  // namespace edgegen
