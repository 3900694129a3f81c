#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "edgegen/random.h"

using namespace edgegen;

TEST_CASE("philox4x32-10 matches the published known-answer vectors") {
  // Random123 kat_vectors: philox4x32_10 with counter = 0 and key = 0.
  uint32_t out[4];
  philox4x32(0, 0, 0, out);
  CHECK(out[0] == 0x6627e8d5u);
  CHECK(out[1] == 0xe169c58du);
  CHECK(out[2] == 0xbc57ac4cu);
  CHECK(out[3] == 0x9b00dbd8u);
  // counter = all ones, key = all ones.
  philox4x32(0xffffffffffffffffull, 0xffffffffffffffffull, 0xffffffffffffffffull, out);
  CHECK(out[0] == 0x408f276du);
  CHECK(out[1] == 0x41c83b0eu);
  CHECK(out[2] == 0xa20bc7c6u);
  CHECK(out[3] == 0x6d5451fdu);
}

TEST_CASE("normal values depend only on their index, not on how they are chunked") {
  std::vector<float> whole(103), pieces(103);
  fill_normal(42, 7, 0, whole.data(), whole.size());
  size_t done = 0;
  for (size_t chunk : {1, 5, 3, 16, 78}) {
    fill_normal(42, 7, done, pieces.data() + done, chunk);
    done += chunk;
  }
  REQUIRE(done == whole.size());
  CHECK(std::memcmp(whole.data(), pieces.data(), whole.size() * sizeof(float)) == 0);
}

TEST_CASE("different seeds and streams give different values") {
  float a[8], b[8], c[8];
  fill_normal(1, 0, 0, a, 8);
  fill_normal(2, 0, 0, b, 8);
  fill_normal(1, 1, 0, c, 8);
  CHECK(std::memcmp(a, b, sizeof a) != 0);
  CHECK(std::memcmp(a, c, sizeof a) != 0);
}

TEST_CASE("normal values have the moments of N(0, 1)") {
  std::vector<float> values(200000);
  fill_normal(123, 0, 0, values.data(), values.size());
  double sum = 0, sum2 = 0, sum4 = 0;
  for (float v : values) {
    REQUIRE(std::isfinite(v));
    sum += v;
    sum2 += double(v) * v;
    sum4 += double(v) * v * v * v;
  }
  double n = values.size(), mean = sum / n, var = sum2 / n - mean * mean;
  CHECK(std::fabs(mean) < 0.01);
  CHECK(std::fabs(var - 1.0) < 0.01);
  CHECK(std::fabs(sum4 / n - 3.0) < 0.06);  // kurtosis of a Gaussian
}

TEST_CASE("the portable transcendental functions agree with libm closely") {
  // The Box-Muller pair for a fixed block, recomputed with libm: any real
  // error in our series would show as a difference far above 1e-6.
  uint32_t words[4];
  philox4x32(9, 0, 3, words);
  double u1 = (words[0] + 1.0) / 4294967296.0, u2 = words[1] / 4294967296.0;
  double r = std::sqrt(-2.0 * std::log(u1));
  float z[2];
  fill_normal(9, 3, 0, z, 2);
  CHECK(z[0] == doctest::Approx(r * std::cos(2 * M_PI * u2)).epsilon(1e-6));
  CHECK(z[1] == doctest::Approx(r * std::sin(2 * M_PI * u2)).epsilon(1e-6));
}

TEST_CASE("a fixed seed gives the same bits on every platform") {
  // Golden values, identical on x86-64 and aarch64 (the cross-built tests
  // check this under qemu).
  float z[4];
  fill_normal(2024, 0, 0, z, 4);
  uint32_t bits[4];
  std::memcpy(bits, z, sizeof bits);
  CHECK(bits[0] == 3186586205u);
  CHECK(bits[1] == 1065317271u);
  CHECK(bits[2] == 1042028699u);
  CHECK(bits[3] == 1035267733u);
}

namespace {

// The normal stream as first written, one block at a time: a loop for the
// exponent, the series, a switch for the quadrant. fill_normal computes
// blocks in vectorized batches and must give these bits exactly.
double log_one_at_a_time(double x) {
  int exponent = 0;
  while (x < 0.7071067811865476) {
    x *= 2.0;
    --exponent;
  }
  double s = (x - 1.0) / (x + 1.0), s2 = s * s, term = s, sum = 0.0;
  for (int k = 0; k < 12; ++k) {
    sum += term / (2 * k + 1);
    term *= s2;
  }
  return 2.0 * sum + exponent * 0.6931471805599453;
}

void sincos_one_at_a_time(double u, double* sine, double* cosine) {
  int nearest = (static_cast<int>(u * 8.0) + 1) / 2;
  double r = (u - nearest * 0.25) * 6.283185307179586, r2 = r * r;
  double s = r, c = 1.0, term_s = r, term_c = 1.0;
  for (int k = 1; k < 11; ++k) {
    term_s *= -r2 / ((2 * k) * (2 * k + 1));
    term_c *= -r2 / ((2 * k - 1) * (2 * k));
    s += term_s;
    c += term_c;
  }
  switch (nearest % 4) {
    case 0: *sine = s; *cosine = c; break;
    case 1: *sine = c; *cosine = -s; break;
    case 2: *sine = -s; *cosine = -c; break;
    default: *sine = -c; *cosine = s; break;
  }
}

float normal_one_at_a_time(uint64_t seed, uint64_t stream, uint64_t index) {
  uint32_t words[4];
  philox4x32(seed, index / 4, stream, words);
  const int pair = static_cast<int>(index % 4) / 2;
  double u1 = (static_cast<double>(words[2 * pair]) + 1.0) * (1.0 / 4294967296.0);
  double u2 = static_cast<double>(words[2 * pair + 1]) * (1.0 / 4294967296.0);
  double radius = std::sqrt(-2.0 * log_one_at_a_time(u1)), sine, cosine;
  sincos_one_at_a_time(u2, &sine, &cosine);
  return static_cast<float>(index % 2 == 0 ? radius * cosine : radius * sine);
}

}  // namespace

TEST_CASE("normal values are the one-at-a-time Box-Muller bits, in every chunking (vectorized batches)") {
  const uint64_t seeds[] = {0, 7, 2024, 0xFFFFFFFFFFFFFFFFull};
  for (uint64_t seed : seeds) {
    CAPTURE(seed);
    const uint64_t stream = seed % 5;
    const uint64_t first = seed % 13;  // starting mid-block
    std::vector<float> values(20011);
    // Chunks of 1, 3, 37, then the rest: every offset within a block and a batch.
    size_t done = 0;
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{37}, values.size()}) {
      const size_t n = std::min(chunk, values.size() - done);
      fill_normal(seed, stream, first + done, values.data() + done, n);
      done += n;
    }
    size_t mismatches = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const float want = normal_one_at_a_time(seed, stream, first + i);
      mismatches += std::memcmp(&want, &values[i], sizeof want) != 0;
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("uniform values lie in [0, 1)") {
  std::vector<float> values(10000);
  fill_uniform(5, 0, 0, values.data(), values.size());
  double sum = 0;
  for (float v : values) {
    REQUIRE(v >= 0.f);
    REQUIRE(v < 1.f);
    sum += v;
  }
  CHECK(std::fabs(sum / values.size() - 0.5) < 0.02);
}
