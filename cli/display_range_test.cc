#include "display_range.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace edgegen::cli {

TEST_CASE("display range: a flow's declared preprocessing fixes the range, whatever it sampled") {
  std::vector<float> samples = {-0.6f, 3.f, 17.9f};
  DisplayRange digits = flow_display_range(17.f, 0.05f, samples.data(), samples.size());
  CHECK(digits.low == 0.f);
  CHECK(digits.high == 17.f);
  CHECK(digits.origin.find("dequantize_scale") != std::string::npos);
  DisplayRange scale_only = flow_display_range(255.f, -1.f, samples.data(), samples.size());
  CHECK(scale_only.high == 255.f);
  DisplayRange logit_only = flow_display_range(0.f, 0.05f, samples.data(), samples.size());
  CHECK(logit_only.low == 0.f);
  CHECK(logit_only.high == 1.f);
  DisplayRange none = flow_display_range(0.f, -1.f, samples.data(), samples.size());  // tabular: no declared range
  CHECK(none.low == -0.6f);
  CHECK(none.high == 17.9f);
  CHECK(none.origin.find("min..max") != std::string::npos);
}

TEST_CASE("display range: autoregressive bernoulli [0, 1], categorical [0, K - 1], gaussian observed") {
  std::vector<float> samples = {2.f, -3.f, 5.f};
  DisplayRange bernoulli = autoregressive_display_range(ArKind::kBernoulli, 0, samples.data(), samples.size());
  CHECK(bernoulli.low == 0.f);
  CHECK(bernoulli.high == 1.f);
  DisplayRange categorical = autoregressive_display_range(ArKind::kCategorical, 17, samples.data(), samples.size());
  CHECK(categorical.low == 0.f);
  CHECK(categorical.high == 16.f);
  CHECK(categorical.origin == "categories 0..16");
  DisplayRange one = autoregressive_display_range(ArKind::kCategorical, 1, samples.data(), samples.size());
  CHECK(one.high > one.low);
  DisplayRange gaussian = autoregressive_display_range(ArKind::kGaussian, 0, samples.data(), samples.size());
  CHECK(gaussian.low == -3.f);
  CHECK(gaussian.high == 5.f);
}

TEST_CASE("display range: observed ranges skip non-finite values and never collapse") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> mixed = {nan, 1.f, -inf, 4.f, inf};
  DisplayRange range = observed_display_range(mixed.data(), mixed.size());
  CHECK(range.low == 1.f);
  CHECK(range.high == 4.f);
  std::vector<float> constant = {2.f, 2.f};
  range = observed_display_range(constant.data(), constant.size());
  CHECK(range.low == 1.5f);
  CHECK(range.high == 2.5f);
  std::vector<float> huge = {1e30f};
  range = observed_display_range(huge.data(), huge.size());
  CHECK(range.high > range.low);
  std::vector<float> nothing = {nan, inf};
  range = observed_display_range(nothing.data(), nothing.size());
  CHECK(range.low == 0.f);
  CHECK(range.high == 1.f);
  range = observed_display_range(nullptr, 0);
  CHECK(range.high > range.low);
}

}  // namespace edgegen::cli
