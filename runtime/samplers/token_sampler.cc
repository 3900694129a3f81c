// Choosing the next token from a decoder's logits: a pure function over
// caller scratch, like the diffusion samplers beside it. The order of the
// controls is the common one (Hugging Face's logits processors, llama.cpp's
// default chain): repetition penalty, temperature, top-k, min-p, top-p.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgegen/token_decoder.h"

namespace edgegen {

int32_t sample_token(const float* logits, size_t vocab, const TokenSamplingOptions& options, const int32_t* history,
                     size_t history_count, float uniform, float* scratch, int32_t* order) {
  float* values = scratch;           // [vocab]: the logits after the penalty, by token id
  float* weights = scratch + vocab;  // [vocab]: the kept candidates' probabilities, unnormalized, by rank
  for (size_t i = 0; i < vocab; ++i) values[i] = std::isnan(logits[i]) ? -INFINITY : logits[i];
  if (options.repetition_penalty > 0.f && options.repetition_penalty != 1.f && history != nullptr) {
    // order[] marks the tokens penalized already: once per token, however often it occurs.
    std::memset(order, 0, vocab * sizeof(int32_t));
    for (size_t i = 0; i < history_count; ++i) {
      const int32_t token = history[i];
      if (token < 0 || static_cast<size_t>(token) >= vocab || order[token] != 0) continue;
      order[token] = 1;
      values[token] = values[token] > 0.f ? values[token] / options.repetition_penalty
                                          : values[token] * options.repetition_penalty;
    }
  }
  if (!(options.temperature > 0.f) || options.top_k == 1) {
    size_t best = 0;
    for (size_t i = 1; i < vocab; ++i)
      if (values[i] > values[best]) best = i;
    return static_cast<int32_t>(best);
  }
  // Candidates, most likely first (ties: the lower id first); top-k keeps k.
  size_t kept = vocab;
  if (options.top_k > 0 && options.top_k < vocab) kept = options.top_k;
  for (size_t i = 0; i < vocab; ++i) order[i] = static_cast<int32_t>(i);
  std::partial_sort(order, order + kept, order + vocab, [values](int32_t a, int32_t b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  const double top = static_cast<double>(values[order[0]]);
  if (!std::isfinite(top)) return order[0];
  const double inverse_temperature = 1.0 / static_cast<double>(options.temperature);
  // Probabilities relative to the most likely (which has 1); min-p drops the
  // tail below min_p, and since they fall with the rank, it is a prefix.
  double total = 0;
  size_t count = 0;
  for (; count < kept; ++count) {
    const double w = std::exp((static_cast<double>(values[order[count]]) - top) * inverse_temperature);
    if (count > 0 && (w < static_cast<double>(options.min_p) || w == 0.0)) break;
    weights[count] = static_cast<float>(w);
    total += static_cast<double>(weights[count]);
  }
  kept = count;
  // top-p: the shortest prefix whose probability reaches top_p.
  if (options.top_p > 0.f && options.top_p < 1.f) {
    double sum = 0;
    for (size_t i = 0; i < kept; ++i) {
      sum += static_cast<double>(weights[i]);
      if (sum >= static_cast<double>(options.top_p) * total) {
        kept = i + 1;
        total = sum;
        break;
      }
    }
  }
  // The draw: the first candidate whose cumulative weight exceeds u * total.
  const double target = static_cast<double>(uniform) * total;
  double sum = 0;
  for (size_t i = 0; i < kept; ++i) {
    sum += static_cast<double>(weights[i]);
    if (target < sum) return order[i];
  }
  return order[kept - 1];
}

}  // namespace edgegen
