// examples/tiny_lm (a trained byte-level transformer, 4 layers, static-cache
// step and prefill graphs made by the tiny_lm branch; the files are copied
// unchanged) against its committed PyTorch references: greedy generation
// from the reference prompt gives exactly PyTorch's 64 tokens, and the
// logits every token was chosen from, and those of every prompt position,
// agree within 1e-4 — prompt fed token by token (step graph) and through
// the prefill graph (32 tokens per run, then steps). Both backends (CTest).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgegen/token_decoder.h"
#include "testing/allocation_counter.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using testing::LoadedModel;
using testing::load_model;
using testing::read_floats;

namespace {

std::string file(const std::string& name) { return std::string(EDGEGEN_TINY_LM_DIR) + "/" + name; }

std::vector<int32_t> read_tokens(const std::string& name) {
  std::vector<float> values = read_floats(file(name));
  return std::vector<int32_t>(values.begin(), values.end());
}

double max_difference(const float* actual, const std::vector<float>& expected, size_t row, size_t width) {
  double worst = 0;
  for (size_t i = 0; i < width; ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(actual[i]) - expected[row * width + i]));
  return worst;
}

bool append(void* user, int32_t token, size_t) {
  static_cast<std::vector<int32_t>*>(user)->push_back(token);
  return true;
}

}  // namespace

TEST_CASE("tiny_lm: greedy generation equals PyTorch's 64 tokens; logits within 1e-4") {
  LoadedModel loaded;
  load_model(file("manifest.json"), 1, &loaded);
  TokenDecoder decoder;
  REQUIRE(decoder.prepare(loaded.model).is_ok());
  CHECK(decoder.vocab_size() == 258);
  CHECK(decoder.has_prefill());
  CHECK(decoder.prefill_length() == 32);
  const std::vector<int32_t> prompt = read_tokens("reference_prompt_tokens.npy");
  const std::vector<int32_t> expected = read_tokens("reference_tokens.npy");
  const std::vector<float> chosen_logits = read_floats(file("reference_logits.npy"));
  const std::vector<float> prompt_logits = read_floats(file("reference_prompt_logits.npy"));
  const size_t vocab = decoder.vocab_size();
  REQUIRE(prompt.size() == 57);
  REQUIRE(expected.size() == 64);

  std::vector<int32_t> tokens;
  tokens.reserve(expected.size());
  TokenCallback callback;
  callback.on_token = append;
  callback.user = &tokens;
  GenerateResult result;
  REQUIRE(decoder.generate(prompt.data(), prompt.size(), expected.size(), TokenSamplingOptions(), callback, &result)
              .is_ok());
  CHECK(tokens == expected);
  CHECK(result.reason == StopReason::kTokenCount);

  // The logits each of the first 8 tokens was chosen from, prompt through prefill + steps.
  decoder.reset();
  REQUIRE(decoder.feed(prompt.data(), prompt.size()).is_ok());
  const size_t steps = chosen_logits.size() / vocab;
  double worst = 0;
  for (size_t i = 0; i < steps; ++i) {
    worst = std::max(worst, max_difference(decoder.logits(), chosen_logits, i, vocab));
    REQUIRE(decoder.feed(&expected[i], 1).is_ok());
  }
  CHECK(worst < 1e-4);

  // Every prompt position's logits, token by token through the step graph.
  decoder.reset();
  worst = 0;
  for (size_t j = 0; j < prompt.size(); ++j) {
    REQUIRE(decoder.feed(&prompt[j], 1).is_ok());
    worst = std::max(worst, max_difference(decoder.logits(), prompt_logits, j, vocab));
  }
  CHECK(worst < 1e-4);
  // And after the prefill graph's first 32.
  decoder.reset();
  REQUIRE(decoder.feed(prompt.data(), 32).is_ok());
  CHECK(max_difference(decoder.logits(), prompt_logits, 31, vocab) < 1e-4);
}

TEST_CASE("tiny_lm: scoring the reference continuation through the cache agrees with the logits") {
  LoadedModel loaded;
  load_model(file("manifest.json"), 1, &loaded);
  TokenDecoder decoder;
  REQUIRE(decoder.prepare(loaded.model).is_ok());
  const std::vector<int32_t> prompt = read_tokens("reference_prompt_tokens.npy");
  const std::vector<float> prompt_logits = read_floats(file("reference_prompt_logits.npy"));
  const size_t vocab = decoder.vocab_size();
  double expected = 0;
  for (size_t j = 0; j + 1 < prompt.size(); ++j) {
    const float* row = &prompt_logits[j * vocab];
    double top = *std::max_element(row, row + vocab), sum = 0;
    for (size_t i = 0; i < vocab; ++i) sum += std::exp(row[i] - top);
    expected += row[prompt[j + 1]] - top - std::log(sum);
  }
  TokenScore score;
  size_t allocations;
  {
    testing::AllocationScope scope;
    REQUIRE(decoder.score_tokens(prompt.data(), prompt.size(), &score).is_ok());
    allocations = scope.count();
  }
  CHECK(allocations == 0);
  CHECK(score.predicted == prompt.size() - 1);
  CHECK(std::fabs(score.nats - expected) < 1e-3);
}
