// Elementary functions written so that a loop calling them vectorizes:
// branch-free (selects, not branches; the simd sources build with
// -fno-trapping-math so that GCC may if-convert them), no calls into libm.
// Each is a range reduction plus a polynomial, mostly Cephes' single
// precision coefficients (S. Moshier, "Methods and Programs for
// Mathematical Functions", 1989); accuracy is stated per function and
// checked against libm in simd_kernels_test.cc over the whole float range,
// special values included.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

// Multi-versioned hot loops on x86-64 with glibc (ifunc); elsewhere the
// baseline (NEON on AArch64) is already what we want. Not under clang (the
// fuzzers' compiler), whose version 14 cannot multiversion templates.
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
#define EG_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EG_VECTOR_CLONES
#endif

namespace edgegen {
namespace simd {

inline float bits_to_float(int32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline int32_t float_to_bits(float value) {
  int32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// exp(x) by range reduction x = n ln2 + r, |r| <= ln2/2, and a degree-6
// polynomial for e^r (Cephes' expf coefficients); 2^n is built in the
// exponent bits. About 1 ulp on the normal range; saturates like expf.
inline float fast_exp(float input) {
  // NaN takes the path of 0 (no undefined float-to-int conversion) and is
  // returned as it came.
  float x = input != input ? 0.f : input;
  x = x < -87.33654f ? -87.33654f : x;
  x = x > 88.72283f ? 88.72283f : x;
  // Round to nearest by adding and removing 1.5 * 2^23 (|x log2 e| < 2^7
  // here): no call to floor, so the loop vectorizes.
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const float scale = bits_to_float(static_cast<int32_t>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23));
  return input != input ? input : p * scale;
}

inline float fast_sigmoid(float x) { return 1.f / (1.f + fast_exp(-x)); }

// tanh(x) = 1 - 2 / (e^{2x} + 1): exact at 0 and saturates cleanly.
inline float fast_tanh(float x) { return 1.f - 2.f / (fast_exp(2.f * x) + 1.f); }

// e^x - 1 without the cancellation near 0 (a Taylor polynomial there,
// error < 3e-10 absolute); elsewhere fast_exp(x) - 1.
inline float fast_expm1(float x) {
  const float taylor = x + x * x * (0.5f + x * (1.f / 6.f + x * (1.f / 24.f)));
  const bool small = x > -0.03125f && x < 0.03125f;
  return small ? taylor : fast_exp(x) - 1.f;
}

// log(x) (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), a
// degree-9 polynomial in m - 1. About 1 ulp; subnormals are scaled first;
// log(0) = -inf, log(<0) = NaN, log(inf) = inf, NaN stays NaN.
inline float fast_log(float x) {
  const bool subnormal = x < 1.17549435e-38f;
  const float scaled = subnormal ? x * 8388608.f : x;  // 2^23
  const int32_t bits = float_to_bits(scaled);
  int32_t exponent = ((bits >> 23) & 0xff) - 126 - (subnormal ? 23 : 0);
  float m = bits_to_float((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  exponent -= low ? 1 : 0;
  m = low ? m + m - 1.f : m - 1.f;
  const float e = static_cast<float>(exponent);
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += e * -2.12194440e-4f;
  y += -0.5f * z;
  float result = m + y + e * 0.693359375f;
  result = x == std::numeric_limits<float>::infinity() ? x : result;
  result = x == 0.f ? -std::numeric_limits<float>::infinity() : result;
  result = x < 0.f ? std::numeric_limits<float>::quiet_NaN() : result;
  return x != x ? x : result;
}

// log(1 + u), accurate for small u (Goldberg's trick: the rounding of 1 + u
// is divided out again).
inline float fast_log1p(float u) {
  const float w = 1.f + u;
  const float d = w - 1.f;
  return d == 0.f ? u : fast_log(w) * (u / d);
}

// sin and cos (Cephes sinf/cosf): reduction by multiples of pi/4 with a
// three-part pi/4, then the sine or cosine polynomial. About 1 ulp for
// |x| <= 8192; beyond that the reduction loses bits, and callers use libm
// (see unary() in simd_kernels.cc).
inline void reduce_quarter_pi(float x, float* r, int32_t* octant) {
  float ax = x < 0.f ? -x : x;
  // Beyond the range (and inf, NaN) the caller uses libm: reduce 0 instead,
  // so that the conversion to int stays defined.
  ax = ax <= 16384.f ? ax : 0.f;
  int32_t j = static_cast<int32_t>(ax * 1.27323954473516f);
  j = (j + 1) & ~1;
  const float y = static_cast<float>(j);
  *r = ((ax - y * 0.78515625f) - y * 2.4187564849853515625e-4f) - y * 3.77489497744594108e-8f;
  *octant = j & 7;
}

inline float sin_polynomial(float r, float z) {
  return ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
}

inline float cos_polynomial(float z) {
  return ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z - 0.5f * z + 1.f;
}

inline float fast_sin(float x) {
  float r;
  int32_t j;
  reduce_quarter_pi(x, &r, &j);
  const float z = r * r;
  const bool negate = (x < 0.f) != (j > 3);
  const int32_t quadrant = j > 3 ? j - 4 : j;
  const float y = quadrant == 2 ? cos_polynomial(z) : sin_polynomial(r, z);
  return negate ? -y : y;
}

inline float fast_cos(float x) {
  float r;
  int32_t j;
  reduce_quarter_pi(x, &r, &j);
  const float z = r * r;
  const int32_t quadrant = j > 3 ? j - 4 : j;
  const bool negate = (j > 3) != (quadrant > 1);
  const float y = quadrant == 2 ? sin_polynomial(r, z) : cos_polynomial(z);
  return negate ? -y : y;
}

// erf(x): the Taylor series below |x| = 0.5 (relative error < 1e-7), and
// Abramowitz & Stegun 7.1.26 above (absolute error < 1.5e-7).
inline float fast_erf(float x) {
  const float ax = x < 0.f ? -x : x;
  const float z = x * x;
  const float series =
      x * (1.1283791671f +
           z * (-0.3761263890f + z * (0.1128379167f + z * (-0.0268661706f + z * (0.0052239776f - z * 0.0008548327f)))));
  const float t = 1.f / (1.f + 0.3275911f * ax);
  const float poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float tail = 1.f - poly * fast_exp(-z);
  tail = x < 0.f ? -tail : tail;
  return ax < 0.5f ? series : tail;
}

}  // namespace simd
}  // namespace edgegen
