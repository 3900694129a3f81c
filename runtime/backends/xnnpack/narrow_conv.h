// Float 2-D convolutions whose output channels do not fill XNNPACK's
// 16-lane tiles (an FPN detector's 3x3 convs of 96 -> 24 channels, a stem
// of 3 -> 16 over the RGB image), run by a direct kernel on the XNNPACK
// backend's channels-last tensors (simd/narrow_conv2d.h: one lane per
// output channel and pair of input channels, windows read in place).
// Wider outputs in multiples of 64 channels run as blocks of 64, each a
// pass of the same kernel over the positions: no im2col copy (a CRNN's
// 3x3 convs of 64-256 channels, a UNet's).
//
// Memory: the packed weights, the padded bias and one row of zeros (the
// padding's input) in the persistent arena, packed at prepare, or, when the
// session streams the layer's weights, in the graph's WeightStream buffer,
// packed again just before each run; no scratch.
//
// Threads: positions in chunks of whole tiles; each output is one fixed
// chain of multiply-adds wherever its tile falls, so the bits do not
// depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

// A transposed convolution whose kernel is its stride (a DB head's 2x2
// stride-2 upsampling) is a 1x1 convolution to phases * C_out channels whose
// results are scattered into patches (simd::NarrowConvPositions): the
// sizes are then that 1x1 convolution's over the input.
struct NarrowConv : ConvSizes {
  bool transposed = false;
  int64_t phases_h = 1, phases_w = 1, patch_channels = 0, patch_w = 0;
  int64_t pair = 1, vectors = 1;   // simd::NarrowConvPositions
  int64_t block_channels = 0, blocks = 1;  // output channels computed per pass over the input
  // Input channels per part of the sums (all of them: one part). A wide
  // block's weights past kPartBytes (a UNet's 3x3 over 1280 channels: 2.9 MB)
  // do not stay in L2 while a chunk of positions reads them tile by tile:
  // the chunk runs part after part, each adding to the sums of the last.
  int64_t part_channels = 0;
  const float* packed = nullptr;   // persistent arena: [kh][kw][C_in / pair][vectors * 16]
  const float* bias = nullptr;     // persistent arena: C_out rounded up to 16
  const float* zeros = nullptr;    // persistent arena: kw * C_in zeros
  bool clamp = false;              // the fused Relu or Clip
  float out_min = 0.f, out_max = 0.f;
  // An element-wise unary op (simd::unary) applied to each chunk of
  // positions while it is in cache (one block only): the next op's
  // HardSwish fused at build time. Null: none.
  uint32_t then_opcode = 0;
  const OpAttributes* then_attributes = nullptr;  // borrowed (the next op's context)
};

// A FullyConnected layer (weights [N, K]) runs as the 1x1 convolution of
// K -> N channels over its rows, in blocks of 64 outputs.
//
// The convolutions this executor was measured faster than XNNPACK and
// packed_conv on (bench/README.md, Intel Xeon with AVX-512): groups 1,
// 2-D, a CPU with AVX-512, and output channels that leave XNNPACK's
// 16-lane tiles part empty, few input channels, or multiples of 64 over
// 64 positions or more; transposed ones whose kernel is their stride,
// without padding (see the .cc).
bool narrow_conv_wins(const OpView& v);

// Sizes, lane layout and the fused clamp; `post` gets the activation the
// kernel cannot fuse (anything but Relu and Clip).
NarrowConv narrow_conv_plan(const OpView& v, FusedActivation* post);
// Floats of packed weights, bias and zeros (persistent; placed by the caller).
size_t narrow_conv_floats(const NarrowConv& plan);
// Packs into `memory` (narrow_conv_floats of them, 64-byte aligned) and
// points the plan at it; blocks of output channels on `pool`'s threads
// (null: the calling thread). Allocates nothing: weight streaming calls it
// before each run.
void pack_narrow_conv(const OpView& v, float* memory, NarrowConv* plan, pthreadpool_t pool);
// Points the plan at weights pack_narrow_conv wrote earlier (a pre-packed
// weights file, core/prepacked_weights.h).
void point_narrow_conv_at(const float* memory, NarrowConv* plan);
// What the packed layout depends on (sizes and blocking, not the values):
// equal keys, interchangeable packings.
uint64_t narrow_conv_layout_key(const NarrowConv& plan);

// x [batch, in_h, in_w, C_in] -> y [batch, out_h, out_w, C_out].
void run_narrow_conv(const NarrowConv& plan, pthreadpool_t pool, const float* x, float* y);

}  // namespace xnnpack
}  // namespace edgegen
