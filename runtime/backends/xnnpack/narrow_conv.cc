#include "backends/xnnpack/narrow_conv.h"

#include <pthreadpool.h>

#include <cstring>

#include "backends/xnnpack/simd/narrow_conv2d.h"
#include "backends/xnnpack/simd/simd_kernels.h"
#include "core/prepacked_weights.h"
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
// Output channels per block when they do not fit one tile: a tile of 6
// positions x 4 vectors, as packed_conv's.
constexpr int64_t kWideBlock = 64;
// Blocks of 64 from this many output positions and window floats on: a
// 4x4 image was 15% slower than packed_conv, 8x8 ones and a 1x1 of 16
// channels (memory-bound on its output) a few % slower than XNNPACK.
constexpr int64_t kWideMinPositions = 128, kWideMinDepth = 64;
// A wide block's weights are split into parts of at most this many bytes
// (of 2 MiB of L2 per core on the Xeon measured, beside the chunk's input
// rows and sums).
constexpr int64_t kPartBytes = 512 << 10;
// Blocks of 64 over 64-127 positions when the window is this deep (a
// UNet's 8x8 level, 3x3 over 1280-2560 channels): split into parts, the
// weights of a part serve all the positions from L2; packed_conv's GEMM
// read its 59-118 MB once per few rows.
constexpr int64_t kWideDeepMinPositions = 64, kWideDeepMinDepth = 4096;
// Fully connected layers as 1x1 convolutions from this many weights on.
constexpr int64_t kFullyConnectedMinWeights = 64 << 10;

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

// A 2-D transposed convolution whose patches do not overlap: kernel ==
// stride, no padding, no dilation, output exactly input x stride.
bool patch_deconv(const OpView& v) {
  using namespace params;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  if (x.rank != 4 || w.rank != 4 || y.rank != 4 || v.int_param(kGroups) != 1) return false;
  const int64_t sh = v.int_param(kStrideH), sw = v.int_param(kStrideW);
  if (w.dims[2] != sh || w.dims[3] != sw || v.int_param(kDilationH) != 1 || v.int_param(kDilationW) != 1) return false;
  for (size_t pad = kPadTop; pad <= kPadRight; ++pad)
    if (v.int_param(pad) != 0) return false;
  return y.dims[2] == x.dims[2] * sh && y.dims[3] == x.dims[3] * sw && y.dims[1] == w.dims[1];
}

// The 1x1 convolution (to phases * C_out channels) a patch deconvolution runs as.
NarrowConv patch_sizes(const OpView& v) {
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  NarrowConv p;
  p.transposed = true;
  p.batch = x.dims[0];
  p.in_channels = x.dims[1];
  p.in_h = p.out_h = x.dims[2];
  p.in_w = p.out_w = x.dims[3];
  p.kernel_h = p.kernel_w = 1;
  p.phases_h = w.dims[2];
  p.phases_w = w.dims[3];
  p.patch_channels = y.dims[1];
  p.patch_w = y.dims[3];
  p.out_channels = p.phases_h * p.phases_w * p.patch_channels;
  return p;
}

// A fully connected layer [M, K] x [N, K]^T as the 1x1 convolution of K -> N
// channels over M positions (its rows are the channels-last pixels).
bool fully_connected_rows(const OpView& v, int64_t* rows, int64_t* depth, int64_t* out_channels) {
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  if (x.rank < 2 || w.rank != 2 || w.dims[1] != x.dims[x.rank - 1] || w.dims[1] < 1) return false;
  *depth = w.dims[1];
  *out_channels = w.dims[0];
  *rows = x.num_elements() / w.dims[1];
  return true;
}

// Whether another op of the model (any graph) reads `v`'s weight buffer as
// its weights: XNNPACK then packs them once for all (shared_weights.h),
// where a copy per op would be packed here.
bool weights_shared(const OpView& v) {
  const uint32_t buffer = v.input(1).buffer();
  for (size_t g = 0; g < v.model.num_graphs(); ++g) {
    const format::Graph& graph = *v.model.graph(g);
    for (const format::Operator* op : *graph.operators()) {
      if (op == &v.op || op->inputs()->size() < 2 || op->inputs()->Get(1) < 0) continue;
      if (graph.tensors()->Get(static_cast<uint32_t>(op->inputs()->Get(1)))->buffer() == buffer) return true;
    }
  }
  return false;
}

NarrowConv fully_connected_sizes(const OpView& v) {
  NarrowConv p;
  int64_t rows = 0;
  fully_connected_rows(v, &rows, &p.in_channels, &p.out_channels);
  p.batch = 1;
  p.in_h = p.out_h = 1;
  p.in_w = p.out_w = rows;
  p.kernel_h = p.kernel_w = 1;
  return p;
}

bool narrow_conv_wins(const OpView& v) {
  if (!simd::has_narrow_conv2d_avx512()) return false;
  if (v.code() == OpCode::kFullyConnected) {
    // Measured (bench/README.md, the SD-1.5 UNet's attention and
    // feed-forward projections): XNNPACK's GEMM re-reads the weights for
    // every 7 rows, blocks of 64 read a part of them once per 96 rows.
    // Layers of at least 256 KiB of weights over 64 rows or more; small
    // ones, and weights other ops read too (one packed operator for all
    // on XNNPACK), stay there.
    int64_t rows = 0, depth = 0, out_channels = 0;
    if (!fully_connected_rows(v, &rows, &depth, &out_channels)) return false;
    return out_channels % kWideBlock == 0 && rows >= kWideDeepMinPositions && depth >= kWideMinDepth &&
           depth * out_channels >= kFullyConnectedMinWeights && !weights_shared(v);
  }
  if (v.code() == OpCode::kConvTranspose2d) {
    if (!patch_deconv(v)) return false;
    const NarrowConv p = patch_sizes(v);
    // Measured (bench/README.md): XNNPACK's GEMM + col2im ran the DB
    // head's 24 -> 24 and 24 -> 1 at 25% and 4% of the peak.
    return simd::narrow_conv_vectors(p.out_channels, pair_for(p.in_channels, p.out_channels)) <=
           simd::kNarrowConvMaxVectors;
  }
  if (v.code() != OpCode::kConv2d) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  if (x.rank != 4 || w.rank != 4 || v.int_param(params::kGroups) != 1) return false;
  const int64_t out_channels = w.dims[0], in_channels = w.dims[1];
  if (out_channels < 1 || in_channels < 1) return false;
  // A squeeze-excitation's 1x1 convs over one pixel are a matrix-vector
  // product: XNNPACK's is as fast, and a tile of copies is not.
  const Shape y = shape_of(v.output(0));
  if (y.rank != 4 || y.dims[2] * y.dims[3] < kMinPositions) return false;
  // Measured (bench/README.md): blocks of 64 output channels beat
  // packed_conv's im2col + GEMM (no im2col pass: 1.0-1.04x at 1 thread,
  // 1.12-1.16x at 2 on the CRNN) and XNNPACK (the UNet's 64-channel convs)
  // from a few tiles of positions on.
  const int64_t depth = w.dims[1] * w.dims[2] * w.dims[3];
  if (out_channels % kWideBlock == 0 && y.dims[2] * y.dims[3] >= kWideMinPositions && depth >= kWideMinDepth)
    return true;
  if (out_channels % kWideBlock == 0 && y.dims[2] * y.dims[3] >= kWideDeepMinPositions && depth >= kWideDeepMinDepth)
    return true;
  const int64_t pair = pair_for(in_channels, out_channels);
  if (simd::narrow_conv_vectors(out_channels, pair) > simd::kNarrowConvMaxVectors) return false;
  // Output channels that are not whole vectors of 16 (XNNPACK computes
  // the empty lanes), and stems over 1-4 input channels (XNNPACK's kernels
  // reload the window per channel there).
  return out_channels % kNarrowConvLanes != 0 || in_channels <= 4;
}

NarrowConv narrow_conv_plan(const OpView& v, FusedActivation* post) {
  NarrowConv p;
  if (v.code() == OpCode::kConvTranspose2d) p = patch_sizes(v);
  else if (v.code() == OpCode::kFullyConnected) p = fully_connected_sizes(v);
  else static_cast<ConvSizes&>(p) = conv_sizes(v);
  p.pair = pair_for(p.in_channels, p.out_channels);
  p.vectors = simd::narrow_conv_vectors(p.out_channels, p.pair);
  p.block_channels = p.out_channels;
  if (p.vectors > simd::kNarrowConvMaxVectors && !p.transposed) {
    p.pair = 1;
    p.block_channels = kWideBlock;
    p.vectors = kWideBlock / kNarrowConvLanes;
  }
  p.blocks = (p.out_channels + p.block_channels - 1) / p.block_channels;
  p.part_channels = p.in_channels;
  const int64_t tap_bytes = p.kernel_h * p.kernel_w * p.vectors * kNarrowConvLanes * static_cast<int64_t>(sizeof(float));
  if (p.pair == 1 && !p.transposed && p.in_channels * tap_bytes > kPartBytes) {
    // Even parts, whole vectors of channels where there are enough.
    const int64_t parts = (p.in_channels * tap_bytes + kPartBytes - 1) / kPartBytes;
    p.part_channels = round_up((p.in_channels + parts - 1) / parts, 16);
    if (p.part_channels >= p.in_channels) p.part_channels = p.in_channels;
  }
  float low = 0.f, high = 0.f;
  split_activation(v.activation(), &low, &high, post);
  p.clamp = low != -INFINITY || high != INFINITY;
  p.out_min = low;
  p.out_max = high;
  return p;
}

namespace {

int64_t block_weight_floats(const NarrowConv& p) {
  return p.kernel_h * p.kernel_w * (p.in_channels / p.pair) * p.vectors * kNarrowConvLanes;
}
int64_t block_bias_floats(const NarrowConv& p) { return round_up(p.block_channels, kNarrowConvLanes); }

}  // namespace

size_t narrow_conv_floats(const NarrowConv& p) {
  return static_cast<size_t>(p.blocks * (block_weight_floats(p) + block_bias_floats(p)) +
                             p.kernel_w * p.in_channels);
}

namespace {

// Input channels per step of the packing: the block's outputs' rows over
// these channels and every tap are read, and their window floats written,
// within L1.
constexpr int64_t kPackChannels = 16;

struct PackTask {
  const NarrowConv* plan;
  const float* weights;
  const float* bias;  // null: none
  float* memory;      // narrow_conv_floats
};

// Block `index` of the packing: its weights [kh][kw][C_in / pair][vectors *
// 16] and its bias (both zero-padded); block 0 also writes the row of zeros.
// Each block writes only its own floats.
void pack_block(void* argument, size_t index) {
  const PackTask& task = *static_cast<const PackTask*>(argument);
  const NarrowConv& p = *task.plan;
  const int64_t block = static_cast<int64_t>(index);
  const int64_t block_floats = block_weight_floats(p), bias_floats = block_bias_floats(p);
  float* out = task.memory + block * block_floats;
  float* bias = task.memory + p.blocks * block_floats + block * bias_floats;
  const int64_t first = block * p.block_channels;
  const int64_t last = first + p.block_channels < p.out_channels ? first + p.block_channels : p.out_channels;
  // Lanes past the outputs (or their pairs) are zeros; a full block of
  // single-channel lanes writes every float below (a streamed layer saves
  // a pass over its packed weights).
  const bool every_lane = p.pair == 1 && last - first == p.vectors * kNarrowConvLanes;
  if (!every_lane) std::memset(out, 0, static_cast<size_t>(block_floats) * sizeof(float));
  std::memset(bias, 0, static_cast<size_t>(bias_floats) * sizeof(float));
  if (block == 0) std::memset(task.memory + p.blocks * (block_floats + bias_floats), 0,
                              static_cast<size_t>(p.kernel_w * p.in_channels) * sizeof(float));
  // ONNX stores W as [C_out][C_in][kh][kw]; step c of tap (ky, kx) holds
  // input channels c * pair + q in lane o * pair + q.
  const float* w = task.weights;
  const int64_t taps = p.kernel_h * p.kernel_w, steps = p.in_channels / p.pair;
  const int64_t step_floats = p.vectors * kNarrowConvLanes;
  // Transposed: W is [C_in][C_out][kh][kw], and channel (qy * kw + qx) *
  // C_out + o of the 1x1 convolution is W[c][o][qy][qx].
  auto weight = [&](int64_t o, int64_t c, int64_t t) {
    if (!p.transposed) return w[(o * p.in_channels + c) * taps + t];
    const int64_t phase = o / p.patch_channels, channel = o % p.patch_channels;
    return w[(c * p.patch_channels + channel) * p.phases_h * p.phases_w + phase];
  };
  for (int64_t c0 = 0; c0 < p.in_channels; c0 += kPackChannels) {
    const int64_t c1 = c0 + kPackChannels < p.in_channels ? c0 + kPackChannels : p.in_channels;
    for (int64_t o = first; o < last; ++o) {
      const int64_t lane = (o - first) * p.pair;
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t t = 0; t < taps; ++t) out[(t * steps + c / p.pair) * step_floats + lane + c % p.pair] = weight(o, c, t);
    }
  }
  if (task.bias != nullptr) {  // the patch's bias in every phase
    const int64_t channels = p.transposed ? p.patch_channels : p.out_channels;
    for (int64_t o = first; o < last; ++o) bias[o - first] = task.bias[o % channels];
  }
}

}  // namespace

void pack_narrow_conv(const OpView& v, float* memory, NarrowConv* plan, pthreadpool_t pool) {
  NarrowConv& p = *plan;
  PackTask task{&p, v.constant(1), v.has_input(2) ? v.constant(2) : nullptr, memory};
  pthreadpool_parallelize_1d(pool, pack_block, &task, static_cast<size_t>(p.blocks), 0);
  point_narrow_conv_at(memory, &p);
}

void point_narrow_conv_at(const float* memory, NarrowConv* plan) {
  NarrowConv& p = *plan;
  p.packed = memory;
  p.bias = memory + p.blocks * block_weight_floats(p);
  p.zeros = p.bias + p.blocks * block_bias_floats(p);
}

uint64_t narrow_conv_layout_key(const NarrowConv& p) {
  const int64_t fields[] = {1 /* layout version */, kNarrowConvLanes, p.in_channels, p.out_channels, p.kernel_h,
                            p.kernel_w, p.transposed, p.phases_h, p.phases_w, p.patch_channels, p.pair, p.vectors,
                            p.block_channels, p.blocks};
  return prepacked_fingerprint(fields, sizeof fields);
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
  // Chunks of one block one after another: its weights stay in L2.
  const int64_t chunk = static_cast<int64_t>(index) % task.chunks, outer = static_cast<int64_t>(index) / task.chunks;
  const int64_t image = outer / p.blocks, block = outer % p.blocks;
  const int64_t positions = p.out_h * p.out_w, first = chunk * kChunkPositions;
  simd::NarrowConvPositions a;
  a.image = task.x + image * p.in_h * p.in_w * p.in_channels;
  a.in_h = p.in_h, a.in_w = p.in_w, a.in_channels = p.in_channels, a.out_w = p.out_w;
  a.kernel_h = p.kernel_h, a.kernel_w = p.kernel_w, a.stride_h = p.stride_h, a.stride_w = p.stride_w;
  a.dilation_h = p.dilation_h, a.dilation_w = p.dilation_w, a.pad_top = p.pad_top, a.pad_left = p.pad_left;
  a.pair = p.pair, a.vectors = p.vectors;
  a.packed = p.packed + block * block_weight_floats(p);
  a.bias = p.bias + block * block_bias_floats(p);
  a.zeros = p.zeros;
  const int64_t first_channel = block * p.block_channels;
  a.out_channels = p.out_channels - first_channel < p.block_channels ? p.out_channels - first_channel : p.block_channels;
  a.out_stride = p.out_channels;
  a.out = task.y + image * positions * p.out_channels + first_channel;  // the same size as the patches
  a.phases_h = p.phases_h, a.phases_w = p.phases_w, a.patch_channels = p.patch_channels, a.patch_w = p.patch_w;
  a.first = first;
  a.count = positions - first < kChunkPositions ? positions - first : kChunkPositions;
  a.out_min = p.out_min, a.out_max = p.out_max;
  // Part after part over the chunk, the first adding the bias, the last clamping.
  for (int64_t c = 0; c < p.in_channels; c += p.part_channels) {
    a.channel_first = c;
    a.channel_count = p.in_channels - c < p.part_channels ? p.in_channels - c : p.part_channels;
    a.accumulate = c > 0;
    a.clamp = p.clamp && c + a.channel_count == p.in_channels;
    simd::narrow_conv2d_avx512(a);
  }
  if (p.then_attributes != nullptr)  // (blocks == 1: the chunk's rows are whole)
    simd::unary(p.then_opcode, *p.then_attributes, a.out + first * p.out_channels, a.out + first * p.out_channels,
                static_cast<size_t>(a.count * p.out_channels));
}

}  // namespace

void run_narrow_conv(const NarrowConv& p, pthreadpool_t pool, const float* x, float* y) {
  const int64_t positions = p.out_h * p.out_w;
  Task task{&p, x, y, (positions + kChunkPositions - 1) / kChunkPositions};
  const size_t tasks = static_cast<size_t>(p.batch * p.blocks * task.chunks);
  if (pool != nullptr && tasks > 1) {
    pthreadpool_parallelize_1d(pool, run_chunk, &task, tasks, 0);
  } else {
    for (size_t i = 0; i < tasks; ++i) run_chunk(&task, i);
  }
}

}  // namespace xnnpack
}  // namespace edgegen
