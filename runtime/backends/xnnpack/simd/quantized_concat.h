// Concat of int8 tensors along the channel axis into an int8 tensor: a
// UNet's skip connection beside its upsampled path. Each input is copied,
// or requantized to the output's scale where its own differs
// (kernels/quantized_add.h: the reference kernel's bits), read in the layout
// it was written in and written in the output's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/quantized_add.h"

namespace edgegen {
namespace simd {

struct QuantizedConcatInput {
  const int8_t* data = nullptr;
  size_t channels = 0;
  bool nhwc = false;
  bool copy = true;         // same scale and zero point as the output
  QuantizedAdd requantize;  // otherwise
};

// y [batch, channels, pixels] (or [batch, pixels, channels] when y_nhwc) from
// `count` inputs [batch, channels_i, pixels] whose channels sum to y's.
void quantized_concat(const QuantizedConcatInput* inputs, size_t count, int8_t* y, size_t batch, size_t channels,
                      size_t pixels, bool y_nhwc);

}  // namespace simd
}  // namespace edgegen
