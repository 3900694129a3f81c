// recurrent_step.h: the packing, the portable variant (NEON on AArch64,
// plain C++ elsewhere) and the choice of variant.
#include "backends/xnnpack/simd/recurrent_step.h"

#include <cstring>

#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "backends/xnnpack/simd/recurrent_step_kernel.h"

namespace edgegen {
namespace simd {

namespace {

#if defined(__aarch64__)
// A block is four q registers: an LSTM tile is 1 block x 4 gates x 4 = 16
// accumulators of the 32.
struct Portable {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  static constexpr int kAccumulators = 16;
  static constexpr int kProjectionAccumulators = 16;
  static V load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, V v) { vst1q_f32(p, v); }
  static V broadcast(const float* p) { return vld1q_dup_f32(p); }
  static V splat(float x) { return vdupq_n_f32(x); }
  static V add(V a, V b) { return vaddq_f32(a, b); }
  static V sub(V a, V b) { return vsubq_f32(a, b); }
  static V mul(V a, V b) { return vmulq_f32(a, b); }
  static V div(V a, V b) { return vdivq_f32(a, b); }
  static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V min(V a, V b) { return vminq_f32(a, b); }
  static V max(V a, V b) { return vmaxq_f32(a, b); }
  static V pow2(V shifted) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vreinterpretq_s32_f32(shifted), vdupq_n_s32(127)), 23));
  }
};
#else
// One float per "vector": loops over a block's 16 lanes, which the
// compiler may vectorize for the baseline (SSE2, ARMv7 NEON).
struct Portable {
  using V = float;
  static constexpr int kLanes = 1;
  static constexpr int kAccumulators = 64;
  static constexpr int kProjectionAccumulators = 64;
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V broadcast(const float* p) { return *p; }
  static V splat(float x) { return x; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V min(V a, V b) { return b < a ? b : a; }
  static V max(V a, V b) { return b > a ? b : a; }
  static V pow2(V shifted) {
    uint32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + 127u) << 23;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
};
#endif

using StepFunction = void (*)(const RecurrentStep&);
using ProjectionFunction = void (*)(const RecurrentProjection&);

StepFunction choose_step() {
  if (has_recurrent_step_avx512()) return recurrent_step_avx512;
  return has_recurrent_step_avx2() ? recurrent_step_avx2 : recurrent_step_portable;
}

ProjectionFunction choose_projection() {
  if (has_recurrent_step_avx512()) return recurrent_projection_avx512;
  return has_recurrent_step_avx2() ? recurrent_projection_avx2 : recurrent_projection_portable;
}

}  // namespace

void pack_recurrent_weights(const float* r, int64_t gates, int64_t hidden, int64_t depth, float* packed) {
  const int64_t blocks = recurrent_padded_units(hidden) / kRecurrentBlock;
  for (int64_t block = 0; block < blocks; ++block)
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t g = 0; g < gates; ++g)
        for (int64_t lane = 0; lane < kRecurrentBlock; ++lane) {
          const int64_t unit = block * kRecurrentBlock + lane;
          *packed++ = unit < hidden ? r[(g * hidden + unit) * depth + k] : 0.f;
        }
}

void recurrent_step_portable(const RecurrentStep& step) { recurrent::step<Portable>(step); }

void recurrent_projection_portable(const RecurrentProjection& projection) { recurrent::project<Portable>(projection); }

void recurrent_step(const RecurrentStep& step) {
  static const StepFunction chosen = choose_step();  // thread-safe, once
  chosen(step);
}

void recurrent_projection(const RecurrentProjection& projection) {
  static const ProjectionFunction chosen = choose_projection();
  chosen(projection);
}

}  // namespace simd
}  // namespace edgegen
