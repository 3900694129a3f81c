// direct_conv1d.h: the portable variant (NEON on AArch64, plain C++
// elsewhere) and the choice of variant.
#include "backends/xnnpack/simd/direct_conv1d.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "backends/xnnpack/simd/direct_conv1d_kernel.h"

namespace edgegen {
namespace simd {

namespace {

#if defined(__aarch64__)
// 4 rows x 16 channels (16 accumulators of the 32 registers) or 8 x 8.
struct Portable {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  static V load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V broadcast(const float* p) { return vld1q_dup_f32(p); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V min(V a, V b) { return vminq_f32(a, b); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static V leaky(V x, V slope) { return vbslq_f32(vcgeq_f32(x, vdupq_n_f32(0.f)), x, vmulq_f32(x, slope)); }
};
constexpr int kWideRows = 4, kWideVecs = 4, kNarrowRows = 8, kNarrowVecs = 2;
#else
// One float per "vector": plain loops the compiler may vectorize.
struct Portable {
  using V = float;
  static constexpr int kLanes = 1;
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V broadcast(const float* p) { return *p; }
  static V fma(V a, V b, V c) { return c + a * b; }
  static V min(V a, V b) { return b < a ? b : a; }
  static V max(V a, V b) { return b > a ? b : a; }
  static V leaky(V x, V slope) { return x >= 0.f ? x : x * slope; }
};
constexpr int kWideRows = 2, kWideVecs = 16, kNarrowRows = 2, kNarrowVecs = 8;
#endif

using DirectConvFunction = void (*)(const DirectConvRows&);

DirectConvFunction choose() {
  if (has_direct_conv1d_avx512()) return direct_conv1d_rows_avx512;
  return has_direct_conv1d_avx2() ? direct_conv1d_rows_avx2 : direct_conv1d_rows_portable;
}

}  // namespace

void direct_conv1d_rows_portable(const DirectConvRows& args) {
  direct_conv::rows<Portable, kWideRows, kWideVecs, Portable, kNarrowRows, kNarrowVecs>(args);
}

// Eight partial sums per row in a fixed order, as the AVX2 variant's lanes.
void direct_dot_rows_portable(const DirectDotRows& a) {
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* x = a.x + r * a.x_step;
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = 0; j < a.count; ++j) lanes[j % 8] += x[j] * a.w[j];
    float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    sum += a.bias;
    sum = sum < a.out_min ? a.out_min : sum;
    a.y[r] = sum > a.out_max ? a.out_max : sum;
  }
}

void direct_dot_rows(const DirectDotRows& args) {
  static const auto chosen = has_direct_conv1d_avx2() ? direct_dot_rows_avx2 : direct_dot_rows_portable;
  chosen(args);
}

void direct_conv1d_rows(const DirectConvRows& args) {
  static const DirectConvFunction chosen = choose();  // thread-safe, once
  chosen(args);
}

}  // namespace simd
}  // namespace edgegen
