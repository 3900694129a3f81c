#include "edgegen/token_decoder.h"

#include <cmath>
#include <cstring>

#include "core/arena_allocator.h"
#include "core/memory_planner.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"

namespace edgegen {
namespace {

constexpr size_t kMaxCaches = 128;  // 64 layers of K and V

Status not_token_decoder(const Model& model) {
  return Status::error(StatusCode::kInvalidArgument, "this model is a '%s' pipeline, not a token_decoder",
                       pipeline_kind_name(model.pipeline_kind()));
}

size_t vocab_of(const Model& model) { return model.root()->pipeline_as_TokenDecoderPipeline()->vocab_size(); }
size_t max_length_of(const Model& model) { return model.root()->pipeline_as_TokenDecoderPipeline()->max_length(); }

// logits [vocab], sampler scratch [2 * vocab] and order [vocab], the sequence [max_length].
size_t reserve_for(const Model& model) {
  const size_t vocab = vocab_of(model);
  return static_cast<size_t>(align_up(vocab * sizeof(float), kArenaAlignment) +
                             align_up(2 * vocab * sizeof(float), kArenaAlignment) +
                             align_up(vocab * sizeof(int32_t), kArenaAlignment) +
                             align_up(max_length_of(model) * sizeof(int32_t), kArenaAlignment));
}

void write_integer(Tensor& tensor, size_t index, int64_t value) {
  if (tensor.dtype == DType::kInt64)
    tensor.data_as<int64_t>()[index] = value;
  else
    tensor.data_as<int32_t>()[index] = static_cast<int32_t>(value);
}

bool is_integer(const Tensor& tensor) { return tensor.dtype == DType::kInt64 || tensor.dtype == DType::kInt32; }

double log_softmax_at(const float* logits, size_t vocab, int32_t token) {
  // A plain float maximum: aarch64 GCC 12 crashes (an internal compiler
  // error in its vectorizer) on an fmax reduction in double here.
  float top = logits[0];
  for (size_t i = 1; i < vocab; ++i) top = logits[i] > top ? logits[i] : top;
  double sum = 0;
  for (size_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - top);
  return static_cast<double>(logits[token]) - top - std::log(sum);
}

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kTokenCount: return "token_count";
    case StopReason::kEos: return "eos";
    case StopReason::kMaxLength: return "max_length";
    case StopReason::kCancelled: return "cancelled";
  }
  return "unknown";
}

Result<size_t> TokenDecoder::arena_bytes_needed(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kTokenDecoder) return not_token_decoder(model);
  return Session::arena_bytes_needed(model, reserve_for(model), options);
}

uint32_t TokenDecoder::capabilities() const {
  return capability_bit(Capability::kGenerate) | capability_bit(Capability::kScoreTokens);
}

Status TokenDecoder::prepare(const Model& model, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kTokenDecoder) return not_token_decoder(model);
  EG_RETURN_IF_ERROR(session_.prepare(model, reserve_for(model), options));
  return configure(model);
}

Status TokenDecoder::prepare(const Model& model, void* arena, size_t arena_bytes, const SessionOptions& options) {
  if (model.pipeline_kind() != PipelineKind::kTokenDecoder) return not_token_decoder(model);
  EG_RETURN_IF_ERROR(session_.prepare(model, arena, arena_bytes, reserve_for(model), options));
  return configure(model);
}

// One graph's tensors (indices verified at load): integer tokens [1, T] and
// position (1 element), logits of T * vocab floats, and caches that are the
// step graph's, at the same addresses (the plan puts the state first).
Status TokenDecoder::configure_graph(const void* spec_pointer, GraphIo* io, const char* role) {
  const auto* spec = static_cast<const format::TokenDecoderGraph*>(spec_pointer);
  const size_t g = spec->graph();
  io->graph = static_cast<int>(g);
  io->tokens = &session_.input(g, spec->tokens_input());
  io->position = &session_.input(g, spec->position_input());
  io->logits = &session_.output(g, spec->logits_output());
  const Tensor& tokens = *io->tokens;
  if (!is_integer(tokens) || tokens.shape.rank != 2 || tokens.shape.dims[0] != 1 || tokens.shape.dims[1] < 1)
    return Status::error(StatusCode::kInvalidModel, "token_decoder %s graph: tokens '%s' must be integer [1, T] (batch 1)",
                         role, tokens.name);
  io->length = static_cast<size_t>(tokens.shape.dims[1]);
  if (!is_integer(*io->position) || io->position->num_elements() != 1)
    return Status::error(StatusCode::kInvalidModel, "token_decoder %s graph: position '%s' must be one integer", role,
                         io->position->name);
  if (io->logits->dtype != DType::kFloat32 || io->logits->num_elements() != io->length * vocab_)
    return Status::error(StatusCode::kInvalidModel, "token_decoder %s graph: logits '%s' must hold %zu x %zu floats", role,
                         io->logits->name, io->length, vocab_);
  const auto* cache_inputs = spec->cache_inputs();
  const bool first = num_caches_ == 0;
  if (first) {
    if (cache_inputs->size() > kMaxCaches)
      return Status::error(StatusCode::kUnsupportedOp, "token_decoder: %u cache tensors; at most %zu (64 layers)",
                           cache_inputs->size(), kMaxCaches);
    num_caches_ = cache_inputs->size();
  }
  for (uint32_t i = 0; i < cache_inputs->size(); ++i) {
    Tensor& cache = session_.input(g, cache_inputs->Get(i));
    if (first) {
      caches_[i] = cache.data;
      cache_sizes_[i] = cache.bytes();
      cache_bytes_ += cache.bytes();
    } else if (cache.data != caches_[i] || cache.bytes() != cache_sizes_[i]) {
      return Status::error(StatusCode::kInvalidModel,
                           "token_decoder: cache '%s' of the %s graph is not placed where the step graph's is; "
                           "reconvert the model",
                           cache.name, role);
    }
  }
  return Status::ok();
}

Status TokenDecoder::configure(const Model& model) {
  const auto* spec = model.root()->pipeline_as_TokenDecoderPipeline();
  vocab_ = spec->vocab_size();
  max_length_ = spec->max_length();
  bos_ = spec->bos();
  eos_ = spec->eos();
  event_shape_ = Shape();
  event_shape_.rank = 1;
  event_shape_.dims[0] = static_cast<int64_t>(max_length_);
  num_caches_ = 0;
  cache_bytes_ = 0;
  EG_RETURN_IF_ERROR(configure_graph(spec->step(), &step_, "step"));
  if (step_.length != 1)
    return Status::error(StatusCode::kInvalidModel, "token_decoder step graph: tokens must be [1, 1]");
  prefill_ = GraphIo();
  if (spec->prefill() != nullptr) EG_RETURN_IF_ERROR(configure_graph(spec->prefill(), &prefill_, "prefill"));
  logits_ = static_cast<float*>(session_.reserve(vocab_ * sizeof(float)));
  scratch_ = static_cast<float*>(session_.reserve(2 * vocab_ * sizeof(float)));
  order_ = static_cast<int32_t*>(session_.reserve(vocab_ * sizeof(int32_t)));
  sequence_ = static_cast<int32_t*>(session_.reserve(max_length_ * sizeof(int32_t)));
  if (logits_ == nullptr || scratch_ == nullptr || order_ == nullptr || sequence_ == nullptr)
    return Status::error(StatusCode::kArenaTooSmall, "token_decoder: reservation too small");
  reset();
  return Status::ok();
}

void TokenDecoder::reset() {
  for (size_t i = 0; i < num_caches_; ++i) std::memset(caches_[i], 0, cache_sizes_[i]);
  if (logits_ != nullptr) std::memset(logits_, 0, vocab_ * sizeof(float));
  position_ = 0;
}

Status TokenDecoder::run(const GraphIo& io, const int32_t* tokens) {
  for (size_t i = 0; i < io.length; ++i) write_integer(*io.tokens, i, tokens[i]);
  write_integer(*io.position, 0, static_cast<int64_t>(position_));
  EG_RETURN_IF_ERROR(session_.run(static_cast<size_t>(io.graph)));
  std::memcpy(logits_, io.logits->data_as<const float>() + (io.length - 1) * vocab_, vocab_ * sizeof(float));
  std::memcpy(sequence_ + position_, tokens, io.length * sizeof(int32_t));
  position_ += io.length;
  return Status::ok();
}

Status TokenDecoder::feed(const int32_t* tokens, size_t count) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "token_decoder: prepare() first");
  if (count == 0) return Status::ok();
  if (tokens == nullptr) return Status::error(StatusCode::kInvalidArgument, "token_decoder: tokens is null");
  if (count > max_length_ - position_)
    return Status::error(StatusCode::kInvalidArgument,
                         "token_decoder: %zu tokens at position %zu pass max_length %zu (the cache holds positions 0 "
                         "to %zu)",
                         count, position_, max_length_, max_length_ - 1);
  for (size_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || static_cast<size_t>(tokens[i]) >= vocab_)
      return Status::error(StatusCode::kInvalidArgument, "token_decoder: token %d (at %zu) is outside the vocabulary [0, %zu)",
                           tokens[i], i, vocab_);
  size_t done = 0;
  if (has_prefill())
    for (; count - done >= prefill_.length; done += prefill_.length) EG_RETURN_IF_ERROR(run(prefill_, tokens + done));
  for (; done < count; ++done) EG_RETURN_IF_ERROR(run(step_, tokens + done));
  return Status::ok();
}

Status TokenDecoder::generate(const int32_t* prompt, size_t prompt_count, size_t max_new_tokens,
                              const TokenSamplingOptions& options, const TokenCallback& callback,
                              GenerateResult* result) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "token_decoder: prepare() first");
  if (prompt == nullptr || prompt_count == 0)
    return Status::error(StatusCode::kInvalidArgument, "token_decoder: generation needs a prompt of at least one token");
  if (!(options.temperature >= 0.f) || !(options.top_p > 0.f && options.top_p <= 1.f) ||
      !(options.min_p >= 0.f && options.min_p <= 1.f) || !(options.repetition_penalty > 0.f))
    return Status::error(StatusCode::kInvalidArgument,
                         "token_decoder: temperature must be >= 0, top_p in (0, 1], min_p in [0, 1] and "
                         "repetition_penalty > 0");
  GenerateResult local;
  GenerateResult& out = result != nullptr ? *result : local;
  out = GenerateResult();
  reset();
  EG_RETURN_IF_ERROR(feed(prompt, prompt_count));
  while (true) {
    if (out.generated >= max_new_tokens) {
      out.reason = StopReason::kTokenCount;
      break;
    }
    float uniform = 0.f;
    fill_uniform(options.seed, 0, position_, &uniform, 1);
    const int32_t token = sample_token(logits_, vocab_, options, sequence_, position_, uniform, scratch_, order_);
    if (token == eos_) {
      out.reason = StopReason::kEos;
      break;
    }
    ++out.generated;
    if (callback.on_token != nullptr && !callback.on_token(callback.user, token, position_)) {
      out.reason = StopReason::kCancelled;
      break;
    }
    if (out.generated >= max_new_tokens) {
      out.reason = StopReason::kTokenCount;
      break;
    }
    if (position_ >= max_length_) {
      out.reason = StopReason::kMaxLength;
      break;
    }
    EG_RETURN_IF_ERROR(feed(&token, 1));
  }
  return Status::ok();
}

Status TokenDecoder::score_tokens(const int32_t* tokens, size_t count, TokenScore* score) {
  if (!session_.prepared()) return Status::error(StatusCode::kNotPrepared, "token_decoder: prepare() first");
  if (score == nullptr || (tokens == nullptr && count > 0))
    return Status::error(StatusCode::kInvalidArgument, "token_decoder: tokens or score is null");
  for (size_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || static_cast<size_t>(tokens[i]) >= vocab_)
      return Status::error(StatusCode::kInvalidArgument, "token_decoder: token %d (at %zu) is outside the vocabulary [0, %zu)",
                           tokens[i], i, vocab_);
  *score = TokenScore();
  for (size_t start = 0; start < count; start += max_length_) {
    const size_t window = count - start < max_length_ ? count - start : max_length_;
    reset();
    ++score->windows;
    // Step by step: every position's logits are needed, and the step graph
    // gives the last token's only.
    for (size_t i = 0; i < window; ++i) {
      if (i > 0) {
        score->nats += log_softmax_at(logits_, vocab_, tokens[start + i]);
        ++score->predicted;
      }
      if (i + 1 < window) EG_RETURN_IF_ERROR(run(step_, tokens + start + i));
    }
  }
  return Status::ok();
}

}  // namespace edgegen
