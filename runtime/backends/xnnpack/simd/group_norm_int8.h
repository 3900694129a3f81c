// GroupNorm of an int8 image into an int8 image, with its activation: the
// norm between two int8 convolutions of a decoder, in one pass each for the
// statistics and the output instead of dequantize, norm, activation and
// quantize (kernels/quantized_group_norm.h has the arithmetic, which the
// reference kernel shares: the same bits, SiLU within one step).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/quantized_group_norm.h"
#include "ops/kernel.h"

namespace edgegen {
namespace simd {

// The activations fused here: none, ReLU and Clip (the output clamp) and
// SiLU. Others stay with the reference kernel.
bool has_group_norm_int8(const FusedActivation& act);

struct GroupNormInt8 {
  size_t batch = 0, channels = 0, spatial = 0, groups = 0;
  const float* gamma = nullptr;
  const float* beta = nullptr;
  float x_scale = 1.f;
  float epsilon = 0.f;
  QuantizedGroupNormOutput output;
  FusedActivation activation;
  bool avx512 = true;  // where the CPU has it; false: the portable loops (tests)
};

// Bytes of scratch either layout needs.
size_t group_norm_int8_scratch_bytes(size_t channels);

// x and y [batch, spatial, channels] (channels-last) or [batch, channels,
// spatial]; in == out allowed. `scratch` is 8-byte aligned.
void group_norm_int8_nhwc(const GroupNormInt8& g, const int8_t* in, int8_t* out, void* scratch);
void group_norm_int8_nchw(const GroupNormInt8& g, const int8_t* in, int8_t* out, void* scratch);

}  // namespace simd
}  // namespace edgegen
