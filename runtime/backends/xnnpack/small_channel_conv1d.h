// 1-D convolutions and transposed convolutions of few channels (4-64), as
// a neural vocoder's upsampling stages and residual stacks have them over
// thousands of samples, run by a direct kernel (simd/direct_conv1d.h) on
// the channels-last tensors the rest of the backend uses.
//
// XNNPACK's convolution goes through an indirection buffer per output and
// a GEMM whose K is kernel * C_in = 8-48 and whose N is 8-16, and its
// transposed convolution through a GEMM plus col2im (deconvolution_gemm.h);
// on the example vocoder those ran at 60-150 GFLOP/s by layer. Here a
// register tile of output positions x output channels accumulates straight
// from the input rows (bench/README.md, "Vocoder", has the per-layer times).
//
// A transposed convolution of stride s is s interleaved convolutions
// (polyphase): output o = i * s - pad + k takes the taps k = q, q + s, ...
// of its phase q = (o + pad) mod s, from inputs i0, i0 - 1, ...; each phase
// is a stride-1 convolution whose outputs are s positions apart. Nothing
// is added twice into an output (no col2im), so no output depends on the
// order in which threads finish. When the kernel is a multiple of the
// stride (HiFi-GAN's and MelGAN's 2s), every phase reads the same inputs
// i0, i0 - 1, ...: input row i0 then makes the s consecutive outputs
// i0 * s - pad .. + s - 1 at once, one stride-1 convolution with s * C_out
// output channels (contiguous channels-last), which fills wide register
// tiles even at C_out = 8; the phases are only left for the edges.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

struct SmallConv1d {
  bool transposed = false;
  int64_t batch = 0, in_w = 0, in_channels = 0, out_w = 0, out_channels = 0, padded_out = 0;
  int64_t kernel_w = 0, stride = 1, dilation = 1, pad_left = 0;
  const float* packed = nullptr;  // persistent arena: see pack_small_conv1d
  const float* bias = nullptr;    // persistent arena: padded_out floats
  // Transposed, kernel a multiple of the stride: all phases as one row of
  // stride * C_out channels (padded to wide_padded_out), and its bias.
  bool wide_rows = false;
  int64_t wide_padded_out = 0;
  const float* wide_packed = nullptr;
  const float* wide_bias = nullptr;
  float out_min = 0.f, out_max = 0.f, leaky_slope = 0.f;
  bool leaky = false;
};

// A Conv2d or ConvTranspose2d this kernel runs: 1-D ([N, C, L], or height 1
// throughout), groups 1, at most kSmallConvMaxChannels channels in and out;
// a convolution with at least 2 output channels (one output channel is
// convolution_gemm.h's direct dot product) and not a long filter bank over
// 1-4 channels (im2col's GEMM); a transposed one without dilation.
constexpr int64_t kSmallConvMaxChannels = 64;
bool small_channel_conv1d(const OpView& v);

// Sizes and the fused activation (LeakyRelu, ReLU and Clip; others are
// left in `post` to run afterwards).
SmallConv1d small_conv1d_plan(const OpView& v, FusedActivation* post);
// Floats of packed weights and bias (persistent; placed by the caller).
size_t small_conv1d_floats(const SmallConv1d& plan);
// Packs the weights into `memory`: a convolution's [kernel][C_in][padded_out];
// a transposed one's phases one after another, phase q's taps q, q + s, ...
// as [tap][C_in][padded_out]; then the bias; then, for wide rows, taps j
// as [j][C_in][q * C_out + o] (kernel index q + j * s) and the bias s times.
// Points the plan at them.
void pack_small_conv1d(const OpView& v, float* memory, SmallConv1d* plan);

// x [batch, in_w, C_in] -> y [batch, out_w, C_out], channels-last. Rows in
// fixed chunks on the worker threads (pool may be null): the same bits at
// every thread count.
void run_small_conv1d(const SmallConv1d& plan, pthreadpool_t pool, const float* x, float* y);

}  // namespace xnnpack
}  // namespace edgegen
