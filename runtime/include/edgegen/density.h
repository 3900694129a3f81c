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
// units. Every call takes caller-owned memory, handles any number of items,
// runs the model's batch size at a time and makes no heap allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

// Bits per dimension of a log-likelihood `log_prob` (nats) over `dims`
// dimensions: -log_prob / (dims ln 2).
double bits_per_dim(double log_prob, size_t dims);

class FlowPipeline {
 public:
  FlowPipeline() = default;
  FlowPipeline(const FlowPipeline&) = delete;
  FlowPipeline& operator=(const FlowPipeline&) = delete;

  // Arena bytes prepare() needs for `model`.
  static Result<size_t> arena_bytes_needed(const Model& model);
  // Caller-owned arena (borrowed, must outlive this), or one block allocated
  // once. `model` must outlive this. Fails with kInvalidArgument when the
  // model is not a flow, kInvalidModel when its graphs do not fit the
  // FlowPipeline table (the message names the graph or tensor).
  Status prepare(const Model& model, void* arena, size_t arena_bytes);
  Status prepare(const Model& model);

  Session& session() { return session_; }
  // Items per graph run (the batch the model was converted for).
  size_t batch() const { return batch_; }
  // Floats in one item (the event) and its shape without the batch dimension.
  size_t event_size() const { return event_size_; }
  const Shape& event_shape() const { return event_shape_; }
  bool can_sample() const { return inverse_graph_ >= 0; }

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

}  // namespace edgegen
