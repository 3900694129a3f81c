// Helpers of the density model tests (examples/density_examples_test.cc,
// examples/vae_gaussian_test.cc, tests/flow_layers_test.cc): convert a
// manifest into .egm bytes and load them, read a committed reference .npy,
// compare within a relative tolerance, and the checks every VAE bound test
// makes whatever its likelihood. Test code: uses the heap and doctest's REQUIRE.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "converter/converter.h"
#include "edgegen/density.h"
#include "edgegen/model.h"
#include "edgegen/random.h"
#include "edgegen_generated.h"
#include "npy.h"
#include "ops/registry.h"
#include "testing/allocation_counter.h"
#include "testing/model_builder.h"

namespace edgegen::testing {

// A converted model and the aligned bytes it borrows.
struct LoadedModel {
  AlignedBytes bytes;  // the .egm file; `model` borrows it
  Model model;
};

// Converts the manifest (or .onnx) at `path` for `batch` items and loads the
// result through the verified path, as a device would.
inline void load_model(const std::string& path, int batch, LoadedModel* out) {
  converter::ConvertOptions options;
  options.batch = batch;
  std::vector<uint8_t> file = converter::convert(path, options);
  out->bytes.assign(file.data(), file.size());
  Result<Model> model = Model::from_buffer(out->bytes.data(), out->bytes.size());
  REQUIRE_MESSAGE(model.ok(), std::string(model.status().message()));
  out->model = *model;
}

// A committed .npy as float32 values (row-major).
inline std::vector<float> read_floats(const std::string& path) { return cli::npy_to_float32(cli::read_npy(path)); }

// max_i |actual_i - expected_i| / max(1, |expected_i|).
inline double max_relative_error(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    worst = std::max(worst, std::fabs(double(actual[i]) - expected[i]) / std::max(1.0, std::fabs(double(expected[i]))));
  return worst;
}

// max_i |actual_i - expected_i|.
inline double max_absolute_error(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) worst = std::max(worst, std::fabs(double(actual[i]) - expected[i]));
  return worst;
}

// How many operators of graph `graph` have `opcode`.
inline size_t count_ops(const Model& model, size_t graph, OpCode opcode) {
  size_t count = 0;
  for (const format::Operator* op : *model.graph(graph)->operators())
    count += op->opcode() == static_cast<uint32_t>(opcode);
  return count;
}

// The inverse of a flow's declared preprocessing (y = x / scale, logit with
// alpha): logit-space values l -> data units x = scale (sigmoid(l) - alpha) / (1 - 2 alpha).
inline std::vector<float> logit_to_data(const std::vector<float>& logits, double scale, double alpha) {
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    out[i] = static_cast<float>(scale * (1.0 / (1.0 + std::exp(-double(logits[i]))) - alpha) / (1 - 2 * alpha));
  return out;
}

// VAE bounds, k = 1: scores `count` items of `x` with the ELBO and with
// IWAE (seed 5) without heap allocation; one sample makes them equal.
// Returns the ELBO per item.
inline std::vector<float> vae_bound_k1(VaeScorer& scorer, const std::vector<float>& x, size_t count) {
  std::vector<float> elbo(count), iwae(count);
  size_t allocations;
  {
    AllocationScope scope;
    REQUIRE(scorer.score(x.data(), count, 1, VaeBound::kElbo, 5, elbo.data()).is_ok());
    REQUIRE(scorer.score(x.data(), count, 1, VaeBound::kIwae, 5, iwae.data()).is_ok());
    allocations = scope.count();
  }
  CHECK(allocations == 0);
  CHECK(elbo == iwae);  // IWAE with one sample is the ELBO
  return elbo;
}

// The sample vae_bound_k1 draws: z = mu + sigma eps with the scorer's
// documented noise (normal stream (5, 1) from index n * latent size), and
// per item log N(z; 0, I) - log N(z; mu, sigma^2 I).
struct PosteriorSample {
  std::vector<float> z;
  std::vector<double> log_ratio;
};
inline PosteriorSample vae_posterior_sample_k1(const std::vector<float>& mean, const std::vector<float>& logvar,
                                               size_t count, size_t latent) {
  constexpr double kLogTwoPi = 1.8378770664093454835606594728112;
  REQUIRE(mean.size() == count * latent);
  std::vector<float> eps(count * latent);
  fill_normal(5, 1, 0, eps.data(), eps.size());
  PosteriorSample sample{std::vector<float>(count * latent), std::vector<double>(count, 0.0)};
  for (size_t n = 0; n < count; ++n)
    for (size_t i = 0; i < latent; ++i) {
      const size_t at = n * latent + i;
      const double sigma = std::exp(0.5 * double(logvar[at]));
      const double zi = mean[at] + sigma * eps[at];
      sample.z[at] = float(zi);
      const double u = (zi - mean[at]) / sigma;
      sample.log_ratio[n] += -0.5 * (zi * zi + kLogTwoPi) - (-0.5 * (u * u + kLogTwoPi) - std::log(sigma));
    }
  return sample;
}

// VAE bounds, k > 1: on the same samples IWAE >= ELBO per item (Jensen;
// `slack(elbo)` is the rounding allowed), both finite, and the mean IWAE
// rises with k (1, 8, 64). A scorer prepared for batch 1 (`single`) draws
// the same samples as `scorer`.
template <typename Slack>
void check_iwae_rises_with_k(VaeScorer& scorer, VaeScorer& single, const std::vector<float>& x, size_t count,
                             Slack slack) {
  double previous = -std::numeric_limits<double>::infinity();
  for (size_t k : {1, 8, 64}) {
    std::vector<float> elbo(count), iwae(count);
    REQUIRE(scorer.score(x.data(), count, k, VaeBound::kElbo, 9, elbo.data()).is_ok());
    REQUIRE(scorer.score(x.data(), count, k, VaeBound::kIwae, 9, iwae.data()).is_ok());
    double mean = 0;
    for (size_t n = 0; n < count; ++n) {
      CHECK(std::isfinite(iwae[n]));
      CHECK(iwae[n] >= elbo[n] - slack(elbo[n]));
      mean += iwae[n] / double(count);
    }
    MESSAGE("k = " << k << ": mean IWAE " << mean);
    CHECK(mean > previous);
    previous = mean;
  }
  std::vector<float> a(count), b(count);
  REQUIRE(scorer.score(x.data(), count, 8, VaeBound::kIwae, 3, a.data()).is_ok());
  REQUIRE(single.score(x.data(), count, 8, VaeBound::kIwae, 3, b.data()).is_ok());
  for (size_t n = 0; n < count; ++n) CHECK(std::fabs(a[n] - b[n]) <= 1e-4f * std::max(1.f, std::fabs(a[n])));
}

}  // namespace edgegen::testing
