// Pipeline: the generative program a model's graphs form, run inside the
// session's arena.
//
// Implemented kinds: decoder (GAN generator or VAE decoder alone) and vae
// (encoder + decoder); a Program (edgegen/program.h). Every call takes caller-owned input and output
// memory, handles any number of items by running the model's batch size at
// a time, and makes no heap allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/program.h"
#include "edgegen/session.h"
#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

enum class Interpolation : uint32_t {
  kLinear = 0,     // (1 - t) z0 + t z1
  kSpherical = 1,  // slerp: keeps the norm typical of Gaussian latents
};

// Interpolates two latents of `size` floats at t in [0, 1] into `out`.
// Spherical falls back to linear when the latents are (anti)parallel.
void interpolate_latents(const float* z0, const float* z1, size_t size, float t, Interpolation kind, float* out);

class Pipeline : public Program {
 public:
  Pipeline() = default;

  // Arena bytes prepare() needs for `model` (session plus pipeline buffers).
  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // The same on a CPU of another data model (the reference backend only).
  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options,
                                           const DataModel& data_model);
  // Caller-owned arena (borrowed), or one block allocated once.
  Status prepare(const Model& model, void* arena, size_t arena_bytes,
                 const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return kind_; }
  // sample, decode, interpolate; encode for a vae.
  uint32_t capabilities() const override;
  Session& session() override { return session_; }
  // Items per graph run (the batch the model was converted for).
  size_t batch() const override { return batch_; }
  // The Program's event is the generated item.
  const Shape& event_shape() const override { return item_shape_; }
  // Floats in one latent / one generated item, and their shapes (without the batch dim).
  size_t latent_size() const { return latent_size_; }
  size_t item_size() const { return item_size_; }
  const Shape& latent_shape() const override { return latent_shape_; }
  const Shape& item_shape() const { return item_shape_; }
  // [low, high] of generated values (e.g. [-1, 1] for tanh outputs).
  float output_low() const { return output_low_; }
  float output_high() const { return output_high_; }
  // > 0 when each generated item is a waveform at this many samples per
  // second (the manifest's "sample_rate"); 0 otherwise.
  uint32_t sample_rate() const override { return sample_rate_; }

  // Draws `count` latents z ~ N(0, temperature^2 I), latent i from index i of
  // the (seed, stream 0) normal stream, into `latents` (count * latent_size).
  void draw_latents(uint64_t seed, float temperature, size_t count, float* latents) const;
  // Decodes `count` latents into `items` (count * item_size floats).
  Status decode(const float* latents, size_t count, float* items) override;
  // draw_latents + decode, without caller scratch. `latents` (may be null)
  // receives the latents used.
  Status sample(uint64_t seed, float temperature, size_t count, float* items, float* latents = nullptr);
  // The same with options.seed, options.temperature and options.latents.
  Status sample(const SamplingOptions& options, size_t count, float* items) override;
  // VAE only: the posterior mean and log-variance of `count` items.
  Status encode(const float* items, size_t count, float* mean, float* logvar) override;
  // VAE only: decode(encode(x).mean); `latents_scratch` holds count * latent_size floats.
  Status reconstruct(const float* items, size_t count, float* out, float* latents_scratch);

 private:
  Status configure(const Model& model);
  // Runs `graph` over `count` items, batch_ at a time: input 0 from `in`
  // (in_stride floats per item), the listed outputs into `outs`.
  Status run_graph_batched(size_t graph, const float* in, size_t in_stride, size_t count, size_t num_outputs,
                           const size_t* output_indices, float* const* outs, const size_t* out_strides);

  Session session_;
  PipelineKind kind_ = PipelineKind::kGraphsOnly;
  int encoder_graph_ = -1;
  int decoder_graph_ = -1;
  size_t mean_output_ = 0;
  size_t logvar_output_ = 1;
  size_t batch_ = 1;
  size_t latent_size_ = 0;
  size_t item_size_ = 0;
  Shape latent_shape_;
  Shape item_shape_;
  float output_low_ = 0.f;
  float output_high_ = 1.f;
  uint32_t sample_rate_ = 0;
};

}  // namespace edgegen
