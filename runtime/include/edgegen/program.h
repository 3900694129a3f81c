// Program: what every generative program over a model's graphs offers, so
// callers ask "can it score?" instead of switching on the pipeline kind.
//
// Every pipeline class (Pipeline, VaeScorer, FlowPipeline,
// AutoregressivePipeline, EnergyPipeline, DiffusionPipeline, TokenDecoder,
// VocoderPipeline) is a Program:
// the same kind check in prepare, the same event-shape reading, the same
// `arena_bytes_needed(model, options)`. A caller that does not know the
// kind gets one through Module (edgegen/module.h) and uses only this
// interface; a caller that does keeps the concrete class and its
// kind-specific calls.
//
// Operations a program does not offer return kUnsupportedOp with a message
// naming the kind and the operation; capabilities() says beforehand which
// ones it offers. Like the concrete classes, every call takes caller-owned
// memory, handles any number of items and makes no heap allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/model.h"
#include "edgegen/session.h"
#include "edgegen/status.h"
#include "edgegen/tensor.h"

namespace edgegen {

struct DiffusionOptions;
struct TokenSamplingOptions;
struct TokenCallback;
struct GenerateResult;
struct TokenScore;

// One bit per operation a program can offer.
enum class Capability : uint32_t {
  kNone = 0,
  kSample = 1u << 0,       // sample(): new items from a seed
  kDecode = 1u << 1,       // decode(): latents -> items
  kEncode = 1u << 2,       // encode(): items -> posterior mean, log-variance
  kInterpolate = 1u << 3,  // decode() of interpolate_latents() between two latents
  kScore = 1u << 4,        // score(): log-likelihood (or a bound) of items
  kImpute = 1u << 5,       // impute(): fill the NaN entries of items
  kInpaint = 1u << 6,      // sample() with DiffusionOptions::known / mask
  kClassConditional = 1u << 7,  // sample() with SamplingOptions::labels
  kGenerate = 1u << 8,     // generate(): tokens one by one from a prompt (token decoders)
  kScoreTokens = 1u << 9,  // score_tokens(): log-likelihood of a token sequence (token decoders)
  kVocode = 1u << 10,      // vocode(): mel frames -> waveform (vocoders)
  kImageToImage = 1u << 11,  // sample() from DiffusionOptions::init_image at a strength (SDEdit)
};
// "sample", "decode", "encode", "interpolate", "score", "impute", "inpaint",
// "class_conditional", "generate", "score_tokens", "vocode", "img2img"; "none" for kNone, "unknown" for anything else.
const char* capability_name(Capability capability);
constexpr uint32_t capability_bit(Capability capability) { return static_cast<uint32_t>(capability); }

// The lower bound a VAE reports as its score (see VaeScorer in density.h).
enum class VaeBound : uint32_t { kElbo = 0, kIwae = 1 };

// Settings of sample() and impute(); each kind reads the fields it uses.
struct SamplingOptions {
  uint64_t seed = 0;
  // Decoder, vae, flow: scale of the latent noise. Autoregressive: logits / T
  // (std * T for gaussian; 0 = most likely value). Energy, diffusion: unused.
  float temperature = 1.f;
  uint32_t top_k = 0;  // autoregressive categorical: draw among the k most likely values; 0 = all
  // Decoder, vae: receives the latents used (count * latent_size floats); may be null.
  float* latents = nullptr;  // borrowed
  // Diffusion: sampler, steps, guidance, in-painting, progress (null = the
  // defaults). Its `seed` is ignored: `seed` above is used.
  const DiffusionOptions* diffusion = nullptr;  // borrowed
  // Diffusion with a class input: the class of each item (count values, -1 =
  // the null class), or null for all null.
  const int32_t* labels = nullptr;  // borrowed
};

// Settings of score().
struct ScoringOptions {
  // VAE only: the bound, the posterior samples per item (>= 1) and their seed.
  VaeBound bound = VaeBound::kIwae;
  size_t samples = 16;
  uint64_t seed = 0;
};

class Program {
 public:
  Program() = default;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  virtual ~Program() = default;

  // The kind this program runs (the one its model declares).
  virtual PipelineKind kind() const = 0;
  // OR of capability_bit() of the operations this prepared program offers.
  virtual uint32_t capabilities() const = 0;
  bool can(Capability capability) const { return (capabilities() & capability_bit(capability)) != 0; }

  virtual Session& session() = 0;
  // Items per graph run (the batch the model was converted for).
  virtual size_t batch() const = 0;
  // One item as sample() writes it and score() / impute() read it (without
  // the batch dimension), and its number of floats.
  virtual const Shape& event_shape() const = 0;
  size_t event_size() const { return static_cast<size_t>(event_shape().num_elements()); }
  // One latent (decode / encode); rank 0 when the program has none.
  virtual const Shape& latent_shape() const;
  size_t latent_size() const;

  // `count` new items into `items` (count * event_size floats).
  virtual Status sample(const SamplingOptions& options, size_t count, float* items);
  // The log-likelihood in nats of `count` items (count * event_size floats)
  // into `log_likelihood[count]`: exact (flow, autoregressive), a lower bound
  // (vae), or -E(x), i.e. up to the unknown log normalizer (energy).
  virtual Status score(const ScoringOptions& options, const float* items, size_t count, float* log_likelihood);
  // Fills the NaN entries of `count` items in place.
  virtual Status impute(const SamplingOptions& options, size_t count, float* items);
  // Decodes `count` latents (count * latent_size) into `items`.
  virtual Status decode(const float* latents, size_t count, float* items);
  // The posterior mean and log-variance (count * latent_size each) of `count` items.
  virtual Status encode(const float* items, size_t count, float* mean, float* logvar);
  // Token decoders (edgegen/token_decoder.h): up to `max_new_tokens` tokens
  // after `prompt`, each handed to `callback` as it is chosen.
  virtual Status generate(const int32_t* prompt, size_t prompt_count, size_t max_new_tokens,
                          const TokenSamplingOptions& options, const TokenCallback& callback, GenerateResult* result);
  // Token decoders: the log-likelihood of `tokens` (each given the ones before).
  virtual Status score_tokens(const int32_t* tokens, size_t count, TokenScore* score);

  // Audio. Samples per second of the waveforms this program writes (a
  // vocoder's, or a decoder/vae whose items are waveforms); 0: not audio.
  virtual uint32_t sample_rate() const { return 0; }
  // Vocoders (edgegen/vocoder.h): the waveform of one sequence of
  // `frames` conditioning frames, `mel` laid out [mel_channels, frames]
  // (row-major, any frames >= 1), into `audio[frames * hop_length]`.
  virtual Status vocode(const float* mel, size_t frames, float* audio);
  // Vocoders: conditioning channels per frame and samples per frame; 0 otherwise.
  virtual size_t mel_channels() const { return 0; }
  virtual size_t hop_length() const { return 0; }

 protected:
  // kUnsupportedOp: "a '<kind>' pipeline cannot <capability>".
  Status unsupported(Capability capability) const;
};

}  // namespace edgegen
