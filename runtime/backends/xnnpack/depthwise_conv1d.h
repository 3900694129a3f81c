// Depthwise 1-D convolutions (groups = channels, one filter per channel):
// the long-kernel ones of conformer and TCN blocks (Conv1d(C, C, 15,
// groups=C) in a speech encoder) ran on XNNPACK at ~1% of the fp32 peak
// (0.17 ms for 144 channels x 100 frames, 12% of a conformer layer). Here
// each output row is a sum over the taps of a weight row times an input
// row, vectorized over the channels of the channels-last tensors the
// backend's convolutions use (simd/depthwise_rows.h), rows split across the
// threads (no sum's order depends on it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"
#include "backends/xnnpack/simd/depthwise_rows.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

struct DepthwiseConv1d {
  int64_t batch = 0, out_w = 0;
  simd::DepthwiseRows rows;  // its weights and bias in the persistent arena
};

// A Conv2d this runs: [N, C, L] (or [N, C, 1, L] with a 1 x k kernel and no
// vertical padding), groups = C_in = C_out, constant weight (and bias), a
// kernel length XNNPACK has no depthwise kernel for (not 3, 4, 9, 25).
bool depthwise_conv1d(const OpView& v);

DepthwiseConv1d depthwise_conv1d_plan(const OpView& v);
// Floats of its packed weights [kernel][C] and bias [C].
size_t depthwise_conv1d_floats(const DepthwiseConv1d& plan);
void pack_depthwise_conv1d(const OpView& v, float* memory, DepthwiseConv1d* plan);

// x [batch, in_w, C] -> y [batch, out_w, C]: channels-last.
void run_depthwise_conv1d(const DepthwiseConv1d& plan, pthreadpool_t pool, const float* x, float* y);

}  // namespace xnnpack
}  // namespace edgegen
