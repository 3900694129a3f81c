// Built with -ffp-contract=off (see runtime/CMakeLists.txt): a fused
// multiply-add would round differently and change the bits across platforms.
#include "edgegen/random.h"

#include <cmath>  // sqrt only: IEEE 754 requires it correctly rounded
#include <cstring>

#include "core/vector_math.h"  // EG_VECTOR_CLONES

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

// Up to kBlocks consecutive Philox blocks and their Box-Muller normals,
// block b's four in normals[4b .. 4b + 3]. The loops run over the values
// innermost, so that the compiler vectorizes them (scoring a VAE draws
// millions of normals); every value sees the same IEEE double operations
// in the same order as one at a time, so the bits do not depend on it.
constexpr size_t kBlocks = 8;
constexpr size_t kPairs = 2 * kBlocks;

// Natural log of x in (0, 1] for n values: x = m 2^e read from its bits (x
// is normal, >= 2^-32 here) with m in [sqrt(1/2), sqrt(2)), then the atanh
// series log(m) = 2 (s + s^3/3 + s^5/5 + ...), s = (m - 1) / (m + 1):
// |s| < 0.172, so 12 terms reach double precision.
inline void portable_log(const double* x, double* out, size_t n) {
  double s[kPairs], s2[kPairs], term[kPairs], sum[kPairs], exponent[kPairs];
  for (size_t j = 0; j < n; ++j) {
    uint64_t bits;
    std::memcpy(&bits, &x[j], sizeof bits);
    // x = f 2^e with f in [0.5, 1); m = f or 2f, whichever is in range.
    const int64_t e = static_cast<int64_t>((bits >> 52) & 0x7FF) - 1022;
    const uint64_t f_bits = (bits & 0x000FFFFFFFFFFFFFull) | (uint64_t{1022} << 52);
    double f;
    std::memcpy(&f, &f_bits, sizeof f);
    const bool low = f < 0.7071067811865476;
    const double m = low ? 2.0 * f : f;
    exponent[j] = static_cast<double>(low ? e - 1 : e);
    s[j] = (m - 1.0) / (m + 1.0);
    s2[j] = s[j] * s[j];
    term[j] = s[j];
    sum[j] = 0.0;
  }
  for (int k = 0; k < 12; ++k) {
    const double divisor = 2 * k + 1;
    for (size_t j = 0; j < n; ++j) {
      sum[j] += term[j] / divisor;
      term[j] *= s2[j];
    }
  }
  for (size_t j = 0; j < n; ++j) out[j] = 2.0 * sum[j] + exponent[j] * 0.6931471805599453;
}

// sin and cos of 2*pi*u for n values of u in [0, 1): the quadrant is chosen
// exactly, then Taylor series on |angle| <= pi/4.
inline void portable_sincos_2pi(const double* u, double* sine, double* cosine, size_t n) {
  int quadrant[kPairs];
  double r2[kPairs], s[kPairs], c[kPairs], term_s[kPairs], term_c[kPairs];
  for (size_t j = 0; j < n; ++j) {
    const int octant = static_cast<int>(u[j] * 8.0);
    // Angle measured from the nearest multiple of pi/2 (0..4).
    const int nearest = (octant + 1) / 2;
    quadrant[j] = nearest % 4;
    const double r = (u[j] - nearest * 0.25) * 6.283185307179586;  // in [-pi/4, pi/4)
    r2[j] = r * r;
    s[j] = r, c[j] = 1.0, term_s[j] = r, term_c[j] = 1.0;
  }
  for (int k = 1; k < 11; ++k) {
    const double sine_divisor = (2 * k) * (2 * k + 1), cosine_divisor = (2 * k - 1) * (2 * k);
    for (size_t j = 0; j < n; ++j) {
      term_s[j] *= -r2[j] / sine_divisor;
      term_c[j] *= -r2[j] / cosine_divisor;
      s[j] += term_s[j];
      c[j] += term_c[j];
    }
  }
  for (size_t j = 0; j < n; ++j) {
    const int q = quadrant[j];
    sine[j] = q == 0 ? s[j] : q == 1 ? c[j] : q == 2 ? -s[j] : -c[j];
    cosine[j] = q == 0 ? c[j] : q == 1 ? -s[j] : q == 2 ? -c[j] : s[j];
  }
}

EG_VECTOR_CLONES void normal_blocks(uint64_t key, uint64_t first_block, uint64_t stream, size_t blocks,
                                    double* normals) {
  uint32_t c0[kBlocks], c1[kBlocks], c2[kBlocks], c3[kBlocks];
  for (size_t b = 0; b < blocks; ++b) {
    const uint64_t counter = first_block + b;
    c0[b] = static_cast<uint32_t>(counter), c1[b] = static_cast<uint32_t>(counter >> 32);
    c2[b] = static_cast<uint32_t>(stream), c3[b] = static_cast<uint32_t>(stream >> 32);
  }
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    for (size_t b = 0; b < blocks; ++b) {
      uint32_t hi0, lo0, hi1, lo1;
      mulhilo(kPhiloxM0, c0[b], &hi0, &lo0);
      mulhilo(kPhiloxM1, c2[b], &hi1, &lo1);
      const uint32_t n0 = hi1 ^ c1[b] ^ k0, n1 = lo1, n2 = hi0 ^ c3[b] ^ k1, n3 = lo0;
      c0[b] = n0, c1[b] = n1, c2[b] = n2, c3[b] = n3;
    }
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  // Pair p = 2b + q of block b: words (0, 1) for q = 0, (2, 3) for q = 1.
  const size_t pairs = 2 * blocks;
  double u1[kPairs], u2[kPairs], log_u1[kPairs], sine[kPairs], cosine[kPairs];
  for (size_t b = 0; b < blocks; ++b) {
    u1[2 * b] = (static_cast<double>(c0[b]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
    u2[2 * b] = static_cast<double>(c1[b]) * (1.0 / 4294967296.0);          // [0, 1)
    u1[2 * b + 1] = (static_cast<double>(c2[b]) + 1.0) * (1.0 / 4294967296.0);
    u2[2 * b + 1] = static_cast<double>(c3[b]) * (1.0 / 4294967296.0);
  }
  portable_log(u1, log_u1, pairs);
  portable_sincos_2pi(u2, sine, cosine, pairs);
  for (size_t p = 0; p < pairs; ++p) {
    const double radius = std::sqrt(-2.0 * log_u1[p]);
    normals[2 * p] = radius * cosine[p];
    normals[2 * p + 1] = radius * sine[p];
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
  double normals[4 * kBlocks];
  for (size_t i = 0; i < count;) {
    const uint64_t index = first + i;
    const uint64_t skip = index % 4;
    const size_t wanted = static_cast<size_t>(skip) + (count - i);  // values from the block's start
    const size_t needed = (wanted + 3) / 4;
    const size_t blocks = needed < kBlocks ? needed : kBlocks;
    normal_blocks(seed, index / 4, stream, blocks, normals);
    for (size_t k = static_cast<size_t>(skip); k < 4 * blocks && i < count; ++k, ++i)
      out[i] = static_cast<float>(normals[k]);
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
