// Depthwise int8 2-D convolutions (groups = channels, one filter per
// channel): a MobileNet block's 3x3 (or 5x5) depthwise layer between two
// int8 pointwise convolutions. The integer GEMM takes groups of 1 only, so
// these ran on the reference kernel at ~2% of the machine's peak (int8
// mobilenet_fpn_detector 1.6x slower than its float32 form). Here each
// output pixel's channels accumulate (x - x_zp) * w over the taps in int32,
// vectorized over the channels of the channels-last image, and requantize
// per channel with the reference kernel's float operations (the same bits);
// output rows are split across the threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

struct DepthwiseInt8 {
  ConvSizes sizes;
  int32_t x_zero_point = 0;
  // Per channel, in the persistent arena: weights [taps][C], bias [C]
  // (zeros without one), requantization scale x_s * w_s[c] / y_s.
  const int8_t* weights = nullptr;
  const int32_t* bias = nullptr;
  const float* scales = nullptr;
  // The output step (kernels/quantization.h, Requantize): a fused leaky
  // ReLU's slope (1: none), the clamp less the zero point, the zero point.
  float negative_slope = 1.f, low = -128.f, high = 127.f;
  int32_t zero_point = 0;
};

// A Conv2d this runs: int8 image in and out (per tensor), groups = C_in =
// C_out, constant symmetric int8 weight [C, 1, kh, kw] (per tensor or per
// channel), constant int32 bias or none, no activation or one the int8
// requantization applies (ReLU, Clip, leaky ReLU).
bool depthwise_int8(const OpView& v);

// Bytes of persistent arena its weights, bias and scales take.
size_t depthwise_int8_bytes(const OpView& v);

// Fills `memory` (depthwise_int8_bytes, 64-byte aligned) and the plan from
// the op's tensors as bound for running (`context`).
Status place_depthwise_int8(const OpView& v, const KernelContext& context, uint8_t* memory, DepthwiseInt8* plan);

// x [N, H, W, C] -> y [N, OH, OW, C]: channels-last.
void run_depthwise_int8(const DepthwiseInt8& plan, pthreadpool_t pool, const int8_t* x, int8_t* y);

}  // namespace xnnpack
}  // namespace edgegen
