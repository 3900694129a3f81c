#include "backends/xnnpack/depthwise_conv1d.h"

#include <pthreadpool.h>

#include <cstring>

#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {
namespace {

constexpr int64_t kChunkRows = 16;  // output rows per task

struct Task {
  const DepthwiseConv1d* plan;
  const float* x;
  float* y;
  int64_t chunks;  // per image
};

void run_chunk(void* context, size_t index) {
  const Task& task = *static_cast<const Task*>(context);
  const DepthwiseConv1d& p = *task.plan;
  const int64_t image = static_cast<int64_t>(index) / task.chunks;
  const int64_t first = static_cast<int64_t>(index) % task.chunks * kChunkRows;
  const int64_t end = first + kChunkRows < p.out_w ? first + kChunkRows : p.out_w;
  const size_t channels = p.rows.channels;
  simd::depthwise_rows(p.rows, task.x + static_cast<size_t>(image * p.rows.in_w) * channels,
                       task.y + static_cast<size_t>(image * p.out_w) * channels, first, end);
}

}  // namespace

bool depthwise_conv1d(const OpView& v) {
  using namespace params;
  if (v.code() != OpCode::kConv2d || !v.is_constant(1) || (v.has_input(2) && !v.is_constant(2))) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  if ((x.rank != 3 && x.rank != 4) || w.rank != x.rank || y.rank != x.rank) return false;
  if (x.rank == 4 && (x.dims[2] != 1 || w.dims[2] != 1 || y.dims[2] != 1 || v.int_param(kPadTop) != 0 ||
                      v.int_param(kPadBottom) != 0))
    return false;
  // XNNPACK's depthwise kernels cover 3, 4, 9 and 25 taps (there it was as
  // fast or 10% faster); any other length ran 4-8x slower than this loop
  // (144 channels x 100 frames, Xeon: 5 taps 89 vs 22 us, 15 taps 157 vs
  // 27 us, 31 taps 283 vs 37 us, layout conversions included).
  const int64_t taps = w.dims[w.rank - 1];
  if (taps == 3 || taps == 4 || taps == 9 || taps == 25) return false;
  const int64_t channels = x.dims[1];
  return channels > 1 && v.int_param(kGroups) == channels && w.dims[0] == channels && w.dims[1] == 1 &&
         y.dims[1] == channels && v.int_param(kStrideW) >= 1 && v.int_param(kDilationW) >= 1;
}

DepthwiseConv1d depthwise_conv1d_plan(const OpView& v) {
  using namespace params;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  DepthwiseConv1d p;
  p.batch = x.dims[0];
  p.out_w = y.dims[y.rank - 1];
  p.rows.channels = static_cast<size_t>(x.dims[1]);
  p.rows.in_w = x.dims[x.rank - 1];
  p.rows.kernel = w.dims[w.rank - 1];
  p.rows.stride = v.int_param(kStrideW);
  p.rows.dilation = v.int_param(kDilationW);
  p.rows.pad = v.int_param(kPadLeft);
  return p;
}

size_t depthwise_conv1d_floats(const DepthwiseConv1d& p) {
  return static_cast<size_t>(p.rows.kernel + 1) * p.rows.channels;
}

void pack_depthwise_conv1d(const OpView& v, float* memory, DepthwiseConv1d* plan) {
  DepthwiseConv1d& p = *plan;
  const float* w = v.constant(1);  // [C, 1, (1,) k]
  const size_t channels = p.rows.channels;
  const int64_t kernel = p.rows.kernel;
  for (size_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < kernel; ++k) memory[static_cast<size_t>(k) * channels + c] = w[c * static_cast<size_t>(kernel) + static_cast<size_t>(k)];
  float* bias = memory + static_cast<size_t>(kernel) * channels;
  if (v.has_input(2)) std::memcpy(bias, v.constant(2), channels * sizeof(float));
  else std::memset(bias, 0, channels * sizeof(float));
  p.rows.weights = memory;
  p.rows.bias = bias;
}

void run_depthwise_conv1d(const DepthwiseConv1d& p, pthreadpool_t pool, const float* x, float* y) {
  Task task{&p, x, y, (p.out_w + kChunkRows - 1) / kChunkRows};
  const size_t tasks = static_cast<size_t>(p.batch * task.chunks);
  if (pool != nullptr && tasks > 1) {
    pthreadpool_parallelize_1d(pool, run_chunk, &task, tasks, 0);
  } else {
    for (size_t i = 0; i < tasks; ++i) run_chunk(&task, i);
  }
}

}  // namespace xnnpack
}  // namespace edgegen
