#include <cmath>
#include <cstring>

#include "edgegen/density.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"
#include "pipelines/likelihood_terms.h"

namespace edgegen {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454835606594728112;

Status check_float(const Tensor& tensor, size_t batch, size_t per_item, const char* role) {
  if (tensor.dtype != DType::kFloat32 || tensor.shape.rank < 1 || tensor.shape.dims[0] != static_cast<int64_t>(batch) ||
      tensor.num_elements() != batch * per_item)
    return Status::error(StatusCode::kInvalidModel, "vae scorer: %s '%s' must be float32 [%zu, ...] with %zu values per item",
                         role, tensor.name, batch, per_item);
  return Status::ok();
}

// log(p) as PyTorch's binary_cross_entropy takes it: clamped at -100.
double clamped_log(double p) {
  double value = p > 0 ? std::log(p) : -100.0;
  return value < -100.0 ? -100.0 : value;
}

Status not_vae(const Model& model) {
  return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not a vae",
                       pipeline_kind_name(model.pipeline_kind()));
}

}  // namespace

size_t VaeScorer::reserve_bytes(size_t batch, size_t latent) {
  // Each reservation is rounded up to 64 bytes.
  return 2 * (batch * latent * sizeof(float) + 64) + 3 * (batch * sizeof(double) + 64);
}

Result<size_t> VaeScorer::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kVae) return not_vae(model);
  const auto* spec = model.root()->pipeline_as_VaePipeline();
  size_t latent = 1;
  for (int64_t dim : *spec->latent_shape()) latent *= static_cast<size_t>(dim);
  return Session::arena_bytes_needed(model, reserve_bytes(model.batch(), latent), options);
}

Status VaeScorer::score(const ScoringOptions& options, const float* items, size_t count, float* log_likelihood) {
  return score(items, count, options.samples, options.bound, options.seed, log_likelihood);
}

Status VaeScorer::prepare(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kVae) return not_vae(model);
  const auto* spec = model.root()->pipeline_as_VaePipeline();
  size_t latent = 1;
  for (int64_t dim : *spec->latent_shape()) latent *= static_cast<size_t>(dim);
  EG_RETURN_IF_ERROR(session_.prepare(model, reserve_bytes(model.batch(), latent), options));
  return configure(model);
}

Status VaeScorer::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kVae) return not_vae(model);
  const auto* spec = model.root()->pipeline_as_VaePipeline();
  size_t latent = 1;
  for (int64_t dim : *spec->latent_shape()) latent *= static_cast<size_t>(dim);
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, reserve_bytes(model.batch(), latent), options));
  return configure(model);
}

Status VaeScorer::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_VaePipeline();
  if (spec->likelihood() == format::Likelihood::Categorical)
    return Status::error(StatusCode::kUnsupportedOp, "vae scorer: likelihood 'categorical' has no bound here (supported: bernoulli, gaussian)");
  if (spec->prior() != format::Prior::Normal)
    return Status::error(StatusCode::kUnsupportedOp, "vae scorer: the bounds need a normal prior");
  gaussian_ = spec->likelihood() == format::Likelihood::Gaussian;
  logits_ = spec->output_is_logits();
  variance_ = spec->gaussian_variance();
  if (gaussian_ && !(variance_ > 0.f && std::isfinite(variance_)))
    return Status::error(StatusCode::kInvalidModel, "vae scorer: gaussian_variance is %g; it must be positive and finite",
                         static_cast<double>(variance_));
  encoder_ = spec->encoder_graph();
  decoder_ = spec->decoder_graph();
  mean_output_ = spec->mean_output();
  logvar_output_ = spec->logvar_output();
  batch_ = model.batch();
  latent_size_ = 1;
  for (int64_t dim : *spec->latent_shape()) latent_size_ *= static_cast<size_t>(dim);
  if (session_.num_inputs(encoder_) != 1 || session_.num_inputs(decoder_) != 1 || session_.num_outputs(decoder_) < 1 ||
      mean_output_ >= session_.num_outputs(encoder_) || logvar_output_ >= session_.num_outputs(encoder_))
    return Status::error(StatusCode::kInvalidModel, "vae scorer: the encoder/decoder inputs or outputs do not fit the pipeline");
  const Tensor& input = session_.input(encoder_, 0);
  item_size_ = input.num_elements() / batch_;
  EG_RETURN_IF_ERROR(check_float(input, batch_, item_size_, "encoder input"));
  item_shape_ = Shape();
  item_shape_.rank = input.shape.rank - 1;
  for (int i = 1; i < input.shape.rank; ++i) item_shape_.dims[i - 1] = input.shape.dims[i];
  EG_RETURN_IF_ERROR(check_float(session_.output(encoder_, mean_output_), batch_, latent_size_, "encoder mean"));
  EG_RETURN_IF_ERROR(check_float(session_.output(encoder_, logvar_output_), batch_, latent_size_, "encoder logvar"));
  EG_RETURN_IF_ERROR(check_float(session_.input(decoder_, 0), batch_, latent_size_, "decoder input"));
  EG_RETURN_IF_ERROR(check_float(session_.output(decoder_, 0), batch_, item_size_, "decoder output"));
  mean_ = static_cast<float*>(session_.reserve(batch_ * latent_size_ * sizeof(float)));
  logvar_ = static_cast<float*>(session_.reserve(batch_ * latent_size_ * sizeof(float)));
  max_ = static_cast<double*>(session_.reserve(batch_ * sizeof(double)));
  sum_ = static_cast<double*>(session_.reserve(batch_ * sizeof(double)));
  log_ratio_ = static_cast<double*>(session_.reserve(batch_ * sizeof(double)));
  if (!mean_ || !logvar_ || !max_ || !sum_ || !log_ratio_)
    return Status::error(StatusCode::kArenaTooSmall, "vae scorer: the reservation for score buffers is too small");
  return Status::ok();
}

double VaeScorer::log_likelihood(const float* x, const float* decoded) const {
  double total = 0;
  if (gaussian_) {
    const double inv = 1.0 / variance_;
    for (size_t i = 0; i < item_size_; ++i) {
      double d = static_cast<double>(x[i]) - decoded[i];
      total += d * d * inv;
    }
    return -0.5 * (total + static_cast<double>(item_size_) * (kLogTwoPi + std::log(static_cast<double>(variance_))));
  }
  // x log sigmoid(l) + (1 - x) log sigmoid(-l) = x l - softplus(l).
  if (logits_) return bernoulli_logit_log_likelihood(x, decoded, item_size_);
  for (size_t i = 0; i < item_size_; ++i)
    total += x[i] * clamped_log(decoded[i]) + (1.0 - x[i]) * clamped_log(1.0 - decoded[i]);
  return total;
}

Status VaeScorer::score(const float* items, size_t count, size_t samples, VaeBound bound, uint64_t seed, float* out) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "score() before prepare()");
  if (samples < 1) return Status::error(StatusCode::kInvalidArgument, "vae scorer: samples must be >= 1");
  float* encoder_in = session_.input(encoder_, 0).data_as<float>();
  float* z = session_.input(decoder_, 0).data_as<float>();
  const size_t latent_batch = batch_ * latent_size_;
  for (size_t done = 0; done < count; done += batch_) {
    const size_t n = count - done < batch_ ? count - done : batch_;
    std::memcpy(encoder_in, items + done * item_size_, n * item_size_ * sizeof(float));
    if (n < batch_) std::memset(encoder_in + n * item_size_, 0, (batch_ - n) * item_size_ * sizeof(float));
    EG_RETURN_IF_ERROR(session_.run(encoder_));
    // The decoder run overwrites the shared activation region: keep q(z|x).
    std::memcpy(mean_, session_.output(encoder_, mean_output_).data, latent_batch * sizeof(float));
    std::memcpy(logvar_, session_.output(encoder_, logvar_output_).data, latent_batch * sizeof(float));
    for (size_t j = 0; j < samples; ++j) {
      fill_normal(seed, 1 + j, static_cast<uint64_t>(done) * latent_size_, z, latent_batch);
      for (size_t item = 0; item < n; ++item) {
        // log N(z; 0, I) - log N(z; mu, sigma^2) with z = mu + sigma eps:
        // sum -z^2/2 + eps^2/2 + logvar/2 (the 2 pi terms cancel).
        double ratio = 0;
        for (size_t i = 0; i < latent_size_; ++i) {
          size_t at = item * latent_size_ + i;
          double eps = z[at], logvar = logvar_[at];
          double value = mean_[at] + std::exp(0.5 * logvar) * eps;
          z[at] = static_cast<float>(value);
          ratio += -0.5 * value * value + 0.5 * eps * eps + 0.5 * logvar;
        }
        log_ratio_[item] = ratio;
      }
      // Stale padding latents are harmless: their outputs are never read.
      EG_RETURN_IF_ERROR(session_.run(decoder_));
      const float* decoded = session_.output(decoder_, 0).data_as<float>();
      for (size_t item = 0; item < n; ++item) {
        double log_w = log_likelihood(items + (done + item) * item_size_, decoded + item * item_size_) + log_ratio_[item];
        if (bound == VaeBound::kElbo) {
          sum_[item] = (j == 0 ? 0.0 : sum_[item]) + log_w;
        } else if (j == 0) {
          max_[item] = log_w;
          sum_[item] = 1.0;
        } else if (log_w > max_[item]) {  // running log-sum-exp
          sum_[item] = sum_[item] * std::exp(max_[item] - log_w) + 1.0;
          max_[item] = log_w;
        } else {
          sum_[item] += std::exp(log_w - max_[item]);
        }
      }
    }
    const double k = static_cast<double>(samples);
    for (size_t item = 0; item < n; ++item)
      out[done + item] = static_cast<float>(bound == VaeBound::kElbo ? sum_[item] / k
                                                                     : max_[item] + std::log(sum_[item] / k));
  }
  return Status::ok();
}

}  // namespace edgegen
