// A float 2-D convolution (groups 1) as im2col in bands + the packed,
// register-tiled product of simd/recurrent_step.h (recurrent_projection)
// on the XNNPACK backend, for the shapes where XNNPACK's 2022 f32 kernels
// are slow: many output channels over long windows (a CRNN's 3x3 convs of
// 128-256 channels on a short, wide image).
//
// Why it is faster there: XNNPACK's GEMM streams every column panel of the
// weights once per 7 output rows, so a 3x3x256 -> 256 conv (2.4 MB of
// weights) over 160 positions reads its weights from L2/L3 23 times.
// recurrent_projection runs a block of 64 output channels over every row of
// the band before the next block: the block's weights stay in L2.
//
// Layout: channels-last in and out, the window of one output position is
// [kh][kw][C_in] (the order the im2col rows are made in). The output
// channels are split as recurrent_projection's `gates` x `hidden` units
// (column g * padded + j is output channel g * hidden + j): with 4 gates and
// out_channels % 64 == 0 the product writes the output in place.
//
// Memory: the packed weights and the bias [gates][padded] live in the
// backend region (packed at prepare), or, when the session streams the
// layer's weights, in the graph's WeightStream buffer (packed again just
// before each run: pack_packed_conv). Scratch (the plan's op scratch,
// reserved by build_graph): the band's im2col rows [band_rows][depth]. A
// 1x1 convolution of stride 1 without padding reads the input rows in
// place and needs none.
//
// Threads: a band is split into (row chunk, block) tasks, each computing
// its whole sums; no sum is split, so the bits do not depend on the thread
// count.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "backends/xnnpack/op_view.h"
#include "edgegen/status.h"

typedef struct pthreadpool* pthreadpool_t;

namespace edgegen {
namespace xnnpack {

class MemoryRegion;

struct PackedConv : ConvSizes {
  int64_t depth = 0;                  // kernel_h * kernel_w * in_channels
  int64_t gates = 4, hidden = 0, padded = 0;  // out_channels = gates * hidden, hidden == padded
  int64_t band_rows = 0;              // output positions per band
  bool in_place = false;              // 1x1, stride 1, no padding: the input rows are the matrix
  const float* packed = nullptr;      // backend region: [blocks][depth][gates][16]
  const float* bias = nullptr;        // backend region: [gates][padded]
  float* scratch = nullptr;           // the plan's op scratch: packed_conv_scratch_bytes
  float out_min = -INFINITY, out_max = INFINITY;  // the fused clamp (Relu, Clip)
};

// The convolutions this executor was measured faster than XNNPACK on (an
// Intel Xeon with AVX-512, bench/README.md): groups 1, out_channels % 64
// == 0, windows of >= 512 floats, and a CPU with AVX-512.
bool packed_conv_wins(const OpView& v);

// The sizes of `v`'s convolution; `post` gets the activation the kernel
// cannot fuse (anything but Relu and Clip).
PackedConv packed_conv_plan(const OpView& v, FusedActivation* post);
size_t packed_conv_scratch_bytes(const PackedConv& plan);
size_t packed_conv_region_bytes(const PackedConv& plan);

// Packs the weights and bias into `region` (counting mode: only counts).
Status prepare_packed_conv(const OpView& v, MemoryRegion* region, pthreadpool_t pool, PackedConv* plan);

// Packs the weights and bias into `memory` (packed_conv_region_bytes, 64-byte
// aligned) and points the plan at it; blocks of 16 units on `pool`'s threads
// (null: the calling thread). Allocates nothing: weight streaming calls it
// before each run.
void pack_packed_conv(const OpView& v, float* memory, PackedConv* plan, pthreadpool_t pool);
// Points the plan at weights pack_packed_conv wrote earlier (a
// pre-packed weights file, core/prepacked_weights.h).
void point_packed_conv_at(const float* memory, PackedConv* plan);
// What the packed layout depends on (sizes and blocking, not the values):
// equal keys, interchangeable packings.
uint64_t packed_conv_layout_key(const PackedConv& plan);

// y = clamp(conv(x) + bias), x and y channels-last.
void run_packed_conv(const PackedConv& plan, pthreadpool_t pool, const float* x, float* y);

}  // namespace xnnpack
}  // namespace edgegen
