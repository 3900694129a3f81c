// The int8 matrix product (backends/xnnpack/simd/qgemm.h). Every variant this CPU
// can run is checked against a naive triple loop written here and against
// the plain C++ variant, for equality: the sums are exact integers and the
// requantization is the same float32 operations in every variant.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/xnnpack/simd/qgemm.h"
#include "testing/allocation_counter.h"

using namespace edgegen;
using simd::QGemmIsa;
using simd::QGemmRequantization;
using simd::QGemmWeightLayout;

namespace {

// The product to compute, with A's rows and C's rows longer than K and N
// (lda > K, ldc > N) so that strides are exercised.
struct Problem {
  size_t m = 0, k = 0, n = 0;
  size_t lda = 0, ldc = 0;
  int32_t a_zero_point = 0;
  std::vector<int8_t> a;       // [m, lda]; the values past K are garbage
  std::vector<int8_t> b;       // [K, N]
  std::vector<int32_t> bias;   // [N], or empty for none
};

enum class Values { kRandom, kMostNegative, kMostPositive };

Problem make_problem(size_t m, size_t k, size_t n, int32_t a_zero_point, bool with_bias, uint32_t seed,
                     Values values = Values::kRandom) {
  Problem p;
  p.m = m, p.k = k, p.n = n;
  p.lda = k + 3;
  p.ldc = n + 5;
  p.a_zero_point = a_zero_point;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  p.a.resize(m * p.lda);
  p.b.resize(k * n);
  for (auto& v : p.a) v = static_cast<int8_t>(byte(rng));
  for (auto& v : p.b) v = static_cast<int8_t>(byte(rng));
  if (values != Values::kRandom) {
    const int8_t extreme = values == Values::kMostNegative ? -128 : 127;
    for (size_t i = 0; i < m; ++i) std::fill(p.a.begin() + i * p.lda, p.a.begin() + i * p.lda + k, extreme);
    std::fill(p.b.begin(), p.b.end(), int8_t{-128});
  }
  if (with_bias) {
    std::uniform_int_distribution<int32_t> bias(-(1 << 20), 1 << 20);
    p.bias.resize(n);
    for (auto& v : p.bias) v = bias(rng);
  }
  return p;
}

// B as [N, K], the other layout qgemm_pack accepts.
std::vector<int8_t> transposed(const Problem& p) {
  std::vector<int8_t> nk(p.k * p.n);
  for (size_t k = 0; k < p.k; ++k)
    for (size_t n = 0; n < p.n; ++n) nk[n * p.k + k] = p.b[k * p.n + n];
  return nk;
}

// The definition: C[m, n] = sum_k (A[m, k] - a_zp) * B[k, n] + bias[n], in
// 64-bit (the tests' sums fit int32).
std::vector<int32_t> naive_int32(const Problem& p) {
  std::vector<int32_t> c(p.m * p.n);
  for (size_t m = 0; m < p.m; ++m)
    for (size_t n = 0; n < p.n; ++n) {
      int64_t sum = p.bias.empty() ? 0 : p.bias[n];
      for (size_t k = 0; k < p.k; ++k)
        sum += (int64_t{p.a[m * p.lda + k]} - p.a_zero_point) * int64_t{p.b[k * p.n + n]};
      REQUIRE(sum == static_cast<int32_t>(sum));
      c[m * p.n + n] = static_cast<int32_t>(sum);
    }
  return c;
}

// The requantization as the header states it, written with the C library.
int8_t naive_requantize(int32_t acc, float scale, const QGemmRequantization& r) {
  float v = static_cast<float>(acc) * scale;
  if (v < 0.f) v *= r.negative_slope;  // a fused leaky ReLU (1: none)
  v = std::min(std::max(v, static_cast<float>(r.output_min - r.zero_point)),
               static_cast<float>(r.output_max - r.zero_point));
  return static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + r.zero_point);
}

// 64-byte aligned bytes.
class Aligned {
 public:
  explicit Aligned(size_t bytes) : storage_(bytes + 64, 0xCD) {
    const auto address = reinterpret_cast<uintptr_t>(storage_.data());
    data_ = storage_.data() + ((64 - address % 64) % 64);
  }
  uint8_t* data() { return data_; }

 private:
  std::vector<uint8_t> storage_;
  uint8_t* data_;  // into storage_
};

// Weights packed for one variant, with a scratch for one thread.
struct Packed {
  Packed(const Problem& p, QGemmIsa isa, QGemmWeightLayout layout = QGemmWeightLayout::kKN)
      : weights(simd::qgemm_packed_bytes(p.k, p.n, isa)), scratch(simd::qgemm_scratch_bytes(p.k, isa)) {
    const std::vector<int8_t> nk = layout == QGemmWeightLayout::kNK ? transposed(p) : std::vector<int8_t>{};
    simd::qgemm_pack(layout == QGemmWeightLayout::kNK ? nk.data() : p.b.data(), layout, p.k, p.n,
                     p.bias.empty() ? nullptr : p.bias.data(), p.a_zero_point, weights.data(), isa);
  }
  Aligned weights;
  Aligned scratch;
};

// Tile boundaries: [0, size) cut at `cuts` (those inside the range).
std::vector<size_t> boundaries(size_t size, std::vector<size_t> cuts) {
  std::vector<size_t> result = {0};
  for (size_t cut : cuts)
    if (cut > result.back() && cut < size) result.push_back(cut);
  result.push_back(size);
  return result;
}

constexpr int32_t kSentinel32 = 0x5A5A5A5A;
constexpr int8_t kSentinel8 = 0x5A;

// Runs every tile of the grid; C is [m, ldc] filled with a sentinel first.
// Returns C's [m, n] part and checks that nothing past column n was written.
std::vector<int32_t> run_int32(const Problem& p, Packed& packed, const std::vector<size_t>& m_cuts = {},
                               const std::vector<size_t>& n_cuts = {}) {
  std::vector<int32_t> c(p.m * p.ldc, kSentinel32);
  const auto ms = boundaries(p.m, m_cuts), ns = boundaries(p.n, n_cuts);
  for (size_t i = 0; i + 1 < ms.size(); ++i)
    for (size_t j = 0; j + 1 < ns.size(); ++j)
      simd::qgemm_int32(packed.weights.data(), p.a.data(), p.lda, ms[i], ms[i + 1], ns[j], ns[j + 1], c.data(),
                        p.ldc, packed.scratch.data());
  std::vector<int32_t> result(p.m * p.n);
  for (size_t m = 0; m < p.m; ++m) {
    std::copy_n(c.begin() + m * p.ldc, p.n, result.begin() + m * p.n);
    for (size_t n = p.n; n < p.ldc; ++n) REQUIRE(c[m * p.ldc + n] == kSentinel32);
  }
  return result;
}

std::vector<int8_t> run_int8(const Problem& p, Packed& packed, const QGemmRequantization& r,
                             const std::vector<size_t>& m_cuts = {}, const std::vector<size_t>& n_cuts = {}) {
  std::vector<int8_t> c(p.m * p.ldc, kSentinel8);
  const auto ms = boundaries(p.m, m_cuts), ns = boundaries(p.n, n_cuts);
  for (size_t i = 0; i + 1 < ms.size(); ++i)
    for (size_t j = 0; j + 1 < ns.size(); ++j)
      simd::qgemm_int8(packed.weights.data(), p.a.data(), p.lda, ms[i], ms[i + 1], ns[j], ns[j + 1], r, c.data(),
                       p.ldc, packed.scratch.data());
  std::vector<int8_t> result(p.m * p.n);
  for (size_t m = 0; m < p.m; ++m) {
    std::copy_n(c.begin() + m * p.ldc, p.n, result.begin() + m * p.n);
    for (size_t n = p.n; n < p.ldc; ++n) REQUIRE(c[m * p.ldc + n] == kSentinel8);
  }
  return result;
}

// Per-column scales that put a few columns' outputs in range and push the
// others past both ends, plus the exact scales 1, 1/2 and 1/4, whose
// products land on halves: ties, which must round to even.
std::vector<float> make_scales(const Problem& p, const std::vector<int32_t>& acc, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> factor(0.2f, 4.f);
  std::vector<float> scales(p.n);
  for (size_t n = 0; n < p.n; ++n) {
    int64_t largest = 1;
    for (size_t m = 0; m < p.m; ++m) largest = std::max<int64_t>(largest, std::abs(int64_t{acc[m * p.n + n]}));
    switch (n % 5) {
      case 0: scales[n] = 1.f; break;
      case 1: scales[n] = 0.5f; break;
      case 2: scales[n] = 0.25f; break;
      default: scales[n] = factor(rng) * 127.f / static_cast<float>(largest);
    }
  }
  return scales;
}

std::vector<QGemmIsa> variants() {
  std::vector<QGemmIsa> result;
  for (int i = 0; i < simd::kQGemmIsaCount; ++i)
    if (simd::qgemm_isa_available(static_cast<QGemmIsa>(i))) result.push_back(static_cast<QGemmIsa>(i));
  return result;
}

std::string describe(const Problem& p, QGemmIsa isa) {
  return std::string(simd::qgemm_isa_name(isa)) + " M=" + std::to_string(p.m) + " K=" + std::to_string(p.k) +
         " N=" + std::to_string(p.n) + " a_zp=" + std::to_string(p.a_zero_point) +
         (p.bias.empty() ? " no bias" : " bias");
}

// Checks one problem on every variant: int32 output against the naive sums
// and the plain C++ variant, for both weight layouts; int8 output against
// the naive requantization and plain C++, for a plain range and a fused
// ReLU (qmin = the output zero point).
void check_problem(const Problem& p, uint32_t seed, const std::vector<size_t>& m_cuts = {},
                   const std::vector<size_t>& n_cuts = {}) {
  const std::vector<int32_t> want = naive_int32(p);
  const std::vector<float> scales = make_scales(p, want, seed);
  QGemmRequantization full;
  full.scale = scales.data();
  full.zero_point = -7;
  QGemmRequantization relu = full;
  relu.zero_point = -128 + 3;
  relu.output_min = relu.zero_point;
  relu.output_max = 100;

  Packed scalar(p, QGemmIsa::kScalar);
  const std::vector<int32_t> scalar_int32 = run_int32(p, scalar);
  REQUIRE(scalar_int32 == want);
  for (const QGemmRequantization& r : {full, relu}) {
    const std::vector<int8_t> scalar_int8 = run_int8(p, scalar, r);
    for (size_t i = 0; i < want.size(); ++i)
      REQUIRE(int{scalar_int8[i]} == int{naive_requantize(want[i], scales[i % p.n], r)});
  }

  for (QGemmIsa isa : variants()) {
    INFO(describe(p, isa));
    for (QGemmWeightLayout layout : {QGemmWeightLayout::kKN, QGemmWeightLayout::kNK}) {
      Packed packed(p, isa, layout);
      CHECK(simd::qgemm_packed_isa(packed.weights.data()) == isa);
      CHECK(run_int32(p, packed, m_cuts, n_cuts) == scalar_int32);
      for (const QGemmRequantization& r : {full, relu})
        CHECK(run_int8(p, packed, r, m_cuts, n_cuts) == run_int8(p, scalar, r));
    }
  }
}

}  // namespace

TEST_CASE("qgemm: the plain C++ variant runs everywhere and the best variant is one the CPU has") {
  CHECK(simd::qgemm_isa_available(QGemmIsa::kScalar));
  CHECK(simd::qgemm_isa_available(simd::qgemm_best_isa()));
  std::string names;
  for (QGemmIsa isa : variants()) names += std::string(" ") + simd::qgemm_isa_name(isa);
  const std::string best = simd::qgemm_isa_name(simd::qgemm_best_isa());
  MESSAGE("qgemm variants on this CPU:" << names << "; best: " << best);
#if defined(__aarch64__)
  CHECK(simd::qgemm_isa_available(QGemmIsa::kNeon));
#elif defined(__arm__)
  // 32-bit ARM (armhf, Raspberry Pi OS): no dot product in ARMv7, and the
  // NEON kernel uses AArch64-only instructions, so the plain C++ variant
  // runs, whatever the CPU (qemu-arm's "max" reports the dot product).
  CHECK(simd::qgemm_best_isa() == QGemmIsa::kScalar);
  CHECK_FALSE(simd::qgemm_isa_available(QGemmIsa::kNeonDot));
  CHECK_FALSE(simd::qgemm_isa_available(QGemmIsa::kNeon));
#endif
}

TEST_CASE("qgemm: a variant this CPU lacks packs and runs as plain C++") {
  for (int i = 0; i < simd::kQGemmIsaCount; ++i) {
    const auto isa = static_cast<QGemmIsa>(i);
    if (simd::qgemm_isa_available(isa)) continue;
    const Problem p = make_problem(3, 5, 7, 2, true, 1);
    Packed packed(p, isa);
    CHECK(simd::qgemm_packed_isa(packed.weights.data()) == QGemmIsa::kScalar);
    CHECK(simd::qgemm_scratch_bytes(p.k, isa) == 0);
    CHECK(run_int32(p, packed) == naive_int32(p));
  }
}

TEST_CASE("qgemm: kAuto packs the best variant, or for few columns one of narrower blocks") {
  const QGemmIsa best = simd::qgemm_best_isa();
  for (size_t n : {1, 3, 8, 12, 13, 16, 17, 32, 33, 48, 64, 80, 200}) {
    const Problem p = make_problem(5, 37, n, -1, true, 70);
    Packed packed(p, QGemmIsa::kAuto);
    const QGemmIsa isa = simd::qgemm_packed_isa(packed.weights.data());
    INFO("N=", n, " packed for ", std::string(simd::qgemm_isa_name(isa)));
    QGemmIsa want = best;
    // The narrow and 16-, 32-column variants are available wherever kAvx512Vnni is.
    if (best == QGemmIsa::kAvx512Vnni && n <= simd::kQGemmNarrowMaxN)
      want = QGemmIsa::kAvx512VnniNarrow;
    else if (best == QGemmIsa::kAvx512Vnni && n <= 16)
      want = QGemmIsa::kAvx512Vnni16;
    else if (best == QGemmIsa::kAvx512Vnni && (n <= 32 || n == 80 || n == 200))  // 96 columns, not 128; 224, not 256
      want = QGemmIsa::kAvx512Vnni32;
    CHECK(isa == want);
    CHECK(simd::qgemm_packed_bytes(p.k, p.n, QGemmIsa::kAuto) == simd::qgemm_packed_bytes(p.k, p.n, isa));
    CHECK(simd::qgemm_scratch_bytes(p.k, QGemmIsa::kAuto) >= simd::qgemm_scratch_bytes(p.k, isa));
    CHECK(run_int32(p, packed) == naive_int32(p));
  }
}

TEST_CASE("qgemm: small and odd shapes equal the naive product, every variant and zero point") {
  // K not a multiple of 4 (or 2), N not a multiple of any block, M not a
  // multiple of any panel.
  const size_t shapes[][3] = {{1, 1, 1}, {1, 3, 1}, {2, 5, 3},  {1, 4, 16}, {3, 7, 17}, {5, 8, 31},
                              {6, 9, 64}, {7, 13, 65}, {33, 3, 17}, {33, 17, 33}, {12, 36, 130}};
  uint32_t seed = 10;
  for (const auto& shape : shapes)
    for (int32_t a_zero_point : {-128, 0, 127})
      for (bool with_bias : {false, true}) {
        const Problem p = make_problem(shape[0], shape[1], shape[2], a_zero_point, with_bias, ++seed);
        check_problem(p, seed);
      }
}

TEST_CASE("qgemm: decoder-sized products equal the naive product") {
  check_problem(make_problem(33, 576, 64, -3, true, 100), 100);
  check_problem(make_problem(13, 4608, 67, 127, true, 101), 101);
  check_problem(make_problem(9, 1155, 200, -128, false, 102), 102);
}

TEST_CASE("qgemm: extreme values: -128 weights against -128 or 127 activations, K = 4608") {
  // The largest sums: (127 - -128) * -128 * 4608 = -150405120 and
  // (-128 - 127) * -128 * 4608 = 150405120, which saturate every int8 output.
  for (int32_t a_zero_point : {-128, 127})
    for (Values values : {Values::kMostNegative, Values::kMostPositive}) {
      const Problem p = make_problem(7, 4608, 70, a_zero_point, false, 7, values);
      check_problem(p, 7);
    }
}

TEST_CASE("qgemm: saturation at both ends of the int8 range, and at a fused ReLU/Clip") {
  const Problem p = make_problem(9, 40, 19, 0, true, 33);
  const std::vector<int32_t> acc = naive_int32(p);
  std::vector<float> scales(p.n, 1.f);  // |acc| is in the hundreds: most outputs saturate
  for (const auto& bounds : {std::pair<int, int>{-128, 127}, {0, 127}, {-20, 6}}) {
    QGemmRequantization r;
    r.scale = scales.data();
    r.zero_point = 5;
    r.output_min = bounds.first;
    r.output_max = bounds.second;
    size_t at_min = 0, at_max = 0;
    for (QGemmIsa isa : variants()) {
      INFO(simd::qgemm_isa_name(isa), " qmin=", r.output_min, " qmax=", r.output_max);
      Packed packed(p, isa);
      const std::vector<int8_t> got = run_int8(p, packed, r);
      at_min = at_max = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        REQUIRE(int{got[i]} == int{naive_requantize(acc[i], scales[i % p.n], r)});
        at_min += got[i] == r.output_min;
        at_max += got[i] == r.output_max;
      }
    }
    // Both ends are reached, so the clamp is really tested.
    CHECK(at_min > 0);
    CHECK(at_max > 0);
  }
}

TEST_CASE("qgemm: a fused leaky ReLU scales the negative outputs, every variant, wide and narrow N") {
  for (size_t n : {size_t{3}, size_t{19}, size_t{70}}) {
    const Problem p = make_problem(21, 67, n, -7, true, 40 + static_cast<uint32_t>(n));
    const std::vector<int32_t> acc = naive_int32(p);
    std::vector<float> scales(p.n);
    for (size_t i = 0; i < p.n; ++i) scales[i] = 1.f / 4096.f * (1.f + 0.1f * static_cast<float>(i % 5));
    for (float slope : {0.2f, 0.01f, 0.f}) {
      QGemmRequantization r;
      r.scale = scales.data();
      r.zero_point = -3;
      r.negative_slope = slope;
      size_t negative = 0;
      for (QGemmIsa isa : variants()) {
        INFO(simd::qgemm_isa_name(isa), " N=", p.n, " slope=", slope);
        Packed packed(p, isa);
        const std::vector<int8_t> got = run_int8(p, packed, r);
        negative = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          REQUIRE(int{got[i]} == int{naive_requantize(acc[i], scales[i % p.n], r)});
          negative += acc[i] < -4096 * 8;
        }
      }
      CHECK(negative > 0);  // outputs that the slope really changed
    }
  }
}

TEST_CASE("qgemm: tiles that split M and N compute the same, and write only their tile") {
  // Cuts inside the variants' panels and blocks (5, 17, 30) and on them (16, 64).
  const Problem p = make_problem(33, 21, 150, -5, true, 5);
  check_problem(p, 5, {5, 12, 16, 30}, {7, 16, 17, 64, 100, 128, 149});
  for (QGemmIsa isa : variants()) {
    INFO(simd::qgemm_isa_name(isa));
    Packed packed(p, isa);
    CHECK(simd::qgemm_n_block(packed.weights.data()) >= 1);
    // One tile in the middle: everything around it keeps the sentinel.
    std::vector<int32_t> c(p.m * p.ldc, kSentinel32);
    simd::qgemm_int32(packed.weights.data(), p.a.data(), p.lda, 4, 11, 9, 70, c.data(), p.ldc,
                      packed.scratch.data());
    const std::vector<int32_t> want = naive_int32(p);
    for (size_t m = 0; m < p.m; ++m)
      for (size_t n = 0; n < p.ldc; ++n) {
        const bool inside = m >= 4 && m < 11 && n >= 9 && n < 70;
        REQUIRE(c[m * p.ldc + n] == (inside ? want[m * p.n + n] : kSentinel32));
      }
    // Empty tiles write nothing.
    simd::qgemm_int32(packed.weights.data(), p.a.data(), p.lda, 3, 3, 0, p.n, c.data(), p.ldc,
                      packed.scratch.data());
    simd::qgemm_int32(packed.weights.data(), p.a.data(), p.lda, 0, p.m, 8, 8, c.data(), p.ldc,
                      packed.scratch.data());
    CHECK(c[0] == kSentinel32);
  }
}

TEST_CASE("qgemm: the narrow variant (N <= 12) equals the plain C++ one bit for bit") {
  // Every N it is picked for, M around its 16-row panel, K around its 64-k
  // chunks (odd, not a multiple of 4), and both weight layouts, zero points
  // at both ends, with and without bias, int32 and int8 output (a plain
  // range and a fused ReLU) -- check_problem() runs every variant.
  const size_t ms[] = {1, 15, 16, 17, 47};
  const size_t ks[] = {1, 3, 63, 64, 65, 131, 289};
  uint32_t seed = 500;
  for (size_t n = 1; n <= simd::kQGemmNarrowMaxN; ++n)
    for (size_t m : ms)
      for (size_t k : ks) {
        ++seed;
        const int32_t a_zero_point = seed % 3 == 0 ? -128 : seed % 3 == 1 ? 127 : -9;
        const Problem p = make_problem(m, k, n, a_zero_point, seed % 2 == 0, seed);
        check_problem(p, seed);
      }
  // Tiles that split M inside and on the panel's rows, and N column by column,
  // as threads would.
  for (size_t n : {1, 2, 3, 7, 8, 12}) {
    const Problem p = make_problem(53, 77, n, 5, true, 600 + static_cast<uint32_t>(n));
    check_problem(p, 600, {3, 16, 19, 32, 40}, {1, 2, 5});
  }
  // The largest sums, which saturate every int8 output.
  for (Values values : {Values::kMostNegative, Values::kMostPositive}) {
    const Problem p = make_problem(19, 4608, 3, values == Values::kMostNegative ? 127 : -128, false, 8, values);
    check_problem(p, 8);
  }
}

TEST_CASE("qgemm: the narrow variant's output rows one apart (ldc = N = 1) and a fused Clip") {
  // An image's last layer writes its one channel contiguously; the tile
  // boundaries must not spill past it.
  Problem p = make_problem(37, 100, 1, -3, true, 77);
  p.ldc = 1;
  const std::vector<int32_t> want = naive_int32(p);
  std::vector<float> scales = {0.003f};
  QGemmRequantization clip;
  clip.scale = scales.data();
  clip.zero_point = 10;
  clip.output_min = -20;
  clip.output_max = 30;
  Packed scalar(p, QGemmIsa::kScalar);
  for (QGemmIsa isa : variants()) {
    INFO(simd::qgemm_isa_name(isa));
    Packed packed(p, isa);
    CHECK(run_int32(p, packed, {5, 16, 20}) == want);
    CHECK(run_int8(p, packed, clip, {5, 16, 20}) == run_int8(p, scalar, clip));
    std::vector<int8_t> c(p.m + 1, kSentinel8);
    simd::qgemm_int8(packed.weights.data(), p.a.data(), p.lda, 2, 21, 0, 1, clip, c.data(), 1,
                     packed.scratch.data());
    for (size_t m = 0; m <= p.m; ++m)
      if (m < 2 || m >= 21) REQUIRE(c[m] == kSentinel8);
  }
}

TEST_CASE("qgemm: rows read in runs (a 2-D window in place) equal the same rows copied together") {
  // Each row of A is `runs` pieces of K / runs bytes, `stride` apart, with
  // other bytes between them, as a convolution's window in a padded image;
  // the contiguous copy of those rows is the reference. Runs of 64 bytes,
  // of an odd length, longer than 64; overlapping rows (lda < K). And the
  // runs read in place (QGemmRowRuns::in_place) where a variant can.
  struct Case {
    size_t m, runs, run_bytes, n, lda, stride;
  };
  const Case cases[] = {{37, 2, 64, 3, 32, 200},  {16, 2, 64, 1, 64, 128},  {33, 3, 20, 16, 8, 70},
                        {7, 2, 96, 32, 96, 300},  {21, 4, 16, 70, 16, 40},  {5, 5, 13, 12, 13, 13},
                        {50, 3, 130, 33, 24, 400}};
  uint32_t seed = 900;
  int in_place_checked = 0;
  for (const Case& c : cases) {
    const size_t k = c.runs * c.run_bytes;
    Problem p = make_problem(c.m, k, c.n, -3, true, ++seed);
    // The runs' storage: random bytes, rows at lda, runs at stride.
    const size_t span = (c.m - 1) * c.lda + (c.runs - 1) * c.stride + c.run_bytes;
    std::vector<int8_t> image(span);
    std::mt19937 rng(seed);
    for (auto& v : image) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
    for (size_t m = 0; m < c.m; ++m)
      for (size_t r = 0; r < c.runs; ++r)
        std::copy_n(image.begin() + m * c.lda + r * c.stride, c.run_bytes, p.a.begin() + m * p.lda + r * c.run_bytes);
    const std::vector<int32_t> want = naive_int32(p);
    const std::vector<float> scales = make_scales(p, want, seed);
    QGemmRequantization requantization;
    requantization.scale = scales.data();
    requantization.zero_point = 5;
    requantization.negative_slope = 0.25f;
    for (QGemmIsa isa : variants()) {
      Packed packed(p, isa);
      if (!simd::qgemm_reads_row_runs(packed.weights.data())) continue;
      INFO(describe(p, isa), " runs=", c.runs, " lda=", c.lda, " stride=", c.stride);
      const std::vector<int8_t> copied = run_int8(p, packed, requantization);
      std::vector<int8_t> in_place(c.m * c.n, kSentinel8);
      const simd::QGemmRowRuns runs{c.runs, c.stride};
      // Two tiles of rows, as two threads would run them.
      simd::qgemm_int8_runs(packed.weights.data(), image.data(), c.lda, runs, 0, c.m / 2, 0, c.n, requantization,
                            in_place.data(), c.n, packed.scratch.data());
      simd::qgemm_int8_runs(packed.weights.data(), image.data(), c.lda, runs, c.m / 2, c.m, 0, c.n, requantization,
                            in_place.data(), c.n, packed.scratch.data());
      CHECK(in_place == copied);
      // The same runs read where they are (no panel) where the variant can,
      // stored +128 for the variants that want unsigned bytes.
      if (!simd::qgemm_reads_runs_in_place(packed.weights.data(), c.runs)) continue;
      std::vector<int8_t> stored(image);
      if (simd::qgemm_in_place_unsigned(packed.weights.data()))
        for (int8_t& v : stored) v = static_cast<int8_t>(static_cast<uint8_t>(v) ^ 0x80);
      std::vector<int8_t> read_in_place(c.m * c.n, kSentinel8);
      const simd::QGemmRowRuns in_place_runs{c.runs, c.stride, true};
      simd::qgemm_int8_runs(packed.weights.data(), stored.data(), c.lda, in_place_runs, 0, c.m / 2, 0, c.n,
                            requantization, read_in_place.data(), c.n, packed.scratch.data());
      simd::qgemm_int8_runs(packed.weights.data(), stored.data(), c.lda, in_place_runs, c.m / 2, c.m, 0, c.n,
                            requantization, read_in_place.data(), c.n, packed.scratch.data());
      CHECK(read_in_place == copied);
      ++in_place_checked;
    }
  }
  // Runs of whole k groups were read in place by the VNNI / NEON variants the CPU has.
  if (simd::qgemm_isa_available(QGemmIsa::kAvx512Vnni) || simd::qgemm_isa_available(QGemmIsa::kNeon))
    CHECK(in_place_checked >= 5);
  // The plain C++ variant and, where the CPU has them, the AVX512-VNNI ones read runs.
  const Problem p = make_problem(2, 8, 3, 0, false, 1);
  CHECK(simd::qgemm_reads_row_runs(Packed(p, QGemmIsa::kScalar).weights.data()));
}

TEST_CASE("qgemm: runs allocate nothing") {
  const Problem p = make_problem(20, 100, 40, 1, true, 9);
  std::vector<float> scales(p.n, 0.01f);
  QGemmRequantization r;
  r.scale = scales.data();
  std::vector<int32_t> c32(p.m * p.ldc);
  std::vector<int8_t> c8(p.m * p.ldc);
  for (QGemmIsa isa : variants()) {
    Packed packed(p, isa);
    testing::AllocationScope scope;
    simd::qgemm_int32(packed.weights.data(), p.a.data(), p.lda, 0, p.m, 0, p.n, c32.data(), p.ldc,
                      packed.scratch.data());
    simd::qgemm_int8(packed.weights.data(), p.a.data(), p.lda, 0, p.m, 0, p.n, r, c8.data(), p.ldc,
                     packed.scratch.data());
    CHECK(scope.count() == 0);
  }
}
