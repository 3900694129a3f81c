#include "pipelines/likelihood_terms.h"

#include "core/vector_math.h"

namespace edgegen {
namespace {

constexpr size_t kChunk = 256;

// x l - softplus(l), softplus(l) = max(l, 0) + log1p(e^-|l|).
EG_VECTOR_CLONES void terms(const float* x, const float* logits, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float l = logits[i];
    const float magnitude = l < 0.f ? -l : l;
    const float softplus = (l > 0.f ? l : 0.f) + simd::fast_log1p(simd::fast_exp(-magnitude));
    out[i] = x[i] * l - softplus;
  }
}

// The sum of exp(l - top) over one row of logits, 16 lanes at a time (a
// float sum in one variable would not vectorize without reassociation).
EG_VECTOR_CLONES float exp_sum(const float* logits, size_t n, float top) {
  constexpr size_t kLanes = 16;
  float lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) lanes[k] += simd::fast_exp(logits[i + k] - top);
  float sum = 0.f;
  for (; i < n; ++i) sum += simd::fast_exp(logits[i] - top);
  for (size_t k = 0; k < kLanes; ++k) sum += lanes[k];
  return sum;
}

}  // namespace

double bernoulli_logit_log_likelihood(const float* x, const float* logits, size_t n) {
  float chunk[kChunk];
  double total = 0.0;
  for (size_t first = 0; first < n; first += kChunk) {
    const size_t count = n - first < kChunk ? n - first : kChunk;
    terms(x + first, logits + first, chunk, count);
    for (size_t i = 0; i < count; ++i) total += chunk[i];
  }
  return total;
}

double categorical_log_likelihood(const float* x, const float* logits, size_t dims, size_t categories) {
  double total = 0.0;
  for (size_t d = 0; d < dims; ++d, logits += categories) {
    float top = logits[0];
    for (size_t c = 1; c < categories; ++c) top = logits[c] > top ? logits[c] : top;
    // sum >= 1 (the top's own term): its log is small, the top exact.
    const double log_sum = static_cast<double>(top) + simd::fast_log(exp_sum(logits, categories, top));
    total += static_cast<double>(logits[static_cast<size_t>(x[d])]) - log_sum;
  }
  return total;
}

}  // namespace edgegen
