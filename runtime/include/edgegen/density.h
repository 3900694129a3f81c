// Density models: pipelines that answer "how likely is this input?" exactly
// (or as a bound) and that generate. Used for offline anomaly detection.
//
// FlowPipeline runs a normalizing flow stored as a "flow" pipeline: a forward
// graph x -> (z, log|det dz/dx|) and, optionally, an inverse graph z -> x that
// shares the forward graph's weights. The change of variables gives
//
//   log p(x) = log p_base(z) + log|det dz/dx| + log|det d(pre)/dx|
//
// (Dinh et al., "Density estimation using Real NVP", 2017, eq. 3), where
// `pre` is the declared preprocessing (x -> x / scale, then the logit
// transform of Dinh et al. 2017 section 4.1), so scores are in the data's own
// units. Every class here is a Program (edgegen/program.h) whose score()
// is its log-likelihood. Every call takes caller-owned memory, handles any number of items,
// runs the model's batch size at a time and makes no heap allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/program.h"
#include "edgegen/session.h"
#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

// Bits per dimension of a log-likelihood `log_prob` (nats) over `dims`
// dimensions: -log_prob / (dims ln 2).
double bits_per_dim(double log_prob, size_t dims);

// The anomaly threshold `edgegen score --fit-threshold` stores and the C
// API's eg_fit_threshold returns: the `fpr`-quantile (0 <= fpr <= 1) of the
// log-likelihoods of `count` normal items, i.e. element floor(fpr * count)
// of the sorted scores (the last for fpr = 1). A row scoring below it is an
// anomaly. Sorts `scores` in place. kInvalidArgument for no scores, a NaN
// score (it has no place in the order) or fpr outside [0, 1].
Result<double> fit_threshold(float* scores, size_t count, double fpr);

class FlowPipeline : public Program {
 public:
  FlowPipeline() = default;

  // Arena bytes prepare() needs for `model`.
  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // Caller-owned arena (borrowed, must outlive this), or one block allocated
  // once. `model` must outlive this. Fails with kInvalidArgument when the
  // model is not a flow, kInvalidModel when its graphs do not fit the
  // FlowPipeline table (the message names the graph or tensor).
  Status prepare(const Model& model, void* arena, size_t arena_bytes,
                 const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kFlow; }
  // score; sample when there is an inverse graph.
  uint32_t capabilities() const override;
  Session& session() override { return session_; }
  // Items per graph run (the batch the model was converted for).
  size_t batch() const override { return batch_; }
  // Floats in one item (the event) and its shape without the batch dimension.
  size_t event_size() const { return event_size_; }
  const Shape& event_shape() const override { return event_shape_; }
  bool can_sample() const { return inverse_graph_ >= 0; }
  // The declared preprocessing: x / dequantize_scale() (0 = none), then the
  // logit transform with logit_alpha() (< 0 = none). Samples come back in
  // the data's units, so with a scale they lie in about [0, scale].
  float dequantize_scale() const { return dequantize_scale_; }
  float logit_alpha() const { return logit_alpha_; }

  // log p(x) in nats for `count` items of event_size floats, into
  // `log_prob[count]`. Items outside the support of the declared
  // preprocessing (x / scale outside what the logit transform accepts) get
  // -infinity: they are impossible under the model, not an error.
  Status log_prob(const float* items, size_t count, float* log_prob);
  // The latent z = f(pre(x)) of `count` items into `latents` (count * event_size).
  Status forward(const float* items, size_t count, float* latents);
  // x = pre^-1(f^-1(z)) of `count` latents into `items` (needs can_sample()).
  Status inverse(const float* latents, size_t count, float* items);
  // Draws z ~ base scaled by `temperature` (latent i from index i of the
  // (seed, stream 0) stream) and maps it to data: `items` (count * event_size).
  Status sample(uint64_t seed, float temperature, size_t count, float* items);
  // Program: sample(options.seed, options.temperature, ...) and log_prob().
  Status sample(const SamplingOptions& options, size_t count, float* items) override;
  Status score(const ScoringOptions& options, const float* items, size_t count, float* log_likelihood) override;

 private:
  Status configure(const Model& model);
  // Copies `items` (<= batch) events of `in` into the forward input through
  // the preprocessing; writes each item's log-Jacobian to `log_jacobian`
  // (may be null); -infinity for an item outside the preprocessing's domain.
  void preprocess_into(const float* in, size_t items, float* input, float* log_jacobian) const;
  // Inverse of the preprocessing, in place over `count` floats.
  void postprocess(float* values, size_t count) const;
  Status run_inverse(size_t items, float* out);

  Session session_;
  int forward_graph_ = -1;
  int inverse_graph_ = -1;
  size_t z_output_ = 0;
  size_t logdet_output_ = 1;
  size_t batch_ = 1;
  size_t event_size_ = 0;
  Shape event_shape_;
  bool logistic_base_ = false;
  float dequantize_scale_ = 0.f;  // 0 = none
  float logit_alpha_ = -1.f;      // < 0 = none
};

// Likelihood bounds of a VAE ("vae" pipeline; bernoulli or gaussian
// likelihood, normal prior). With k posterior samples z_j = mu + sigma eps_j
// and log-weights log w_j = log p(x|z_j) + log N(z_j; 0, I) - log q(z_j|x):
//   ELBO (Kingma & Welling 2014, eq. 3, k-sample Monte Carlo) = mean_j log w_j
//   IWAE (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
//         2016, eq. 8)                                      = log mean_j w_j
// (log-sum-exp taken stably, from a running maximum). IWAE >= ELBO on the same
// samples, equal at k = 1, and tends to log p(x) as k grows. eps_j of item n
// is normal stream (seed, 1 + j) from index n * latent_size: the same
// whatever the batch.
// (VaeBound is in edgegen/program.h.)
class VaeScorer : public Program {
 public:
  VaeScorer() = default;

  // Arena bytes prepare() needs for `model` (session plus score buffers).
  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // Caller-owned arena (borrowed), or one block allocated once. Fails with
  // kInvalidArgument for a model that is not a vae, kUnsupportedOp for a
  // categorical likelihood or a uniform prior.
  Status prepare(const Model& model, void* arena, size_t arena_bytes,
                 const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kVae; }
  uint32_t capabilities() const override { return capability_bit(Capability::kScore); }
  Session& session() override { return session_; }
  size_t batch() const override { return batch_; }
  const Shape& event_shape() const override { return item_shape_; }
  size_t item_size() const { return item_size_; }
  size_t latent_size() const { return latent_size_; }

  // The bound (nats) of `count` items with `samples` >= 1 posterior samples
  // each, into `out[count]`. Bernoulli data must lie in [0, 1].
  Status score(const float* items, size_t count, size_t samples, VaeBound bound, uint64_t seed, float* out);
  // Program: the same with options.samples, options.bound and options.seed.
  Status score(const ScoringOptions& options, const float* items, size_t count, float* log_likelihood) override;

 private:
  static size_t reserve_bytes(size_t batch, size_t latent);
  Status configure(const Model& model);
  // log p(x | decoder output) of one item.
  double log_likelihood(const float* x, const float* decoded) const;

  Session session_;
  size_t encoder_ = 0, decoder_ = 0, mean_output_ = 0, logvar_output_ = 1;
  size_t batch_ = 1, item_size_ = 0, latent_size_ = 0;
  Shape item_shape_;
  bool gaussian_ = false;
  bool logits_ = false;
  float variance_ = 1.f;
  float* mean_ = nullptr;     // borrowed, reserved in the arena: batch * latent
  float* logvar_ = nullptr;   // borrowed: batch * latent
  double* max_ = nullptr;     // borrowed: batch, running max of log w
  double* sum_ = nullptr;     // borrowed: batch, sum exp(log w - max) or sum log w
  double* log_ratio_ = nullptr;  // borrowed: batch, log p(z) - log q(z|x) of the current sample
};

// Autoregressive density ("autoregressive" pipeline): one pass of the
// conditionals graph (MADE: Germain et al., "MADE: Masked Autoencoder for
// Distribution Estimation", 2015; PixelCNN) gives every p(x_d | x_<d) in the
// natural order of the flattened event, so
//   log p(x) = sum_d log p(x_d | x_<d)          exactly, in one pass.
// Graph output per item: bernoulli D logits; categorical D x K logits
// (category last); gaussian D means then D log standard deviations.
// Sampling runs one pass per dimension.
enum class ArKind : uint32_t { kBernoulli = 0, kCategorical = 1, kGaussian = 2 };

struct ArSampleOptions {
  uint64_t seed = 0;
  float temperature = 1.f;  // logits / T (bernoulli, categorical); std * T (gaussian); 0 = most likely value
  uint32_t top_k = 0;       // categorical: sample among the k most likely values; 0 = all
};

class AutoregressivePipeline : public Program {
 public:
  AutoregressivePipeline() = default;

  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // Fails with kInvalidArgument when the model is not autoregressive.
  Status prepare(const Model& model, void* arena, size_t arena_bytes,
                 const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kAutoregressive; }
  // score, sample, impute.
  uint32_t capabilities() const override;
  Session& session() override { return session_; }
  size_t batch() const override { return batch_; }
  size_t event_size() const { return dims_; }
  const Shape& event_shape() const override { return event_shape_; }
  ArKind distribution() const { return kind_; }
  uint32_t categories() const { return categories_; }

  // Exact log p(x) (nats) of `count` items into `log_prob[count]`. Bernoulli
  // data in [0, 1]; categorical data integers in [0, categories): anything
  // else is kInvalidArgument naming the item and dimension. Items are floats
  // whatever the graph takes: a categorical model's graph may take int64 or
  // int32 token ids (an embedding Gather), converted on the way in.
  Status log_prob(const float* items, size_t count, float* log_prob);
  // `count` new items (count * event_size) drawn dimension by dimension;
  // item n uses random index n * event_size + d: the same whatever the batch.
  Status sample(const ArSampleOptions& options, size_t count, float* items);
  // Fills the missing (NaN) entries of `items` in place by sampling each from
  // p(x_d | x_<d) given the observed and already imputed earlier entries
  // (later observed entries are not conditioned on: the model's order).
  Status impute(const ArSampleOptions& options, size_t count, float* items);
  // Program: the same with the seed, temperature and top_k of `options`.
  Status score(const ScoringOptions& options, const float* items, size_t count, float* log_likelihood) override;
  Status sample(const SamplingOptions& options, size_t count, float* items) override;
  Status impute(const SamplingOptions& options, size_t count, float* items) override;

 private:
  Status configure(const Model& model);
  // Runs the conditionals on state_ and draws dimension d of the first
  // `items` rows where `missing` (null = all) marks them.
  Status draw_dimension(size_t d, size_t items, size_t first_item, const ArSampleOptions& options, const float* missing);
  Status fill(const ArSampleOptions& options, size_t count, float* items, bool impute);
  // Writes `rows` (batch * dims floats, whole numbers for an integer input)
  // into the graph's input, in its dtype.
  void write_input(const float* rows);

  Session session_;
  size_t batch_ = 1, dims_ = 0, per_item_ = 0;
  ArKind kind_ = ArKind::kBernoulli;
  uint32_t categories_ = 0;
  Shape event_shape_;
  float* state_ = nullptr;  // borrowed, reserved: the batch being sampled (batch * dims)
};

// Energy / score model ("energy" pipeline). Sampling is annealed Langevin
// dynamics (Song & Ermon, "Generative Modeling by Estimating Gradients of the
// Data Distribution", 2019, Algorithm 1): x_0 ~ N(0, sigma_1^2 I), then for
// each noise level sigma_i (largest first), with eta_i = step_size *
// sigma_i^2 / sigma_L^2, steps_per_level times
//   x <- x + (eta_i / 2) s(x, sigma_i) + sqrt(eta_i) eps,   eps ~ N(0, I).
// Without noise levels it is plain Langevin with eta = step_size (x_0 ~ N(0, I)).
// The energy graph E(x), when present, is an anomaly score (higher = less likely;
// log p(x) = -E(x) up to a constant).
class EnergyPipeline : public Program {
 public:
  EnergyPipeline() = default;

  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // Fails with kInvalidArgument when the model is not an energy pipeline.
  Status prepare(const Model& model, void* arena, size_t arena_bytes,
                 const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kEnergy; }
  // sample; score when there is an energy graph.
  uint32_t capabilities() const override;
  Session& session() override { return session_; }
  size_t batch() const override { return batch_; }
  size_t event_size() const { return dims_; }
  const Shape& event_shape() const override { return event_shape_; }
  bool has_energy() const { return energy_graph_ >= 0; }
  size_t num_noise_levels() const { return levels_ == nullptr ? 0 : num_levels_; }

  // `count` samples (count * event_size). Item n uses index n * event_size of
  // the normal streams (seed, 0) for x_0 and (seed, 1 + step) for step's
  // noise: the same whatever the batch.
  Status sample(uint64_t seed, size_t count, float* items);
  // E(x) of `count` items into `energy[count]` (needs has_energy()).
  Status energy(const float* items, size_t count, float* energy);
  // Program: sample(options.seed, ...); score is -E(x), the log-likelihood
  // up to the model's unknown log normalizer.
  Status sample(const SamplingOptions& options, size_t count, float* items) override;
  Status score(const ScoringOptions& options, const float* items, size_t count, float* log_likelihood) override;

 private:
  Status configure(const Model& model);

  Session session_;
  size_t batch_ = 1, dims_ = 0;
  Shape event_shape_;
  int energy_graph_ = -1;
  int sigma_input_ = -1;
  const float* levels_ = nullptr;  // borrowed from the model
  size_t num_levels_ = 0;
  float step_size_ = 0.f;
  uint32_t steps_per_level_ = 0;
  float* state_ = nullptr;  // borrowed, reserved: batch * dims
};

}  // namespace edgegen
