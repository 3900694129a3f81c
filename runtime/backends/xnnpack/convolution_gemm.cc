#include "backends/xnnpack/convolution_gemm.h"

#include <xnnpack.h>

#include <cstring>

#include "backends/xnnpack/simd/direct_conv1d.h"
#include "ops/op_params.h"

namespace edgegen {
namespace xnnpack {

bool gemm_conv(const OpView& v) {
  using namespace params;
  if (v.code() != OpCode::kConv2d) return false;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1));
  const bool one_d = x.rank == 3;
  const int64_t in_h = one_d ? 1 : x.dims[2], kernel_h = one_d ? 1 : w.dims[2];
  const int64_t kernel_w = w.dims[w.rank - 1];
  const bool one_row = v.int_param(kGroups) == 1 && in_h == 1 && kernel_h == 1 && v.int_param(kDilationW) == 1 &&
                       v.int_param(kPadTop) == 0 && v.int_param(kPadBottom) == 0;
  const int64_t window = kernel_w * x.dims[1];
  return one_row && ((x.dims[1] <= 4 && kernel_w >= 16) || (w.dims[0] == 1 && window >= 16 && window <= 4096));
}

ConvGemm conv_gemm_plan(const OpView& v) {
  using namespace params;
  const Shape x = shape_of(v.input(0)), w = shape_of(v.input(1)), y = shape_of(v.output(0));
  ConvGemm plan;
  plan.batch = x.dims[0];
  plan.in_channels = x.dims[1];
  plan.in_w = x.dims[x.rank - 1];
  plan.kernel_w = w.dims[w.rank - 1];
  plan.stride_w = v.int_param(kStrideW);
  plan.pad_left = v.int_param(kPadLeft);
  plan.out_w = y.dims[y.rank - 1];
  plan.out_channels = y.dims[1];
  plan.direct = plan.out_channels == 1 && plan.kernel_w * plan.in_channels <= 4096;
  plan.weights = v.constant(1);
  plan.bias = v.has_input(2) ? v.constant(2) : nullptr;
  const int64_t row_bytes = plan.kernel_w * plan.in_channels * static_cast<int64_t>(sizeof(float));
  int64_t band = static_cast<int64_t>(kConvRowsBudget) / (row_bytes > 0 ? row_bytes : 1);
  if (band < 1) band = 1;
  if (band >= plan.out_w) {
    band = plan.out_w;
  } else {  // evened out, so that the last band is not a sliver
    const int64_t bands = (plan.out_w + band - 1) / band;
    band = (plan.out_w + bands - 1) / bands;
  }
  plan.band_rows = band;
  return plan;
}

size_t conv_gemm_rows_bytes(const ConvGemm& plan) {
  return static_cast<size_t>(plan.band_rows * plan.kernel_w * plan.in_channels) * sizeof(float) + XNN_EXTRA_BYTES;
}

void im2col_rows(const ConvGemm& plan, const float* image, int64_t first, int64_t count, float* rows) {
  const int64_t c = plan.in_channels, row_floats = plan.kernel_w * c;
  for (int64_t r = 0; r < count; ++r) {
    float* row = rows + r * row_floats;
    const int64_t start = (first + r) * plan.stride_w - plan.pad_left;  // input position of tap 0
    int64_t begin = start < 0 ? -start : 0;                              // first tap inside the input
    int64_t end = plan.in_w - start < plan.kernel_w ? plan.in_w - start : plan.kernel_w;
    if (end < begin) end = begin;
    if (begin > 0) std::memset(row, 0, static_cast<size_t>(begin * c) * sizeof(float));
    if (end > begin)
      std::memcpy(row + begin * c, image + (start + begin) * c, static_cast<size_t>((end - begin) * c) * sizeof(float));
    if (end < plan.kernel_w)
      std::memset(row + end * c, 0, static_cast<size_t>((plan.kernel_w - end) * c) * sizeof(float));
  }
}

namespace {

// y[t] = clamp(bias + window(t) . w) for one output channel, `packed` the
// weights [kw][C_in] (the order of a channels-last window). Windows inside
// the input are dotted eight at a time by the vectorized kernel; those over
// the padding here, with their taps inside. Eight partial sums in a fixed
// order: the same bits on every run and thread count.
void run_direct(const ConvGemm& plan, const float* x, float* y, float* packed) {
  const int64_t c = plan.in_channels;
  for (int64_t k = 0; k < plan.kernel_w; ++k)
    for (int64_t i = 0; i < c; ++i) packed[k * c + i] = plan.weights[i * plan.kernel_w + k];
  const float bias = plan.bias != nullptr ? plan.bias[0] : 0.f;
  // Outputs whose window lies inside the input: [inner_begin, inner_end).
  const int64_t inner_begin = (plan.pad_left + plan.stride_w - 1) / plan.stride_w;
  const int64_t last_start = plan.in_w - plan.kernel_w + plan.pad_left;  // of the last inner window, times stride
  int64_t inner_end = last_start >= 0 ? last_start / plan.stride_w + 1 : 0;
  if (inner_end > plan.out_w) inner_end = plan.out_w;
  for (int64_t n = 0; n < plan.batch; ++n) {
    const float* image = x + n * plan.in_w * c;
    float* out = y + n * plan.out_w;
    if (inner_begin < inner_end) {  // the vectorized dot products (simd/direct_conv1d.h)
      simd::DirectDotRows rows;
      rows.x = image + (inner_begin * plan.stride_w - plan.pad_left) * c;
      rows.x_step = plan.stride_w * c;
      rows.count = plan.kernel_w * c;
      rows.w = packed;
      rows.bias = bias;
      rows.y = out + inner_begin;
      rows.rows = inner_end - inner_begin;
      rows.out_min = plan.out_min;
      rows.out_max = plan.out_max;
      simd::direct_dot_rows(rows);
    }
    for (int64_t t = 0; t < plan.out_w; ++t) {
      if (t == inner_begin && inner_begin < inner_end) t = inner_end;  // done above
      if (t >= plan.out_w) break;
      const int64_t start = t * plan.stride_w - plan.pad_left;
      const int64_t begin = start < 0 ? -start : 0;
      const int64_t end = plan.in_w - start < plan.kernel_w ? plan.in_w - start : plan.kernel_w;
      float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      float tail = 0.f;
      if (end > begin) {
        const float* window = image + (start + begin) * c;
        const float* weights = packed + begin * c;
        const int64_t count = (end - begin) * c;
        int64_t j = 0;
        for (; j + 8 <= count; j += 8)
          for (int l = 0; l < 8; ++l) lanes[l] += window[j + l] * weights[j + l];
        for (; j < count; ++j) tail += window[j] * weights[j];
      }
      float sum = bias + ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
                  ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + tail;
      sum = sum < plan.out_min ? plan.out_min : sum;
      out[t] = sum > plan.out_max ? plan.out_max : sum;
    }
  }
}

}  // namespace

Status run_conv_gemm(const ConvGemm& plan, xnn_operator_t op, pthreadpool_t pool, float* rows, const float* x,
                     float* y, const char* op_label) {
  if (plan.direct) {
    run_direct(plan, x, y, rows);
    return Status::ok();
  }
  const bool set_up = plan.batch == 1 && plan.band_rows == plan.out_w;  // in prepare
  for (int64_t n = 0; n < plan.batch; ++n) {
    const float* image = x + n * plan.in_w * plan.in_channels;
    for (int64_t first = 0; first < plan.out_w; first += plan.band_rows) {
      const int64_t count = plan.out_w - first < plan.band_rows ? plan.out_w - first : plan.band_rows;
      im2col_rows(plan, image, first, count, rows);
      float* out = y + (n * plan.out_w + first) * plan.out_channels;
      if (!set_up && xnn_setup_fully_connected_nc_f32(op, static_cast<size_t>(count), rows, out, pool) !=
                         xnn_status_success)
        return Status::error(StatusCode::kInternal, "XNNPACK failed to set up Conv2d '%s'", op_label);
      if (xnn_run_operator(op, pool) != xnn_status_success)
        return Status::error(StatusCode::kInternal, "XNNPACK failed to run Conv2d '%s'", op_label);
    }
  }
  return Status::ok();
}

}  // namespace xnnpack
}  // namespace edgegen
