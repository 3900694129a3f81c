#include "backends/xnnpack/packed_conv.h"

#include <pthreadpool.h>

#include <cstring>

#include "backends/xnnpack/simd/recurrent_step.h"
#include "backends/xnnpack/simd/simd_kernels.h"
#include "core/prepacked_weights.h"
#include "backends/xnnpack/xnnpack_memory.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

constexpr int64_t kBlock = simd::kRecurrentBlock;
// im2col rows per band: 1 MiB keeps a band in L2 beside one block of weights
// and lets a block of weights serve over a hundred rows of a CRNN's 3x3x256.
constexpr int64_t kBandBytes = 1 << 20;
// Rows per task: a multiple of the register tiles (6 rows on AVX-512, 4 or
// fewer elsewhere).
constexpr int64_t kTaskRows = 48;

int64_t blocks_of(const PackedConv& p) { return p.padded / kBlock; }

}  // namespace

bool packed_conv_wins(const OpView& v) {
  using namespace params;
  if (v.code() != OpCode::kConv2d) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  if (x.rank != 4 || w.rank != 4 || v.int_param(kGroups) != 1) return false;
  const int64_t out_channels = w.dims[0], depth = w.dims[1] * w.dims[2] * w.dims[3];
  // Measured (bench/README.md, Intel Xeon): AVX-512's 6-row x 64-column
  // tile beats XNNPACK's 7x16 on windows of 512 floats or more. 17-32
  // channels as 2 x 16 columns only tied it (24 of 32 lanes used), and
  // AVX2's and NEON's projection tiles (1-2 rows) are too small to win:
  // there XNNPACK keeps the convolutions.
  return simd::has_recurrent_step_avx512() && out_channels % 64 == 0 && depth >= 512;
}

PackedConv packed_conv_plan(const OpView& v, FusedActivation* post) {
  PackedConv p;
  static_cast<ConvSizes&>(p) = conv_sizes(v);  // rank 4 (packed_conv_wins)
  p.depth = p.kernel_h * p.kernel_w * p.in_channels;
  // recurrent_projection's columns g * padded + j are output channel
  // g * hidden + j when hidden is whole blocks: the product writes the
  // output in place (packed_conv_wins takes out_channels % 64 == 0).
  p.gates = 4;
  p.hidden = p.out_channels / p.gates;
  p.padded = simd::recurrent_padded_units(p.hidden);
  p.in_place = p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
               p.pad_left == 0 && p.in_h == p.out_h && p.in_w == p.out_w;
  const int64_t positions = p.out_h * p.out_w;
  const int64_t row_bytes = p.in_place ? 0 : p.depth * static_cast<int64_t>(sizeof(float));
  int64_t band = row_bytes > 0 ? kBandBytes / row_bytes : positions;
  if (band < 4) band = 4;
  if (band >= positions) {
    band = positions;
  } else {  // evened out, so that the last band is not a sliver
    const int64_t bands = (positions + band - 1) / band;
    band = (positions + bands - 1) / bands;
  }
  p.band_rows = band;
  split_activation(v.activation(), &p.out_min, &p.out_max, post);
  return p;
}

size_t packed_conv_scratch_bytes(const PackedConv& p) {
  return p.in_place ? 0 : static_cast<size_t>(p.band_rows * p.depth) * sizeof(float);
}

size_t packed_conv_region_bytes(const PackedConv& p) {
  return (simd::recurrent_packed_floats(p.gates, p.hidden, p.depth) + static_cast<size_t>(p.gates * p.padded)) *
         sizeof(float);
}

namespace {

// Input channels per step of the packing: a tile of 64 output channels x
// 16 input channels x the taps is read (576 bytes of each output's row for
// a 3x3) and written (a 64-float run per window float) within L1.
constexpr int64_t kPackChannels = 16;

struct PackTask {
  const PackedConv* plan;
  const float* weights;  // ONNX's [C_out][C_in][kh][kw]
  const float* bias;     // null: none
  float* memory;         // packed_conv_region_bytes
};

// Block `index` of the packing: units [16 block, 16 block + 16) of every
// gate, [k][gate][16] with k = (ky * kw + kx) * C_in + c (a channels-last
// window), and the same units of the bias [gates][padded]. Units past
// hidden are 0. Each block writes only its own floats.
void pack_block(void* argument, size_t index) {
  const PackTask& task = *static_cast<const PackTask*>(argument);
  const PackedConv& p = *task.plan;
  const int64_t block = static_cast<int64_t>(index), taps = p.kernel_h * p.kernel_w;
  const int64_t row = p.gates * kBlock, block_floats = p.depth * row;
  float* out = task.memory + block * block_floats;
  const int64_t first_unit = block * kBlock;
  const int64_t units = p.hidden - first_unit < kBlock ? p.hidden - first_unit : kBlock;
  if (units < kBlock) std::memset(out, 0, static_cast<size_t>(block_floats) * sizeof(float));  // else all written
  for (int64_t c0 = 0; c0 < p.in_channels; c0 += kPackChannels) {
    const int64_t c1 = c0 + kPackChannels < p.in_channels ? c0 + kPackChannels : p.in_channels;
    for (int64_t g = 0; g < p.gates; ++g)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t o = g * p.hidden + first_unit + u;
        const float* w = task.weights + o * p.in_channels * taps;
        float* column = out + g * kBlock + u;
        for (int64_t c = c0; c < c1; ++c)
          for (int64_t t = 0; t < taps; ++t) column[(t * p.in_channels + c) * row] = w[c * taps + t];
      }
  }
  float* bias = task.memory + blocks_of(p) * block_floats;
  for (int64_t g = 0; g < p.gates; ++g)
    for (int64_t u = 0; u < kBlock; ++u) {
      const int64_t j = first_unit + u;
      bias[g * p.padded + j] = task.bias != nullptr && j < p.hidden ? task.bias[g * p.hidden + j] : 0.f;
    }
}

}  // namespace

void pack_packed_conv(const OpView& v, float* memory, PackedConv* plan, pthreadpool_t pool) {
  PackedConv& p = *plan;
  PackTask task{&p, v.constant(1), v.has_input(2) ? v.constant(2) : nullptr, memory};
  pthreadpool_parallelize_1d(pool, pack_block, &task, static_cast<size_t>(blocks_of(p)), 0);
  point_packed_conv_at(memory, &p);
}

void point_packed_conv_at(const float* memory, PackedConv* plan) {
  plan->packed = memory;
  plan->bias = memory + simd::recurrent_packed_floats(plan->gates, plan->hidden, plan->depth);
}

uint64_t packed_conv_layout_key(const PackedConv& p) {
  const int64_t fields[] = {1 /* layout version */, kBlock, p.depth, p.gates, p.hidden, p.padded, p.in_channels,
                            p.kernel_h, p.kernel_w};
  return prepacked_fingerprint(fields, sizeof fields);
}

Status prepare_packed_conv(const OpView& v, MemoryRegion* region, pthreadpool_t pool, PackedConv* plan) {
  float* memory = static_cast<float*>(region_allocate(region, packed_conv_region_bytes(*plan)));
  const char* name = v.op.name() ? v.op.name()->c_str() : "";
  if (region->exhausted())
    return Status::error(StatusCode::kArenaTooSmall,
                         "the arena is too small for the packed weights of Conv2d '%s' "
                         "(Session::arena_bytes_needed tells the total)",
                         name);
  if (memory == nullptr) {
    if (region->counting()) return Status::ok();
    return Status::error(StatusCode::kOutOfMemory, "no memory for the packed weights of Conv2d '%s'", name);
  }
  pack_packed_conv(v, memory, plan, pool);
  return Status::ok();
}

namespace {

// The im2col row of one output position of `image`: its window, zeros
// where it hangs over the padding.
void write_window(const PackedConv& p, const float* image, int64_t position, float* row) {
  const int64_t oy = position / p.out_w, ox = position % p.out_w, c = p.in_channels;
  for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
    const int64_t iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
    for (int64_t kx = 0; kx < p.kernel_w; ++kx, row += c) {
      const int64_t ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
      if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w)
        std::memset(row, 0, static_cast<size_t>(c) * sizeof(float));
      else
        std::memcpy(row, image + (iy * p.in_w + ix) * c, static_cast<size_t>(c) * sizeof(float));
    }
  }
}

// im2col rows [first, first + count) of one band (output positions of one image).
struct Im2colTask {
  const PackedConv* plan;
  const float* image;
  int64_t first;
  float* rows;
};

void im2col_row(void* argument, size_t index) {
  const Im2colTask& task = *static_cast<const Im2colTask*>(argument);
  const int64_t r = static_cast<int64_t>(index);
  write_window(*task.plan, task.image, task.first + r, task.rows + r * task.plan->depth);
}

// One (row chunk, block) of a band's product, its bias added by the
// product, then clamped in place. With one block the task makes its own
// rows first (`image` non-null): one pass over the threads instead of two.
struct ProductTask {
  const PackedConv* plan;
  const float* rows;  // the band's matrix, row r at rows + r * in_stride
  int64_t in_stride, count;
  float* out;         // the band's output, row r at out + r * out_channels
  int64_t row_chunks, chunk_rows;
  const float* image;      // non-null: make rows [first, first + count) of the band from it
  int64_t first_position;  // of the band, in the image
};

void product_chunk(void* argument, size_t index) {
  const ProductTask& task = *static_cast<const ProductTask*>(argument);
  const PackedConv& p = *task.plan;
  const int64_t chunk = static_cast<int64_t>(index) % task.row_chunks;
  const int64_t block = static_cast<int64_t>(index) / task.row_chunks;
  const int64_t first = chunk * task.chunk_rows;
  const int64_t count = task.count - first < task.chunk_rows ? task.count - first : task.chunk_rows;
  if (task.image != nullptr)
    for (int64_t r = first; r < first + count; ++r)
      write_window(p, task.image, task.first_position + r, p.scratch + r * p.depth);
  simd::RecurrentProjection projection;
  projection.rows = count;
  projection.depth = p.depth;
  projection.gates = p.gates;
  projection.padded = p.padded;
  projection.first_block = block;
  projection.blocks = 1;
  projection.packed = p.packed;
  projection.in = task.rows + first * task.in_stride;
  projection.in_stride = task.in_stride;
  projection.bias = p.bias;
  projection.out = task.out + first * p.out_channels;
  projection.out_stride = p.out_channels;
  simd::recurrent_projection(projection);
  if (p.out_min == -INFINITY && p.out_max == INFINITY) return;
  // This task's columns, while they are in L1: units [16 block, 16 block +
  // 16) of every gate.
  // (Vectorized in simd/: this file is built without -O3, and the scalar
  // loop cost 1.5% of the CRNN.)
  for (int64_t g = 0; g < p.gates; ++g)
    simd::clamp_rows(task.out + first * p.out_channels + g * p.hidden + block * kBlock, static_cast<size_t>(count),
                     static_cast<size_t>(p.out_channels), kBlock, p.out_min, p.out_max);
}

}  // namespace

void run_packed_conv(const PackedConv& p, pthreadpool_t pool, const float* x, float* y) {
  const int64_t positions = p.out_h * p.out_w, blocks = blocks_of(p);
  const int64_t threads = pool != nullptr ? static_cast<int64_t>(pthreadpool_get_threads_count(pool)) : 1;
  float* rows = p.scratch;
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* image = x + n * p.in_h * p.in_w * p.in_channels;
    float* out_image = y + n * positions * p.out_channels;
    for (int64_t first = 0; first < positions; first += p.band_rows) {
      const int64_t count = positions - first < p.band_rows ? positions - first : p.band_rows;
      // Row chunks of at most about kTaskRows, as many tasks as a multiple
      // of the threads and rows split evenly between them, so that no
      // thread waits for another's last sliver (a 16x16 UNet level: 256
      // rows as 5 x 48 + 16 left one thread 12% more). Even chunk sizes
      // keep the register tiles whole. The split changes no sum.
      int64_t row_chunks = (count + kTaskRows - 1) / kTaskRows;
      while (threads > 1 && row_chunks * blocks % threads != 0) ++row_chunks;
      const int64_t chunk_rows = ((count + row_chunks - 1) / row_chunks + 1) / 2 * 2;
      ProductTask product{&p,         nullptr, p.depth, count, out_image + first * p.out_channels,
                          (count + chunk_rows - 1) / chunk_rows, chunk_rows, nullptr, first};
      if (p.in_place) {
        product.rows = image + first * p.in_channels;
      } else if (blocks == 1) {
        product.rows = rows;
        product.image = image;
      } else {
        Im2colTask im2col{&p, image, first, rows};
        pthreadpool_parallelize_1d(pool, im2col_row, &im2col, static_cast<size_t>(count), 0);
        product.rows = rows;
      }
      pthreadpool_parallelize_1d(pool, product_chunk, &product, static_cast<size_t>(product.row_chunks * blocks), 0);
    }
  }
}

}  // namespace xnnpack
}  // namespace edgegen
