#include "backends/xnnpack/small_channel_conv1d.h"

#include <pthreadpool.h>

#include <cstring>

#include "backends/xnnpack/convolution_gemm.h"
#include "backends/xnnpack/simd/direct_conv1d.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

namespace {

// Output rows per task: enough work to be worth handing out, chunks fixed
// by the shape alone (not the thread count), and a multiple of every
// variant's row tile (6, 8, 12) so that few rows fall to the one-row tail.
constexpr int64_t kChunkRows = 480;

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// Phase q of a transposed convolution: its taps q, q + s, ... below the kernel size.
int64_t phase_taps(const SmallConv1d& p, int64_t q) { return q < p.kernel_w ? (p.kernel_w - q + p.stride - 1) / p.stride : 0; }

simd::DirectConvRows base_rows(const SmallConv1d& p) {
  simd::DirectConvRows r;
  r.in_channels = p.in_channels;
  r.bias = p.bias;
  r.padded_out = p.padded_out;
  r.out_channels = p.out_channels;
  r.out_min = p.out_min;
  r.out_max = p.out_max;
  r.leaky_slope = p.leaky_slope;
  r.leaky = p.leaky;
  return r;
}

// Output positions [first, end) of one image of a convolution: the ones
// whose taps all fall inside the input in one call, the others one at a
// time with their taps inside (the padding contributes nothing).
void conv_rows(const SmallConv1d& p, const float* image, float* out, int64_t first, int64_t end) {
  simd::DirectConvRows r = base_rows(p);
  const int64_t c = p.in_channels, span = (p.kernel_w - 1) * p.dilation;
  r.tap_step = p.dilation * c;
  const int64_t inner_begin = max64(first, ceil_div(p.pad_left, p.stride));
  const int64_t inner_end = min64(end, floor_div(p.in_w - 1 - span + p.pad_left, p.stride) + 1);
  auto edge = [&](int64_t t) {
    const int64_t start = t * p.stride - p.pad_left;
    const int64_t k_lo = start < 0 ? ceil_div(-start, p.dilation) : 0;
    const int64_t k_hi = start <= p.in_w - 1 ? min64(p.kernel_w, (p.in_w - 1 - start) / p.dilation + 1) : 0;
    simd::DirectConvRows one = r;
    one.taps = k_hi > k_lo ? k_hi - k_lo : 0;
    one.x = one.taps ? image + (start + k_lo * p.dilation) * c : image;
    one.weights = p.packed + (one.taps ? k_lo : 0) * c * p.padded_out;
    one.y = out + t * p.out_channels;
    one.rows = 1;
    simd::direct_conv1d_rows(one);
  };
  if (inner_begin >= inner_end) {
    for (int64_t t = first; t < end; ++t) edge(t);
    return;
  }
  for (int64_t t = first; t < inner_begin; ++t) edge(t);
  r.x = image + (inner_begin * p.stride - p.pad_left) * c;
  r.x_step = p.stride * c;
  r.taps = p.kernel_w;
  r.weights = p.packed;
  r.y = out + inner_begin * p.out_channels;
  r.y_step = p.out_channels;
  r.rows = inner_end - inner_begin;
  simd::direct_conv1d_rows(r);
  for (int64_t t = inner_end; t < end; ++t) edge(t);
}

// A transposed convolution's phase q, its rows (input positions i0 of the
// phase's first tap) [first, end) of one image: output o = q - pad + i0 * s
// takes taps j (kernel index q + j * s) from input i0 - j.
void deconv_rows(const SmallConv1d& p, const float* image, float* out, const float* phase_weights, int64_t q,
                 int64_t first, int64_t end) {
  const int64_t taps = phase_taps(p, q), c = p.in_channels;
  simd::DirectConvRows r = base_rows(p);
  r.tap_step = -c;
  r.x_step = c;
  r.y_step = p.stride * p.out_channels;
  auto output = [&](int64_t i0) { return out + (q - p.pad_left + i0 * p.stride) * p.out_channels; };
  const int64_t inner_begin = max64(first, taps - 1), inner_end = min64(end, p.in_w);
  auto edge = [&](int64_t i0) {
    const int64_t j_lo = max64(0, i0 - p.in_w + 1), j_hi = min64(taps, i0 + 1);
    simd::DirectConvRows one = r;
    one.taps = j_hi > j_lo ? j_hi - j_lo : 0;
    one.x = one.taps ? image + (i0 - j_lo) * c : image;
    one.weights = phase_weights + (one.taps ? j_lo : 0) * c * p.padded_out;
    one.y = output(i0);
    one.rows = 1;
    simd::direct_conv1d_rows(one);
  };
  if (inner_begin >= inner_end) {
    for (int64_t i0 = first; i0 < end; ++i0) edge(i0);
    return;
  }
  for (int64_t i0 = first; i0 < inner_begin; ++i0) edge(i0);
  r.x = image + inner_begin * c;
  r.taps = taps;
  r.weights = phase_weights;
  r.y = output(inner_begin);
  r.rows = inner_end - inner_begin;
  simd::direct_conv1d_rows(r);
  for (int64_t i0 = inner_end; i0 < end; ++i0) edge(i0);
}

// The rows i0 of phase q whose outputs are inside [0, out_w).
void phase_range(const SmallConv1d& p, int64_t q, int64_t* first, int64_t* end) {
  *first = max64(0, ceil_div(p.pad_left - q, p.stride));
  *end = ceil_div(p.out_w - q + p.pad_left, p.stride);
}

// Wide rows: the input rows i0 whose s outputs all lie inside the output
// and whose taps all lie inside the input.
void wide_range(const SmallConv1d& p, int64_t* first, int64_t* end) {
  const int64_t taps = p.kernel_w / p.stride;
  *first = max64(taps - 1, ceil_div(p.pad_left, p.stride));
  *end = min64(p.in_w, floor_div(p.out_w - p.stride + p.pad_left, p.stride) + 1);
  if (*end < *first) *end = *first;
}

// Input rows [first, end) of one image of a transposed convolution with
// wide rows: the inner ones at once, the others phase by phase.
void wide_deconv_rows(const SmallConv1d& p, const float* image, float* out, int64_t first, int64_t end) {
  int64_t inner_begin = 0, inner_end = 0;
  wide_range(p, &inner_begin, &inner_end);
  inner_begin = max64(first, inner_begin);
  inner_end = min64(end, inner_end);
  const float* weights = p.packed;
  for (int64_t q = 0; q < p.stride; ++q) {
    int64_t q_first = 0, q_end = 0;
    phase_range(p, q, &q_first, &q_end);
    q_first = max64(q_first, first);
    q_end = min64(q_end, end);
    if (inner_begin < inner_end) {
      if (q_first < inner_begin) deconv_rows(p, image, out, weights, q, q_first, min64(q_end, inner_begin));
      if (q_end > inner_end) deconv_rows(p, image, out, weights, q, max64(q_first, inner_end), q_end);
    } else if (q_first < q_end) {
      deconv_rows(p, image, out, weights, q, q_first, q_end);
    }
    weights += phase_taps(p, q) * p.in_channels * p.padded_out;
  }
  if (inner_begin >= inner_end) return;
  simd::DirectConvRows r = base_rows(p);
  r.x = image + inner_begin * p.in_channels;
  r.x_step = p.in_channels;
  r.tap_step = -p.in_channels;
  r.taps = p.kernel_w / p.stride;
  r.weights = p.wide_packed;
  r.bias = p.wide_bias;
  r.padded_out = p.wide_padded_out;
  r.out_channels = p.stride * p.out_channels;
  r.y = out + (inner_begin * p.stride - p.pad_left) * p.out_channels;
  r.y_step = p.stride * p.out_channels;
  r.rows = inner_end - inner_begin;
  simd::direct_conv1d_rows(r);
}

// The input rows any phase has: [0, rows_end).
int64_t deconv_rows_end(const SmallConv1d& p) {
  int64_t rows_end = 0;
  for (int64_t q = 0; q < p.stride; ++q) {
    int64_t first = 0, end = 0;
    phase_range(p, q, &first, &end);
    rows_end = max64(rows_end, end);
  }
  return rows_end;
}

struct Task {
  const SmallConv1d* plan;
  const float* x;
  float* y;
  int64_t chunks;  // per image (conv) or per image and phase (transposed)
};

void run_chunk(void* context, size_t index) {
  const Task& task = *static_cast<const Task*>(context);
  const SmallConv1d& p = *task.plan;
  const int64_t i = static_cast<int64_t>(index);
  if (!p.transposed) {
    const int64_t n = i / task.chunks, first = i % task.chunks * kChunkRows;
    conv_rows(p, task.x + n * p.in_w * p.in_channels, task.y + n * p.out_w * p.out_channels, first,
              min64(first + kChunkRows, p.out_w));
    return;
  }
  if (p.wide_rows) {
    const int64_t n = i / task.chunks, first = i % task.chunks * kChunkRows;
    wide_deconv_rows(p, task.x + n * p.in_w * p.in_channels, task.y + n * p.out_w * p.out_channels, first,
                     min64(first + kChunkRows, deconv_rows_end(p)));
    return;
  }
  const int64_t n = i / (task.chunks * p.stride), q = i / task.chunks % p.stride;
  int64_t begin = 0, end = 0;
  phase_range(p, q, &begin, &end);
  const int64_t first = begin + i % task.chunks * kChunkRows;
  if (first >= end) return;
  const float* weights = p.packed;
  for (int64_t k = 0; k < q; ++k) weights += phase_taps(p, k) * p.in_channels * p.padded_out;
  deconv_rows(p, task.x + n * p.in_w * p.in_channels, task.y + n * p.out_w * p.out_channels, weights, q, first,
              min64(first + kChunkRows, end));
}

}  // namespace

bool small_channel_conv1d(const OpView& v) {
  using namespace params;
  const OpCode code = v.code();
  if (code != OpCode::kConv2d && code != OpCode::kConvTranspose2d) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  if ((x.rank != 3 && x.rank != 4) || y.rank != x.rank || w.rank != x.rank) return false;
  if (x.rank == 4 && (x.dims[2] != 1 || w.dims[2] != 1 || y.dims[2] != 1 || v.int_param(kPadTop) != 0 ||
                      v.int_param(kPadBottom) != 0))
    return false;
  if (v.int_param(kGroups) != 1 || v.int_param(kStrideW) < 1 || v.int_param(kDilationW) < 1) return false;
  if (x.dims[1] > kSmallConvMaxChannels || y.dims[1] > kSmallConvMaxChannels) return false;
  if (code == OpCode::kConvTranspose2d) return v.int_param(kDilationW) == 1 && (x.rank == 3 || v.int_param(kOutputPadH) == 0);
  return !gemm_conv(v);
}

SmallConv1d small_conv1d_plan(const OpView& v, FusedActivation* post) {
  using namespace params;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  SmallConv1d p;
  p.transposed = v.code() == OpCode::kConvTranspose2d;
  p.batch = x.dims[0];
  p.in_channels = x.dims[1];
  p.in_w = x.dims[x.rank - 1];
  p.out_channels = y.dims[1];
  p.out_w = y.dims[y.rank - 1];
  p.padded_out = simd::direct_conv_padded_channels(p.out_channels);
  p.kernel_w = w.dims[w.rank - 1];
  p.stride = v.int_param(kStrideW);
  p.dilation = v.int_param(kDilationW);
  p.pad_left = v.int_param(kPadLeft);
  p.wide_rows = p.transposed && p.kernel_w % p.stride == 0;
  p.wide_padded_out = p.wide_rows ? simd::direct_conv_padded_channels(p.stride * p.out_channels) : 0;
  split_activation(v.activation(), &p.out_min, &p.out_max, post);
  if (post->kind == ActivationKind::kLeakyRelu) {
    p.leaky = true;
    p.leaky_slope = post->param0;
    *post = FusedActivation{};
  }
  return p;
}

size_t small_conv1d_floats(const SmallConv1d& p) {
  const int64_t wide = p.wide_rows ? (p.kernel_w / p.stride) * p.in_channels * p.wide_padded_out + p.wide_padded_out : 0;
  return static_cast<size_t>(p.kernel_w * p.in_channels * p.padded_out + p.padded_out + wide);
}

void pack_small_conv1d(const OpView& v, float* memory, SmallConv1d* plan) {
  SmallConv1d& p = *plan;
  const float* w = v.constant(1);
  const int64_t c = p.in_channels, k_size = p.kernel_w, padded = p.padded_out;
  std::memset(memory, 0, small_conv1d_floats(p) * sizeof(float));
  if (!p.transposed) {
    // ONNX [C_out, C_in, k] -> [k][C_in][padded_out]
    for (int64_t o = 0; o < p.out_channels; ++o)
      for (int64_t i = 0; i < c; ++i)
        for (int64_t k = 0; k < k_size; ++k) memory[(k * c + i) * padded + o] = w[(o * c + i) * k_size + k];
  } else {
    // ONNX [C_in, C_out, k] -> per phase q, tap j (k = q + j s): [j][C_in][padded_out]
    float* phase = memory;
    for (int64_t q = 0; q < p.stride; ++q) {
      const int64_t taps = phase_taps(p, q);
      for (int64_t j = 0; j < taps; ++j)
        for (int64_t i = 0; i < c; ++i)
          for (int64_t o = 0; o < p.out_channels; ++o)
            phase[(j * c + i) * padded + o] = w[(i * p.out_channels + o) * k_size + q + j * p.stride];
      phase += taps * c * padded;
    }
  }
  float* bias = memory + k_size * c * padded;
  if (v.has_input(2)) std::memcpy(bias, v.constant(2), static_cast<size_t>(p.out_channels) * sizeof(float));
  p.packed = memory;
  p.bias = bias;
  if (p.wide_rows) {
    float* wide = bias + padded;
    const int64_t taps = k_size / p.stride, wide_padded = p.wide_padded_out;
    for (int64_t j = 0; j < taps; ++j)
      for (int64_t i = 0; i < c; ++i)
        for (int64_t q = 0; q < p.stride; ++q)
          for (int64_t o = 0; o < p.out_channels; ++o)
            wide[(j * c + i) * wide_padded + q * p.out_channels + o] =
                w[(i * p.out_channels + o) * k_size + q + j * p.stride];
    float* wide_bias = wide + taps * c * wide_padded;
    for (int64_t q = 0; q < p.stride; ++q)
      std::memcpy(wide_bias + q * p.out_channels, bias, static_cast<size_t>(p.out_channels) * sizeof(float));
    p.wide_packed = wide;
    p.wide_bias = wide_bias;
  }
}

void run_small_conv1d(const SmallConv1d& p, pthreadpool_t pool, const float* x, float* y) {
  int64_t rows = p.out_w;  // per image, or per image and phase
  if (p.transposed) {
    rows = 0;
    for (int64_t q = 0; q < p.stride; ++q) {
      int64_t first = 0, end = 0;
      phase_range(p, q, &first, &end);
      rows = max64(rows, end - first);
    }
  }
  if (p.wide_rows) rows = deconv_rows_end(p);
  Task task{&p, x, y, (rows + kChunkRows - 1) / kChunkRows};
  const size_t tasks = static_cast<size_t>(p.batch * (p.transposed && !p.wide_rows ? p.stride : 1) * task.chunks);
  if (pool != nullptr && tasks > 1) {
    pthreadpool_parallelize_1d(pool, run_chunk, &task, tasks, 0);
  } else {
    for (size_t i = 0; i < tasks; ++i) run_chunk(&task, i);
  }
}

}  // namespace xnnpack
}  // namespace edgegen
