// Built with -ffp-contract=off (see runtime/CMakeLists.txt): a fused
// multiply-add would round differently and change the bits across platforms.
#include "edgegen/random.h"

#include <cmath>  // sqrt only: IEEE 754 requires it correctly rounded

namespace edgegen {

namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  *lo = static_cast<uint32_t>(product);
}

// Natural log of x in (0, 1], from exact exponent extraction plus the atanh
// series log(m) = 2 (s + s^3/3 + s^5/5 + ...), s = (m - 1) / (m + 1), with m
// in [sqrt(1/2), sqrt(2)): |s| < 0.172, so 12 terms reach double precision.
double portable_log(double x) {
  int exponent = 0;
  while (x < 0.7071067811865476) {  // exact scaling by powers of two
    x *= 2.0;
    --exponent;
  }
  double s = (x - 1.0) / (x + 1.0);
  double s2 = s * s;
  double term = s, sum = 0.0;
  for (int k = 0; k < 12; ++k) {
    sum += term / (2 * k + 1);
    term *= s2;
  }
  return 2.0 * sum + exponent * 0.6931471805599453;
}

// sin and cos of 2*pi*u for u in [0, 1): the quadrant is chosen exactly,
// then Taylor series on |angle| <= pi/4.
void portable_sincos_2pi(double u, double* sine, double* cosine) {
  double eighths = u * 8.0;
  int octant = static_cast<int>(eighths);
  // Angle measured from the nearest multiple of pi/2.
  int nearest = (octant + 1) / 2;  // 0..4: the multiple of pi/2 closest to the angle
  int quadrant = nearest % 4;
  double r = (u - nearest * 0.25) * 6.283185307179586;  // in [-pi/4, pi/4)
  double r2 = r * r;
  double s = r, c = 1.0, term_s = r, term_c = 1.0;
  for (int k = 1; k < 11; ++k) {
    term_s *= -r2 / ((2 * k) * (2 * k + 1));
    term_c *= -r2 / ((2 * k - 1) * (2 * k));
    s += term_s;
    c += term_c;
  }
  switch (quadrant) {
    case 0: *sine = s; *cosine = c; break;
    case 1: *sine = c; *cosine = -s; break;
    case 2: *sine = -s; *cosine = -c; break;
    default: *sine = -c; *cosine = s; break;
  }
}

}  // namespace

void philox4x32(uint64_t key, uint64_t counter_low, uint64_t counter_high, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(counter_low), c1 = static_cast<uint32_t>(counter_low >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_high), c3 = static_cast<uint32_t>(counter_high >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kPhiloxM0, c0, &hi0, &lo0);
    mulhilo(kPhiloxM1, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void fill_normal(uint64_t seed, uint64_t stream, uint64_t first, float* out, size_t count) {
  // Block b yields normals 4b .. 4b+3 through two Box–Muller pairs.
  for (size_t i = 0; i < count;) {
    uint64_t index = first + i;
    uint64_t block = index / 4;
    uint32_t words[4];
    philox4x32(seed, block, stream, words);
    double normals[4];
    for (int pair = 0; pair < 2; ++pair) {
      double u1 = (static_cast<double>(words[2 * pair]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
      double u2 = static_cast<double>(words[2 * pair + 1]) * (1.0 / 4294967296.0);       // [0, 1)
      double radius = std::sqrt(-2.0 * portable_log(u1));
      double sine, cosine;
      portable_sincos_2pi(u2, &sine, &cosine);
      normals[2 * pair] = radius * cosine;
      normals[2 * pair + 1] = radius * sine;
    }
    for (uint64_t k = index % 4; k < 4 && i < count; ++k, ++i) out[i] = static_cast<float>(normals[k]);
  }
}

void fill_uniform(uint64_t seed, uint64_t stream, uint64_t first, float* out, size_t count) {
  for (size_t i = 0; i < count;) {
    uint64_t index = first + i;
    uint32_t words[4];
    // A separate counter range from fill_normal's, so the two never correlate.
    philox4x32(seed, index / 4, stream ^ 0x8000000000000000ull, words);
    for (uint64_t k = index % 4; k < 4 && i < count; ++k, ++i)
      out[i] = static_cast<float>((words[k] >> 8) * (1.0 / 16777216.0));  // 24 bits: exact in float
  }
}

}  // namespace edgegen
