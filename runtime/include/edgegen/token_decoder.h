// Token decoders (pipeline kind "token_decoder", issue 13): a transformer
// decoder run token by token over a fixed key/value cache, as ExecuTorch's
// static-cache exports are.
//
// The model's step graph takes one token, its position and every layer's
// K/V cache [1, heads, max_length, head_dim] and returns the logits and the
// updated caches. The converter plans each cache output on its input (the
// graph's persistent state, schemas/edgegen.fbs Graph.state), so a step
// writes the cache in place and the cache stays in the arena from one step
// to the next: no copy, fixed memory. An optional prefill graph consumes T
// prompt tokens per run; a prompt is fed in runs of T while at least T
// tokens remain, the rest token by token through the step graph.
//
// The arena holds, after the session's part, the last logits, the sampler's
// scratch and the tokens of the sequence (for the repetition penalty):
// generate() and score_tokens() make no heap allocation. Batch 1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgegen/program.h"

namespace edgegen {

// How generate() picks each token from the logits (in this order:
// repetition penalty, temperature, top-k, min-p, top-p, then a draw).
struct TokenSamplingOptions {
  float temperature = 0.f;         // 0: greedy (the most likely token; the lowest id on ties)
  uint32_t top_k = 0;              // keep the k most likely tokens; 0 = all (1 = greedy)
  float top_p = 1.f;               // keep the smallest most-likely set whose probability reaches top_p; 1 = all
  float min_p = 0.f;               // keep tokens with p >= min_p * p(most likely); 0 = all
  float repetition_penalty = 1.f;  // > 1: a logit of a token already in the sequence is divided by it (if > 0)
                                   // or multiplied (if < 0), once per token (CTRL, Keskar et al. 2019)
  uint64_t seed = 0;               // token i of the sequence draws uniform i of Philox stream (seed, 0):
                                   // the same tokens whatever the thread count
};

// Receives each generated token as it is chosen; returning false stops
// generation (GenerateReason::kCancelled). `position` is where the token
// sits in the sequence (prompt included).
struct TokenCallback {
  bool (*on_token)(void* user, int32_t token, size_t position) = nullptr;
  void* user = nullptr;
};

enum class StopReason : uint32_t {
  kTokenCount = 0,  // max_new_tokens were generated
  kEos = 1,         // the model chose its eos token (not passed to the callback)
  kMaxLength = 2,   // the cache is full: max_length positions
  kCancelled = 3,   // the callback returned false
};
const char* stop_reason_name(StopReason reason);

struct GenerateResult {
  size_t generated = 0;  // tokens passed to the callback
  StopReason reason = StopReason::kTokenCount;
};

// score_tokens(): every token after the first of each window is predicted
// from the tokens before it in its window; a sequence longer than
// max_length is scored in windows of max_length tokens (the cache restarts
// at each; the first token of a window is not predicted).
struct TokenScore {
  double nats = 0;         // sum of log p(token | earlier tokens), <= 0
  size_t predicted = 0;    // tokens scored
  size_t windows = 0;      // cache windows used
};

// Picks one token from `logits[vocab]` (a pure function; see
// TokenSamplingOptions). `history` are the tokens of the sequence so far
// (for the repetition penalty), `uniform` a number in [0, 1). Scratch:
// `scratch[2 * vocab]` and `order[vocab]` (caller memory). Ids outside
// [0, vocab) in history are ignored; a NaN logit is never chosen unless all are.
int32_t sample_token(const float* logits, size_t vocab, const TokenSamplingOptions& options, const int32_t* history,
                     size_t history_count, float uniform, float* scratch, int32_t* order);

class TokenDecoder : public Program {
 public:
  TokenDecoder() = default;

  static Result<size_t> arena_bytes_needed(const Model& model, const SessionOptions& options = SessionOptions());
  // Fails with kInvalidArgument when the model is not a token decoder, and
  // with kInvalidModel when its graphs do not form one (shapes, dtypes, a
  // cache the step and prefill graphs do not share).
  Status prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options = SessionOptions());
  Status prepare(const Model& model, const SessionOptions& options = SessionOptions());

  PipelineKind kind() const override { return PipelineKind::kTokenDecoder; }
  uint32_t capabilities() const override;  // generate, score_tokens
  Session& session() override { return session_; }
  size_t batch() const override { return 1; }
  // [max_length]: a sequence of token ids.
  const Shape& event_shape() const override { return event_shape_; }

  size_t vocab_size() const { return vocab_; }
  size_t max_length() const { return max_length_; }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool has_prefill() const { return prefill_.graph >= 0; }
  size_t prefill_length() const { return prefill_.length; }
  // Bytes of the KV cache (all layers, K and V).
  size_t cache_bytes() const { return cache_bytes_; }

  // Empties the cache (zeros; position 0).
  void reset();
  // Tokens in the cache: the position the next token is written at.
  size_t position() const { return position_; }
  // Feeds `count` tokens at position() (prefill runs, then steps); the
  // logits after the last one are then logits(). kInvalidArgument, with
  // nothing run, when a token is outside the vocabulary or the tokens do
  // not fit before max_length.
  Status feed(const int32_t* tokens, size_t count);
  // The logits [vocab] of the last token fed (valid until the next feed).
  const float* logits() const { return logits_; }

  // reset(), feed(prompt) (at least one token), then up to max_new_tokens
  // tokens chosen by `options`, each fed back and passed to `callback`.
  Status generate(const int32_t* prompt, size_t prompt_count, size_t max_new_tokens,
                  const TokenSamplingOptions& options, const TokenCallback& callback, GenerateResult* result) override;
  Status score_tokens(const int32_t* tokens, size_t count, TokenScore* score) override;

 private:
  struct GraphIo {
    int graph = -1;
    size_t length = 0;  // tokens per run
    Tensor* tokens = nullptr;    // borrowed (session)
    Tensor* position = nullptr;  // borrowed
    Tensor* logits = nullptr;    // borrowed
  };
  Status configure(const Model& model);
  Status configure_graph(const void* spec, GraphIo* io, const char* role);
  Status run(const GraphIo& io, const int32_t* tokens);

  Session session_;
  Shape event_shape_;
  GraphIo step_, prefill_;
  size_t vocab_ = 0, max_length_ = 0, cache_bytes_ = 0, position_ = 0;
  int32_t bos_ = -1, eos_ = -1;
  void* caches_[2 * 64] = {};     // borrowed: each cache tensor's bytes (session arena)
  size_t cache_sizes_[2 * 64] = {};
  size_t num_caches_ = 0;
  float* logits_ = nullptr;       // borrowed, reserved: [vocab]
  float* scratch_ = nullptr;      // borrowed, reserved: sampler scratch [2 * vocab]
  int32_t* order_ = nullptr;      // borrowed, reserved: sampler scratch [vocab]
  int32_t* sequence_ = nullptr;   // borrowed, reserved: the tokens in the cache [max_length]
};

}  // namespace edgegen
