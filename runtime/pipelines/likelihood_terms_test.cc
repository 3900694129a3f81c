// The vectorized float32 log-likelihood terms against the libm formulas in
// double: Bernoulli logits from saturated to tiny with data in [0, 1], and
// categorical rows of 1 to 300 categories with large and equal logits.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "pipelines/likelihood_terms.h"

namespace edgegen {
namespace {

double softplus(double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }

TEST_CASE("Bernoulli log-likelihood from logits: within 1e-6 of double precision, per value and summed") {
  std::vector<float> x, logits;
  for (float l : {-120.f, -88.f, -30.f, -17.f, -5.f, -1.f, -1e-3f, -1e-8f, 0.f, 1e-8f, 1e-3f, 0.7f, 4.f, 16.f, 40.f,
                  90.f, 150.f})
    for (float v : {0.f, 1.f, 0.25f}) x.push_back(v), logits.push_back(l);
  // A VAE decoder's outputs over more than one chunk of 256.
  for (int i = 0; i < 1000; ++i) {
    x.push_back(static_cast<float>(i % 3 == 0));
    logits.push_back(12.f * std::sin(0.37f * static_cast<float>(i)) - 3.f);
  }
  double want = 0, magnitude = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double term = static_cast<double>(x[i]) * logits[i] - softplus(logits[i]);
    want += term;
    magnitude += std::fabs(term);
    // One value alone: the term's own error.
    const double got = bernoulli_logit_log_likelihood(&x[i], &logits[i], 1);
    CAPTURE(logits[i]);
    CAPTURE(x[i]);
    CHECK(std::fabs(got - term) <= 1e-6 * std::fmax(1.0, std::fabs(term)) + 1e-12);
  }
  CHECK(std::fabs(bernoulli_logit_log_likelihood(x.data(), logits.data(), x.size()) - want) <= 1e-6 * magnitude);
  CHECK(bernoulli_logit_log_likelihood(x.data(), logits.data(), 0) == 0.0);
}

TEST_CASE("categorical log-likelihood: log-softmax of each row at the datum, within 1e-6 of double precision") {
  for (size_t categories : {size_t{1}, size_t{2}, size_t{16}, size_t{17}, size_t{33}, size_t{256}, size_t{300}}) {
    CAPTURE(categories);
    const size_t dims = 7;
    std::vector<float> logits(dims * categories), x(dims);
    for (size_t d = 0; d < dims; ++d) {
      x[d] = static_cast<float>((d * 5 + 3) % categories);
      for (size_t c = 0; c < categories; ++c)
        logits[d * categories + c] = d == 2 ? 4.f  // equal logits: log(1 / C)
                                            : (d == 4 ? 80.f : 0.f) + 9.f * std::sin(0.7f * static_cast<float>(c + d));
    }
    double want = 0;
    for (size_t d = 0; d < dims; ++d) {
      const float* row = logits.data() + d * categories;
      double top = row[0], sum = 0;
      for (size_t c = 1; c < categories; ++c) top = std::fmax(top, row[c]);
      for (size_t c = 0; c < categories; ++c) sum += std::exp(row[c] - top);
      want += row[static_cast<size_t>(x[d])] - (top + std::log(sum));
    }
    const double got = categorical_log_likelihood(x.data(), logits.data(), dims, categories);
    CHECK(std::fabs(got - want) <= 1e-6 * std::fmax(1.0, std::fabs(want)));
  }
}

}  // namespace
}  // namespace edgegen
