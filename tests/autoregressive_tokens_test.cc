// A categorical autoregressive model in its natural form (issue 12): the
// graph takes int64 token ids into an embedding Gather. The pipeline scores,
// samples and imputes through it with items as floats, converting on the way
// in; the converter refuses what the runtime would (integer ids for a
// bernoulli model). Model and PyTorch's log-likelihoods from
// tests/autoregressive_tokens/make_model.py.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/density.h"
#include "tests/support/density_test_util.h"

using namespace edgegen;
using testing::LoadedModel;
using testing::load_model;
using testing::max_absolute_error;
using testing::read_floats;

namespace {

std::string path(const std::string& file) { return std::string(EDGEGEN_AR_TOKENS_DIR) + "/" + file; }

constexpr size_t kDims = 6;
constexpr uint32_t kCategories = 5;

}  // namespace

TEST_CASE("A categorical autoregressive graph over int64 token ids scores like PyTorch") {
  LoadedModel loaded;
  load_model(path("manifest.json"), 4, &loaded);
  AutoregressivePipeline pipeline;
  Status prepared = pipeline.prepare(loaded.model);
  REQUIRE_MESSAGE(prepared.is_ok(), std::string(prepared.message()));
  CHECK(pipeline.session().input(0, 0).dtype == DType::kInt64);
  const std::vector<float> rows = read_floats(path("rows.npy"));
  const std::vector<float> expected = read_floats(path("log_prob.npy"));
  const size_t count = expected.size();  // 16 rows: four batches
  std::vector<float> actual(count);
  REQUIRE(pipeline.log_prob(rows.data(), count, actual.data()).is_ok());
  CHECK(max_absolute_error(actual, expected) < 1e-4);

  SUBCASE("values that are not token ids are refused before the graph sees them") {
    std::vector<float> bad(rows.begin(), rows.begin() + kDims);
    bad[2] = 2.5f;
    float out = 0;
    Status status = pipeline.log_prob(bad.data(), 1, &out);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(std::string(status.message()).find("dimension 2") != std::string::npos);
    bad[2] = static_cast<float>(kCategories);
    CHECK(pipeline.log_prob(bad.data(), 1, &out).code() == StatusCode::kInvalidArgument);
  }

  SUBCASE("sampling and imputing give token ids the model scores") {
    ArSampleOptions options;
    options.seed = 7;
    std::vector<float> samples(5 * kDims);
    REQUIRE(pipeline.sample(options, 5, samples.data()).is_ok());
    for (float value : samples) CHECK((value >= 0.f && value < kCategories && value == std::floor(value)));
    std::vector<float> scores(5);
    REQUIRE(pipeline.log_prob(samples.data(), 5, scores.data()).is_ok());
    for (float score : scores) CHECK(std::isfinite(score));

    // Greedy imputation of the last dimension picks its most likely value given the rest.
    std::vector<float> holey(rows.begin(), rows.begin() + kDims);
    holey[kDims - 1] = NAN;
    options.temperature = 0.f;
    REQUIRE(pipeline.impute(options, 1, holey.data()).is_ok());
    float best = -INFINITY;
    for (uint32_t c = 0; c < kCategories; ++c) {
      std::vector<float> candidate = holey;
      candidate[kDims - 1] = static_cast<float>(c);
      float score = 0;
      REQUIRE(pipeline.log_prob(candidate.data(), 1, &score).is_ok());
      best = std::fmax(best, score);
    }
    float imputed = 0;
    REQUIRE(pipeline.log_prob(holey.data(), 1, &imputed).is_ok());
    CHECK(imputed == best);

    holey[0] = -1.f;
    holey[kDims - 1] = NAN;
    CHECK(pipeline.impute(options, 1, holey.data()).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("The converter refuses integer token inputs for a distribution that is not categorical") {
  converter::ConvertOptions options;
  options.batch = 4;
  bool refused = false;
  try {
    converter::convert(path("bernoulli_manifest.json"), options);
  } catch (const converter::ConversionError& error) {
    refused = true;
    const std::string message = error.what();
    CHECK(message.find("'x' is int64") != std::string::npos);
    CHECK(message.find("categorical") != std::string::npos);
  }
  CHECK(refused);
}
