// Diffusion on device: noise schedules, step plans, few-step samplers and the
// diffusion pipeline (classifier-free guidance, in-painting, progress and
// cancellation), all inside the session's arena with no heap allocation
// during sample().
//
// Convention. Samplers work in the "variance-exploding" parameterisation of
// Karras et al., "Elucidating the Design Space of Diffusion-Based Generative
// Models" (NeurIPS 2022): x = x0 + sigma * noise, with
//   sigma(t) = sqrt((1 - alphas_cumprod[t]) / alphas_cumprod[t]).
// The model's own (variance-preserving) input is x / sqrt(1 + sigma^2). A
// sampler sees the network only through a denoise callback returning the
// predicted clean sample x0 = D(x, sigma); every step is then an equation of
// the cited papers written over (sigma_i, sigma_{i+1}). The last sigma of a
// plan is 0, so the result is a clean sample.
//
// x_T: a run starts from x = noise * sqrt(1 + sigma_0^2), i.e. unit-variance
// noise at the model's scale (what --init-noise gives).
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/program.h"
#include "edgegen/session.h"
#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

enum class NoiseScheduleType : uint32_t { kLinear = 0, kScaledLinear = 1, kCosine = 2, kExplicit = 3 };
enum class DiffusionPrediction : uint32_t { kEpsilon = 0, kVPrediction = 1, kSample = 2 };

// The training noise schedule as stored in the model.
struct NoiseScheduleSpec {
  NoiseScheduleType type = NoiseScheduleType::kLinear;
  float beta_start = 1e-4f;
  float beta_end = 0.02f;
  uint32_t train_steps = 1000;
  const float* explicit_alphas_cumprod = nullptr;  // borrowed; train_steps values for kExplicit
};

// Writes alphas_cumprod[0 .. train_steps) of `spec` into `out` (computed in
// double): linear and scaled_linear betas as in Ho et al. 2020 / latent
// diffusion, cosine ("squaredcos_cap_v2", Nichol & Dhariwal 2021, betas
// capped at 0.999). Fails on a schedule that is not strictly decreasing in (0, 1].
Status compute_alphas_cumprod(const NoiseScheduleSpec& spec, float* out);

enum class TimestepSpacing : uint32_t {
  kLeading = 0,   // t = i * (T / N), i = N-1 .. 0 (DDIM paper)
  kTrailing = 1,  // t = round(T - i * T / N) - 1 (Lin et al. 2024): starts at T-1
  kLinspace = 2,  // t = round(linspace(0, T-1, N)) reversed
};

// The sigmas (steps + 1 of them, last 0) and model timesteps (steps) of a run.
struct StepPlan {
  size_t steps = 0;
  float* sigmas = nullptr;     // borrowed; steps + 1
  float* timesteps = nullptr;  // borrowed; steps; fractional for Karras sigmas
};

// Fills `plan` (arrays of steps+1 / steps floats already set) for `steps`
// steps over the training table `alphas_cumprod` (train_steps values).
// karras: sigma_i = (s_max^(1/7) + i/(N-1) (s_min^(1/7) - s_max^(1/7)))^7
// (Karras et al. 2022, eq. 5), timesteps by interpolating log sigma in the
// training table; otherwise the sigmas of the spaced timesteps.
Status make_step_plan(const float* alphas_cumprod, uint32_t train_steps, size_t steps, TimestepSpacing spacing,
                      bool karras, StepPlan* plan);

enum class SamplerKind : uint32_t {
  kDdim = 0,            // Song et al. 2021, with eta
  kEuler = 1,           // Karras et al. 2022, Algorithm 2 without churn
  kEulerAncestral = 2,  // Euler + ancestral noise (k-diffusion)
  kHeun = 3,            // Karras et al. 2022, Algorithm 1
  kDpmpp2m = 4,         // Lu et al. 2022, DPM-Solver++(2M)
  kDpmpp3m = 5,         // third-order multistep DPM-Solver++ (Lu et al. 2022)
  kDdpm = 6,            // Ho et al. 2020 ancestral posterior sampling
  kLcm = 7,             // Luo et al. 2023, latent consistency multistep
};
// "ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_3m", "ddpm", "lcm".
const char* sampler_name(SamplerKind kind);
// Parses a sampler name; false when unknown.
bool parse_sampler(const char* name, SamplerKind* kind);
// Denoiser calls a sampler makes for `steps` steps (Heun: 2 per step but the last).
size_t sampler_model_calls(SamplerKind kind, size_t steps);

// x0 = D(x, sigma) for `count` items of `size` floats: `x` is in the
// variance-exploding scale; `timestep` is the model timestep of sigma.
struct DenoiseCallback {
  Status (*denoise)(void* user, const float* x, float sigma, float timestep, float* x0) = nullptr;
  void* user = nullptr;
};
// Standard normal noise for step `key` (a different key each call site).
struct NoiseCallback {
  void (*fill)(void* user, uint64_t key, float* out) = nullptr;
  void* user = nullptr;
};
// Called after each step; returning false cancels the run (kCancelled).
struct ProgressCallback {
  bool (*on_step)(void* user, size_t step, size_t total, double elapsed_seconds) = nullptr;
  void* user = nullptr;
};

// Everything one sampler run needs. Buffers are borrowed (from the arena)
// and hold `count * size` floats each.
struct SamplerRun {
  SamplerKind kind = SamplerKind::kDpmpp2m;
  const StepPlan* plan = nullptr;
  const float* alphas_cumprod = nullptr;  // training table (LCM boundary conditions)
  uint32_t train_steps = 0;
  size_t elements = 0;  // count * size
  float eta = 0.f;      // DDIM only: 0 deterministic, 1 = DDPM variance
  DenoiseCallback denoise;
  NoiseCallback noise;
  ProgressCallback progress;
  // In-painting (RePaint, Lugmayr et al. 2022): where mask[i] > 0.5 the
  // known value is re-imposed after every step at that step's noise level,
  // and each step is repeated `resample` times (>= 1), jumping back with
  // fresh noise in between.
  const float* known = nullptr;  // borrowed, elements floats (clean values)
  const float* mask = nullptr;   // borrowed, elements floats
  int resample = 1;
  // Scratch, each `elements` floats: samplers use up to five.
  float* scratch[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
};
// Buffers of `elements` floats a sampler kind needs in SamplerRun::scratch.
size_t sampler_scratch_buffers(SamplerKind kind);

// Runs the sampler over `x` (elements floats, already x_T in the VE scale,
// i.e. noise * sqrt(1 + sigmas[0]^2)); on success x holds the clean sample.
Status run_sampler(const SamplerRun& run, float* x);

// ---------------------------------------------------------------------------
// The pipeline over a model of kind "diffusion".

struct DiffusionOptions {
  SamplerKind sampler = SamplerKind::kDpmpp2m;
  size_t steps = 20;
  TimestepSpacing spacing = TimestepSpacing::kTrailing;
  bool karras = false;
  float eta = 0.f;
  // Classifier-free guidance (Ho & Salimans 2022): out = uncond + g (cond -
  // uncond), one batched denoiser call for both. g == 1: no guidance.
  float guidance = 1.f;
  uint64_t seed = 0;
  // Optional x_T (count * sample_size floats, unit-variance scale); borrowed.
  const float* init_noise = nullptr;
  ProgressCallback progress;
  // In-painting: known items and a mask (1 = keep), count * item_size each;
  // borrowed. Pixel-space models: samples. Latent models (with an encoder):
  // pictures; the known picture is encoded, the mask averaged over each
  // latent pixel's block (> 0.5 = keep), and the kept pixels of the known
  // picture are put back after decoding.
  const float* known = nullptr;
  const float* mask = nullptr;
  int resample = 1;
  // Context conditioning (models with a context input): count * context_size
  // floats, [count, tokens, dim]; borrowed. Null: the unconditional context.
  const float* context = nullptr;
  // The context guidance runs against (context_size floats); borrowed. Null:
  // the one stored in the model (if any).
  const float* unconditional_context = nullptr;
  // Image-to-image (SDEdit, Meng et al. 2021): count pictures (count *
  // item_size floats in the output range); borrowed. Each is encoded (latent
  // models) and noised to the step plan's point `strength` (in [0, 1]) from
  // its end: the last round(strength * steps) steps run. 0 returns the
  // (encoded and decoded) picture; 1 ignores it and samples from noise
  // exactly as without init_image.
  const float* init_image = nullptr;
  float strength = 0.6f;
};

// A Program whose event is the generated item (the decoder's output when
// there is a decoder).
class DiffusionPipeline : public Program {
 public:
  DiffusionPipeline() = default;

  // Largest step count sample() accepts.
  static constexpr size_t kMaxSteps = 1000;
  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // `model` must outlive the pipeline; `arena` is borrowed.
  Status prepare(const Model& model, void* arena, size_t arena_bytes,
                 const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kDiffusion; }
  // sample, inpaint; class_conditional when the denoiser has a class input.
  // img2img when pictures can be turned into samples (an encoder, or no decoder).
  uint32_t capabilities() const override;
  Session& session() override { return session_; }
  size_t batch() const override { return batch_; }
  const Shape& event_shape() const override { return item_shape_; }
  size_t sample_size() const { return sample_size_; }
  const Shape& sample_shape() const { return sample_shape_; }
  // Floats and shape of one output (the decoder's, when there is one).
  size_t item_size() const { return item_size_; }
  const Shape& item_shape() const { return item_shape_; }
  float output_low() const { return output_low_; }
  float output_high() const { return output_high_; }
  uint32_t num_classes() const { return num_classes_; }
  int32_t null_class() const { return null_class_; }
  bool has_class_input() const { return class_input_ >= 0; }
  bool has_encoder() const { return encoder_graph_ >= 0; }
  bool has_decoder() const { return decoder_graph_ >= 0; }
  float latent_scale() const { return latent_scale_; }
  // The context one item takes ([tokens, dim]; rank 0 when the model has no
  // context input), its floats, and the model's unconditional context (null when none is stored).
  bool has_context_input() const { return context_input_ >= 0; }
  const Shape& context_shape() const { return context_shape_; }
  size_t context_size() const { return context_size_; }
  const float* stored_unconditional_context() const { return stored_uncond_; }
  // Tiled decoding: the decoder's latent tile (rows, columns; equal to the
  // sample's when it decodes at once) and the latent pixels tiles share.
  size_t decoder_tile_rows() const { return tile_rows_; }
  size_t decoder_tile_columns() const { return tile_columns_; }
  size_t tile_overlap() const { return tile_overlap_; }
  bool decodes_in_tiles() const { return tiled_; }
  const float* alphas_cumprod() const { return alphas_cumprod_; }
  uint32_t train_steps() const { return train_steps_; }

  // Generates `count` items into `out` (count * item_size floats). `labels`
  // (count values, or nullptr) give the class of each item; -1 = the null
  // class. Noise of item i depends only on (seed, i), not on the batch.
  Status sample(const DiffusionOptions& options, size_t count, const int32_t* labels, float* out);
  // Program: the same with *options.diffusion (or the defaults), options.seed and options.labels.
  Status sample(const SamplingOptions& options, size_t count, float* items) override;

  // Timing of the last sample() call: all of it, and the part spent in the
  // denoiser (and decoder) graphs; the rest is the sampler's own work.
  double last_sample_seconds() const { return static_cast<double>(sample_ns_) * 1e-9; }
  double last_graph_seconds() const { return static_cast<double>(graph_ns_) * 1e-9; }

  // The denoiser's x0 prediction for `count` items at model timestep t,
  // in the VE scale (used by sample(); exposed for tests).
  // `context` (count * context_size floats, or null for the unconditional
  // one) and `unconditional_context` (null: the stored one) for context models.
  Status denoise(const float* x, size_t count, float sigma, float timestep, const int32_t* labels, float guidance,
                 float* x0, const float* context = nullptr, const float* unconditional_context = nullptr);

  // Latent models: the encoder's mean * latent_scale of `count` pictures
  // (count * item_size floats) into `latents` (count * sample_size).
  Status encode_pictures(const float* pictures, size_t count, float* latents);
  // Decodes `count` samples (latents / latent_scale through the decoder,
  // tile by tile when it is converted for tiles) into `pictures`.
  Status decode_samples(const float* samples, size_t count, float* pictures);

 private:
  Status configure(const Model& model);
  Status configure_latent(const Model& model);
  Status check_options(const DiffusionOptions& options, size_t count, const int32_t* labels) const;
  Status decode_tiled(const float* sample, float* picture);
  Status downsample_mask(const float* mask, size_t items);
  Status run_denoiser(const float* x_model, size_t slots, const int32_t* labels, float timestep, float* out);
  static size_t reserve_bytes_for(const Model& model);

  Session session_;
  int denoiser_graph_ = -1;
  int decoder_graph_ = -1;
  size_t sample_input_ = 0;
  size_t timestep_input_ = 1;
  int class_input_ = -1;
  DiffusionPrediction prediction_ = DiffusionPrediction::kEpsilon;
  uint32_t num_classes_ = 0;
  int32_t null_class_ = -1;
  size_t batch_ = 1;
  size_t chunk_ = 1;  // items per sampler run
  size_t sample_size_ = 0;
  size_t item_size_ = 0;
  Shape sample_shape_;
  Shape item_shape_;
  float output_low_ = -1.f;
  float output_high_ = 1.f;
  uint32_t train_steps_ = 0;
  float* alphas_cumprod_ = nullptr;  // borrowed, arena
  float* sigmas_ = nullptr;          // borrowed, arena (kMaxSteps + 1)
  float* timesteps_ = nullptr;       // borrowed, arena (kMaxSteps)
  float* x_ = nullptr;               // borrowed, arena: chunk * sample_size each
  float* scratch_[5] = {};
  float* model_in_ = nullptr;        // 2 * chunk * sample_size (cond + uncond)
  float* model_out_ = nullptr;       // 2 * chunk * sample_size
  int32_t* slot_labels_ = nullptr;   // 2 * chunk
  const float** slot_context_ = nullptr;  // 2 * batch: each slot's context (borrowed)
  float* tile_weights_ = nullptr;    // picture rows + columns: summed blending weights
  int encoder_graph_ = -1;
  int context_input_ = -1;
  Shape context_shape_;
  size_t context_size_ = 0;
  const float* stored_uncond_ = nullptr;  // borrowed, the model
  float latent_scale_ = 1.f;
  bool tiled_ = false;
  size_t tile_rows_ = 0, tile_columns_ = 0, tile_overlap_ = 0, tile_factor_ = 1;
  size_t picture_channels_ = 0;
  float* known_ = nullptr;           // chunk * sample_size (clean known values)
  float* mask_ = nullptr;
  // State of the current sample() call, for the callbacks.
  const int32_t* chunk_labels_ = nullptr;
  size_t chunk_count_ = 0;
  float guidance_ = 1.f;
  uint64_t sample_ns_ = 0;
  uint64_t graph_ns_ = 0;
};

}  // namespace edgegen
