#include "backends/xnnpack/narrow_conv.h"

#include <pthreadpool.h>

#include <cstring>

#include "backends/xnnpack/simd/narrow_conv2d.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

using simd::kNarrowConvLanes;

// Positions per task: a multiple of every tile (12, 8, 6, 4 positions), so
// that only an image's last task has a part tile.
constexpr int64_t kChunkPositions = 96;
// Fewer output positions per image than a quarter tile: XNNPACK's.
constexpr int64_t kMinPositions = 4;

int64_t round_up(int64_t value, int64_t step) { return (value + step - 1) / step * step; }

// Pairs of input channels when they fill the vectors better (24 channels:
// 48 lanes = 3 whole vectors instead of 24 of 32 lanes); an odd C_in cannot pair.
int64_t pair_for(int64_t in_channels, int64_t out_channels) {
  if (in_channels % 2 != 0) return 1;
  const int64_t alone = simd::narrow_conv_vectors(out_channels, 1), paired = simd::narrow_conv_vectors(out_channels, 2);
  // Fill out_channels / (16 alone) against 2 out_channels / (16 paired).
  return 2 * alone > paired ? 2 : 1;
}

}  // namespace

bool narrow_conv_wins(const OpView& v) {
  if (v.code() != OpCode::kConv2d || !simd::has_narrow_conv2d_avx512()) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  if (x.rank != 4 || w.rank != 4 || v.int_param(params::kGroups) != 1) return false;
  const int64_t out_channels = w.dims[0], in_channels = w.dims[1];
  if (out_channels < 1 || in_channels < 1) return false;
  // A squeeze-excitation's 1x1 convs over one pixel are a matrix-vector
  // product: XNNPACK's is as fast, and a tile of copies is not.
  const Shape y = shape_of(v.output(0));
  if (y.rank != 4 || y.dims[2] * y.dims[3] < kMinPositions) return false;
  const int64_t pair = pair_for(in_channels, out_channels);
  if (simd::narrow_conv_vectors(out_channels, pair) > simd::kNarrowConvMaxVectors) return false;
  // Measured (bench/README.md): output channels that are not whole vectors
  // of 16 (XNNPACK computes the empty lanes), and stems over 1-4 input
  // channels (XNNPACK's kernels reload the window per channel there).
  return out_channels % kNarrowConvLanes != 0 || in_channels <= 4;
}

NarrowConv narrow_conv_plan(const OpView& v, FusedActivation* post) {
  NarrowConv p;
  static_cast<ConvSizes&>(p) = conv_sizes(v);
  p.pair = pair_for(p.in_channels, p.out_channels);
  p.vectors = simd::narrow_conv_vectors(p.out_channels, p.pair);
  float low = 0.f, high = 0.f;
  split_activation(v.activation(), &low, &high, post);
  p.clamp = low != -INFINITY || high != INFINITY;
  p.out_min = low;
  p.out_max = high;
  return p;
}

size_t narrow_conv_floats(const NarrowConv& p) {
  const int64_t weights = p.kernel_h * p.kernel_w * (p.in_channels / p.pair) * p.vectors * kNarrowConvLanes;
  return static_cast<size_t>(weights + round_up(p.out_channels, kNarrowConvLanes) + p.kernel_w * p.in_channels);
}

void pack_narrow_conv(const OpView& v, float* memory, NarrowConv* plan) {
  NarrowConv& p = *plan;
  std::memset(memory, 0, narrow_conv_floats(p) * sizeof(float));
  // ONNX stores W as [C_out][C_in][kh][kw]; step c of tap (ky, kx) holds
  // input channels c * pair + q in lane o * pair + q.
  const float* w = v.constant(1);
  const int64_t taps = p.kernel_h * p.kernel_w, steps = p.in_channels / p.pair;
  const int64_t step_floats = p.vectors * kNarrowConvLanes;
  for (int64_t o = 0; o < p.out_channels; ++o)
    for (int64_t c = 0; c < p.in_channels; ++c)
      for (int64_t t = 0; t < taps; ++t)
        memory[(t * steps + c / p.pair) * step_floats + o * p.pair + c % p.pair] = w[(o * p.in_channels + c) * taps + t];
  float* bias = memory + taps * steps * step_floats;
  if (v.has_input(2)) std::memcpy(bias, v.constant(2), static_cast<size_t>(p.out_channels) * sizeof(float));
  p.packed = memory;
  p.bias = bias;
  p.zeros = bias + round_up(p.out_channels, kNarrowConvLanes);
}

namespace {

struct Task {
  const NarrowConv* plan;
  const float* x;
  float* y;
  int64_t chunks;  // per image
};

void run_chunk(void* argument, size_t index) {
  const Task& task = *static_cast<const Task*>(argument);
  const NarrowConv& p = *task.plan;
  const int64_t image = static_cast<int64_t>(index) / task.chunks, chunk = static_cast<int64_t>(index) % task.chunks;
  const int64_t positions = p.out_h * p.out_w, first = chunk * kChunkPositions;
  simd::NarrowConvPositions a;
  a.image = task.x + image * p.in_h * p.in_w * p.in_channels;
  a.in_h = p.in_h, a.in_w = p.in_w, a.in_channels = p.in_channels, a.out_w = p.out_w;
  a.kernel_h = p.kernel_h, a.kernel_w = p.kernel_w, a.stride_h = p.stride_h, a.stride_w = p.stride_w;
  a.dilation_h = p.dilation_h, a.dilation_w = p.dilation_w, a.pad_top = p.pad_top, a.pad_left = p.pad_left;
  a.pair = p.pair, a.vectors = p.vectors;
  a.packed = p.packed, a.bias = p.bias, a.zeros = p.zeros;
  a.out_channels = p.out_channels;
  a.out = task.y + image * positions * p.out_channels;
  a.first = first;
  a.count = positions - first < kChunkPositions ? positions - first : kChunkPositions;
  a.clamp = p.clamp, a.out_min = p.out_min, a.out_max = p.out_max;
  simd::narrow_conv2d_avx512(a);
}

}  // namespace

void run_narrow_conv(const NarrowConv& p, pthreadpool_t pool, const float* x, float* y) {
  const int64_t positions = p.out_h * p.out_w;
  Task task{&p, x, y, (positions + kChunkPositions - 1) / kChunkPositions};
  const size_t tasks = static_cast<size_t>(p.batch * task.chunks);
  if (pool != nullptr && tasks > 1) {
    pthreadpool_parallelize_1d(pool, run_chunk, &task, tasks, 0);
  } else {
    for (size_t i = 0; i < tasks; ++i) run_chunk(&task, i);
  }
}

}  // namespace xnnpack
}  // namespace edgegen
